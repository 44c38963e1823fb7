"""Where an app's time goes under the event stream: py-spy on its gunicorn worker.

`.venv/bin/python -m bench.profile [--backend postgresql|sqlite] [--kind real|noop] [--phase incident|other]
[--seconds 10] [--idle]` streams one phase at the app as the benchmark does and samples the worker
with py-spy (installed from bench/requirements-profile.txt on first use). Prints the share of
samples by the package the sampled code was in, and the share spent inside the app's main
steps; the raw stacks go to build/bench/profile-*.txt (flamegraph.pl's input format).
Without --idle only the thread holding the GIL is sampled (where the worker's one core of Python
goes); with it, every thread, waiting or not (wall time).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.procs import ROOT, AppProcess
from bench.run import (BOT_TOKEN, OUT, SIGNING_SECRET, TZ, declare_stream_incident, open_database, run_load,
                       scratch_database, summarise)
from bench.stream import StreamBuilder
from bench.texts import PEOPLE
from storage.migrate import upgrade
from tests.support.slack_standin import BOT_USER_ID, SlackStandIn

REQUIREMENTS = Path(__file__).resolve().parent / "requirements-profile.txt"

# Steps of one request, by a frame on the stack while it runs (first match wins, in order).
STEPS = (
    ("Bolt: listener middleware (provide_services)", r"provide_services \(.*bot/listeners/__init__\.py"),
    ("Bolt: request verification (signature)", r"slack_bolt/middleware/request_verification"),
    ("Bolt: other middleware (ssl check, url verification, ignoring self events…)", r"slack_bolt/middleware/"),
    ("Bolt: listener matching and running", r"slack_bolt/listener"),
    ("Bolt: App.dispatch (rest)", r"dispatch \(.*slack_bolt/app/app\.py"),
    ("bot.slack.server: FormSafeBoltRequest / parsing", r"bot/slack/server\.py"),
    ("gunicorn: HTTP parsing, WSGI, response", r"gunicorn/"),
    ("granian: the WSGI call's Python side, response", r"granian/"),
)
_DRIVER = re.compile(r"(psycopg|/sqlite3/|do_execute \(|do_commit \(|do_rollback \()")


def step(frames: list[str]) -> str:
    """What part of handling a request a sampled stack is in."""
    joined = ";".join(frames)
    driver = bool(_DRIVER.search(frames[-1]))
    if "_sqlite_begin_immediate (" in joined:
        return ("unit of work: BEGIN IMMEDIATE (SQLite: waiting for the write lock)" if driver
                else "unit of work: begin (SQLAlchemy)")
    if "IncidentChannels.incident_id (" in joined:
        return "is this an incident channel? (cache, or a SELECT) — " + ("in the driver / database" if driver else "Python")
    if "record_messages (" in joined or "TimelineWriter." in joined:
        if driver:
            return "store the message: INSERT … ON CONFLICT DO NOTHING and commit — in the driver / database"
        if "record_messages (" in joined:
            return "store the message: INSERT — SQLAlchemy execution"
        return "store the message: connection, commit, group-commit hand-off — SQLAlchemy / Python"
    if "edit_message (" in joined or "delete_message (" in joined or "record_message (" in joined:
        return "edit / delete / fetched message: session unit of work"
    if "on_message (" in joined:
        return "on_message (rest: parsing the event)"
    for name, pattern in STEPS:
        if re.search(pattern, joined):
            return name
    return "other (mostly partial stacks py-spy could not place: DB calls, thread pool)"


PACKAGES = (
    ("sqlalchemy", "sqlalchemy/"), ("psycopg", "psycopg"), ("sqlite3", "sqlite3/"), ("slack_bolt", "slack_bolt/"),
    ("slack_sdk", "slack_sdk/"), ("gunicorn", "gunicorn/"), ("json", "json/"), ("bot", "/bot/"),
    ("storage", "/storage/"), ("logging", "logging/"), ("concurrent/threading", "threading.py"),
    ("concurrent/threading", "concurrent/"), ("hmac/hashlib", "hmac.py"), ("http/urllib/email", "http/"),
    ("http/urllib/email", "urllib/"), ("http/urllib/email", "email/"), ("copy", "copy.py"),
)


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True)
        found = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    return found


def analyse(raw: Path, top: int = 25) -> str:
    stacks: list[tuple[list[str], int]] = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            stacks.append((stack.split(";"), int(count)))
    total = sum(n for _, n in stacks) or 1
    steps, packages, leaves = Counter(), Counter(), Counter()
    for frames, n in stacks:
        steps[step(frames)] += n
        leaf = frames[-1]
        packages[next((name for name, needle in PACKAGES if needle in leaf), "other")] += n
        leaves[re.sub(r"\s+\(/.*?([^/]+/[^/]+\.py):\d+\)", r" (\1)", leaf)] += n
    lines = [f"{total:,} samples", "", "by step of the request (innermost matching frame on the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in steps.most_common()]
    lines += ["", "by package of the code running at the sample (self time):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in packages.most_common()]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in leaves.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--kind", default="real", choices=("real", "noop"))
    parser.add_argument("--phase", default="incident", choices=("incident", "other"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--idle", action="store_true", help="count waiting threads too (wall time, not CPU)")
    args = parser.parse_args(argv)
    spy = py_spy()
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"profile-{args.backend}-{args.kind}-{args.phase}{'-idle' if args.idle else ''}.txt"
    with tempfile.TemporaryDirectory(prefix="incident-bench-") as tmp, SlackStandIn(token=BOT_TOKEN) as standin:
        for user, name in PEOPLE.items():
            standin.add_user(user, user[2:].lower(), name, tz="Asia/Tokyo")
        members = [*PEOPLE, BOT_USER_ID]
        with scratch_database(args.backend, Path(tmp)) as url:
            db = open_database(url)
            upgrade(db.engine)
            channel = standin.create_channel("inc-profile", members=members, creator="U0ANA")
            others = [standin.create_channel(n, members=members, creator="U0ANA") for n in ("random", "deploys")]
            declare_stream_incident(db, channel, "inc-profile")
            builder = StreamBuilder(standin, channel, others, "C0GENERAL", list(PEOPLE), seed=7)
            warmup = builder.phase("warmup", 1.0, 2500, 0.8)
            phase = builder.phase(args.phase, args.seconds, int(2500 * args.seconds), 1.0 if args.phase == "incident" else 0.0)
            app = AppProcess(args.kind, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=standin.base_url,
                             database_url=url, log_path=OUT / f"profile-{args.kind}.log", extra_env=TZ)
            try:
                app.wait_ready()
                worker = app.worker_pids()[0]
                run_load(app, [warmup], args.connections, Path(tmp))
                command = [spy, "record", "--pid", str(worker), "--duration", str(int(args.seconds)), "--rate", "250",
                           "--format", "raw", "--full-filenames", "--output", str(raw), "--nonblocking"]
                command.append("--idle" if args.idle else "--gil")
                spying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(0.5)
                results = run_load(app, [phase], args.connections, Path(tmp))
                spying.wait(timeout=60)
                figures = summarise([phase], results)[phase.name]
            finally:
                app.stop()
                db.dispose()
    print(f"{args.kind} app on {args.backend}, {args.phase} phase: {figures['per_s']:.0f} events/s, "
          f"app CPU {figures['app_cpu_ms_per_event']:.2f} ms per event, PostgreSQL "
          f"{figures['postgres_cpu_ms_per_event']:.2f} ms; py-spy {'wall (--idle)' if args.idle else 'CPU'} samples of the worker:")
    print(analyse(raw))
    print(f"\nraw stacks: {raw.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
