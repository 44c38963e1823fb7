"""The benchmark: `.venv/bin/python -m bench` (see BENCHMARKS.md).

For each database (SQLite, PostgreSQL; a fresh one each):
1. the incident the stream is about, and incidents of 1,000 / 10,000 / 100,000 entries for the
   postmortem timings, written into the database (bench/seed.py);
2. the floor (the no-op app, bench/noop_app.py, on gunicorn gthread with one worker per usable core ×
   4 threads: what Bolt can do on this machine), then the real app (`python app.py` with its default
   settings, SCHEDULER=external), get the same deliveries from a load-generator process
   (bench/load.py) on N keep-alive connections, in phases:
   warm-up · mixed (80% into the incident channel, 20% elsewhere, 2% of incident deliveries sent
   again as Slack's retries, and `/incident start` / `update` at a fixed rate) · incident channel
   only · non-incident channels only;
   extra rows: the no-op with 1 worker × 8 threads, and (SQLite) the real app with the other
   SQLITE_SYNCHRONOUS level, on the incident-only and non-incident phases;
3. the real app then posts the postmortem of the 100,000-entry incident (`/incident postmortem`);
4. every incident-channel message sent is looked up in the timeline (exactly once?);
5. build + render of each large postmortem is timed in a fresh process, its templates compiled first
   as the app compiles them at start-up (bench/render.py).
Then one table; the raw figures go to build/bench/last.json, the app logs beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import func, select

from bench.procs import ROOT, AppProcess
from bench.seed import seed_incident
from bench.stream import INCIDENT, OTHER, StreamBuilder
from bench.texts import PEOPLE
from bot.config import Settings
from bot.domain import lifecycle
from bot.domain.changes import Context
from bot.domain.requests import Declare, Via
from bot.domain.times import utcnow
from storage.db import Database
from storage.incident_store import changing
from storage.migrate import upgrade
from storage.models import TimelineEntry
from tests.support import scratch_databases
from tests.support.slack_requests import SlackRequests
from tests.support.slack_standin import BOT_USER_ID, SlackStandIn

BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
OUT = ROOT / "build" / "bench"
TZ = {"INCIDENT_TIMEZONE": "Asia/Tokyo"}

TARGETS = {  # issue 17
    "incident_ratio": {"sqlite": 0.7, "postgresql": 0.6},
    "other_ratio": 0.95,
    "command_p99_ms": 100.0,
    "commands_measured": 200,
    "render_10k_s": 0.2,
    "render_100k_s": 1.5,
    "render_rss_mb": 200.0,
    "worker_rss_mb": 120.0,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- databases ------------------------------------------------------------------------------------


def scratch_database(backend: str, directory: Path):
    return scratch_databases.scratch_database(backend, directory, prefix="incbot_bench", server=PG_SERVER)


def open_database(url: str) -> Database:
    return Database(Settings.from_env({"DATABASE_URL": url}, need_slack=False).database_url)


def declare_stream_incident(db: Database, channel_id: str, channel_name: str) -> int:
    """The incident the stream talks in, declared by the domain's rule as `/incident start` would,
    already in the channel the stream uses."""
    intent = Declare(title="Benchmark: checkout API returns 502", severity="P1", team_id="T0TEAM",
                     origin_channel="C0GENERAL", channel_id=channel_id, channel_name=channel_name)
    with changing(db) as store:
        context = Context(actor="U0ANA", via=Via.COMMAND, now=utcnow(), tz=ZoneInfo("Asia/Tokyo"))
        return lifecycle.declare(store, intent, context).incident_id


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def floor_env() -> dict:
    """The floor: the no-op app using the machine as well as Bolt can, one worker per core × 4 threads."""
    return {"WEB_SERVER": "gunicorn", "WEB_CONCURRENCY": str(usable_cores()), "WEB_THREADS": "4"}


def other_sync() -> str:
    """The SQLite synchronous level the bot does not use by default (its figure is printed too)."""
    return "NORMAL" if Settings().sqlite_synchronous == "FULL" else "FULL"


# --- one app under load ----------------------------------------------------------------------------


def run_load(app: AppProcess, phases: list, connections: int, workdir: Path) -> list[dict]:
    spec_path, out_path = workdir / f"spec-{app.kind}.pickle", workdir / f"out-{app.kind}.pickle"
    spec = {"host": "127.0.0.1", "port": app.port, "secret": SIGNING_SECRET,
            "app_pids": [app.process.pid, *app.worker_pids()],
            "phases": [p.spec(connections) for p in phases]}
    with open(spec_path, "wb") as f:
        pickle.dump(spec, f)
    subprocess.run([sys.executable, "-m", "bench.load", str(spec_path), str(out_path)], cwd=ROOT, check=True)
    with open(out_path, "rb") as f:
        results = pickle.load(f)
    spec_path.unlink()
    out_path.unlink()
    return results


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summarise(phases: list, results: list[dict]) -> dict:
    """events/s and latencies per phase and class; command acks."""
    out = {}
    for phase, result in zip(phases, results):
        by_class: dict[str, dict] = {}
        for cls in (INCIDENT, OTHER):
            rows = [r for r in result["events"] if phase.events[r[0]][0] == cls]
            ok = [r for r in rows if r[3] == 200]
            by_class[cls] = {
                "sent": len(rows),
                "ok": len(ok),
                "non_200": len(rows) - len(ok),
                "per_s": len(ok) / result["elapsed"],
                "p50_ms": _ms(percentile([r[2] for r in ok], 50)),
                "p99_ms": _ms(percentile([r[2] for r in ok], 99)),
            }
        ok_all = [r for r in result["events"] if r[3] == 200]
        commands = {}
        for kind in ("start", "update", "all"):
            rows = [c for c in result["commands"] if kind == "all" or c[1] == kind]
            if rows:
                lat = [c[3] for c in rows if c[4] == 200]
                commands[kind] = {"sent": len(rows), "non_200": sum(1 for c in rows if c[4] != 200),
                                  "p50_ms": _ms(percentile(lat, 50)), "p99_ms": _ms(percentile(lat, 99)),
                                  "max_ms": _ms(max(lat, default=None))}
        out[phase.name] = {
            "elapsed_s": result["elapsed"],
            "sent": len(result["events"]),
            "per_s": len(ok_all) / result["elapsed"],
            "non_200": len(result["events"]) - len(ok_all),
            "p50_ms": _ms(percentile([r[2] for r in ok_all], 50)),
            "p99_ms": _ms(percentile([r[2] for r in ok_all], 99)),
            "classes": by_class,
            "commands": commands,
            "pool_exhausted": result["exhausted"],
            "client_cpu_pct": 100 * result["client_cpu_s"] / result["elapsed"],
            "app_cpu_pct": 100 * result["cpu"]["app_s"] / result["elapsed"],
            "postgres_cpu_pct": 100 * result["cpu"]["postgres_s"] / result["elapsed"],
            "machine_busy_pct": result["cpu"]["machine_busy_pct"],
            "app_cpu_ms_per_event": 1000 * result["cpu"]["app_s"] / max(1, len(ok_all)),
            "postgres_cpu_ms_per_event": 1000 * result["cpu"]["postgres_s"] / max(1, len(ok_all)),
        }
    return out


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def check_timeline(db: Database, incident_id: int, other_channels: list[str], phases: list, results: list[dict]) -> dict:
    """Every incident-channel message sent to the real app, looked up in its timeline."""
    sent, acked = Counter(), set()
    deliveries = 0
    for phase, result in zip(phases, results):
        for index, _at, _latency, status in result["events"]:
            ts = phase.incident_ts[index]
            if ts is None:
                continue
            deliveries += 1
            sent[ts] += 1
            if status == 200:
                acked.add(ts)
    with db.session() as session:
        stored = Counter(session.scalars(
            select(TimelineEntry.ts).where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "message")
        ))
        elsewhere = session.scalar(select(func.count()).select_from(TimelineEntry).where(
            TimelineEntry.channel_id.in_(other_channels)))
    return {
        "deliveries": deliveries,
        "redeliveries": deliveries - len(sent),
        "messages_sent": len(sent),
        "acked": len(acked),
        "kept": sum(1 for ts in sent if stored[ts] >= 1),
        "duplicates": sum(n - 1 for n in stored.values() if n > 1),
        "lost": sum(1 for ts in acked if stored[ts] == 0),
        "unacked_not_stored": sum(1 for ts in sent if ts not in acked and stored[ts] == 0),
        "unexpected": sum(1 for ts in stored if ts not in sent),
        "stored_from_other_channels": elsewhere,
    }


def app_postmortem(app: AppProcess, standin: SlackStandIn, channel: str, timeout: float = 180.0) -> dict:
    """`/incident postmortem` in a seeded incident's channel: ack time, and time until the file is in Slack."""
    slack = SlackRequests(app.base + "/slack/events", SIGNING_SECRET, standin)
    before = len(standin.calls("files.completeUploadExternal"))
    t0 = time.perf_counter()
    status, _headers, body = slack.slash_command("U0ANA", "postmortem", channel=channel)
    ack = time.perf_counter() - t0
    deadline = time.monotonic() + timeout
    while len(standin.calls("files.completeUploadExternal")) == before:
        if time.monotonic() > deadline or app.process.poll() is not None:
            return {"status": status, "ack_ms": ack * 1000, "posted_s": None, "error": body[:200]}
        time.sleep(0.05)
    return {"status": status, "ack_ms": ack * 1000, "posted_s": time.perf_counter() - t0}


# --- one backend ----------------------------------------------------------------------------------


def run_backend(backend: str, standin: SlackStandIn, args, workdir: Path) -> dict:
    members = [*PEOPLE, BOT_USER_ID]
    with scratch_database(backend, workdir) as url:
        db = open_database(url)
        upgrade(db.engine)
        tag = f"{backend[:2]}{uuid.uuid4().hex[:4]}"
        stream_channel = standin.create_channel(f"inc-bench-{tag}", members=members, creator="U0ANA")
        other_channels = [standin.create_channel(f"{name}-{tag}", members=members, creator="U0ANA")
                          for name in ("random", "deploys", "support", "雑談")]
        incident_id = declare_stream_incident(db, stream_channel, f"inc-bench-{tag}")

        seeded, seed_seconds = {}, {}
        for size in args.sizes:
            name = f"inc-pm-{tag}-{size}"
            channel = standin.create_channel(name, members=members, creator="U0ANA")
            t0 = time.perf_counter()
            seeded[size] = (seed_incident(db, size, channel, name, seed=size), channel)
            seed_seconds[size] = time.perf_counter() - t0
            log(f"{backend}: seeded an incident of {size:,} entries in {seed_seconds[size]:.1f}s")

        builder = StreamBuilder(standin, stream_channel, other_channels, "C0GENERAL", list(PEOPLE), seed=args.seed)
        cap = args.max_rate
        t0 = time.perf_counter()
        phases = [
            builder.phase("warmup", args.warmup, int(cap * args.warmup), 0.8),
            builder.phase("mixed", args.seconds, int(cap * args.seconds), 0.8, redeliver=0.02,
                          command_rate=args.command_rate),
            builder.phase("incident", args.side_seconds, int(2 * cap * args.side_seconds), 1.0),
            builder.phase("other", args.side_seconds, int(2 * cap * args.side_seconds), 0.0),
        ]
        side_phases = [phases[0], phases[2], phases[3]]  # the extra rows: no mixed phase
        runs = [
            # (label, kind, environment, phases): the floor first, then the real app with its defaults.
            ("noop", "noop", floor_env(), phases),
            ("real", "real", {}, phases),
        ]
        if args.extra:
            runs.insert(1, ("noop-1", "noop", {"WEB_SERVER": "gunicorn", "WEB_CONCURRENCY": "1", "WEB_THREADS": "8"},
                            side_phases))
            # The no-op on the real app's server and worker settings (its defaults): what the server alone gives.
            runs.insert(2, ("noop-defaults", "noop", {}, side_phases))
            if backend == "sqlite":
                # The other SQLite synchronous level, on an incident channel of its own so that its
                # messages are new ones (a copy of one already stored would cost no fsync).
                channel2 = standin.create_channel(f"inc-bench-{tag}-2", members=members, creator="U0ANA")
                declare_stream_incident(db, channel2, f"inc-bench-{tag}-2")
                builder2 = StreamBuilder(standin, channel2, other_channels, "C0GENERAL", list(PEOPLE), seed=args.seed + 1)
                other_phases = [builder2.phase("warmup", args.warmup, int(cap * args.warmup), 1.0),
                                builder2.phase("incident", args.side_seconds, int(2 * cap * args.side_seconds), 1.0)]
                runs.append(("real-" + other_sync().lower(), "real", {"SQLITE_SYNCHRONOUS": other_sync()}, other_phases))
        log(f"{backend}: built {sum(len(p.events) for p in phases):,} deliveries in {time.perf_counter() - t0:.1f}s")

        apps: dict[str, dict] = {}
        for label, kind, env, run_phases in runs:
            app = AppProcess(kind, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=standin.base_url,
                             database_url=url, log_path=OUT / f"{backend}-{label}.log", extra_env={**TZ, **env},
                             label=label)
            try:
                app.wait_ready()
                log(f"{backend}: {label} app up on port {app.port} (workers {app.worker_pids()}, {env or 'defaults'}); streaming")
                results = run_load(app, run_phases, args.connections, workdir)
                figures = {"phases": summarise(run_phases, results), "memory_ingest": app.memory.figures(),
                           "env": env, "workers": len(app.worker_pids())}
                if label == "real":
                    figures["timeline"] = check_timeline(db, incident_id, other_channels, run_phases, results)
                    biggest = max(args.sizes)
                    log(f"{backend}: real app posts the postmortem of the {biggest:,}-entry incident")
                    figures["app_postmortem"] = app_postmortem(app, standin, seeded[biggest][1])
                    figures["app_postmortem"]["entries"] = biggest
                figures["memory"] = app.memory.figures()
                figures["log_problems"] = [line for line in app.log().splitlines()
                                           if any(m in line for m in ("Traceback", " ERROR ", "[ERROR]", "CRITICAL"))][:20]
                apps[label] = figures
                p = figures["phases"]
                mixed = p.get("mixed", {})
                log(f"{backend}: {label}: mixed {mixed.get('per_s', 0):.0f}/s, incident {p['incident']['per_s']:.0f}/s, "
                    f"other {p.get('other', {}).get('per_s', 0):.0f}/s; commands p99 "
                    f"{_fmt(mixed.get('commands', {}).get('all', {}).get('p99_ms'))} ms; "
                    f"worker peak {figures['memory_ingest']['worker_mb']:.0f} MB")
            finally:
                app.stop()

        renders = {}
        for size in args.sizes:
            result = subprocess.run([sys.executable, "-m", "bench.render", url, str(seeded[size][0]), "en"],
                                    cwd=ROOT, check=True, capture_output=True, text=True)
            renders[size] = json.loads(result.stdout.strip().splitlines()[-1])
            r = renders[size]
            log(f"{backend}: postmortem of {size:,} entries: build {r['build_s']:.2f}s + render {r['render_s']:.2f}s, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB")
        db.dispose()
    return {"apps": apps, "renders": renders, "seed_seconds": seed_seconds}


# --- the table ------------------------------------------------------------------------------------


def _fmt(value, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def table(results: dict, args) -> tuple[str, list[tuple[str, bool, str]]]:
    backends = list(results)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    header = ["measure"]
    for b in backends:
        floor = results[b]["apps"]["noop"]
        header += [f"{names[b]} floor: no-op, gunicorn {floor['workers']} workers × {floor['env'].get('WEB_THREADS')} threads",
                   f"{names[b]} real (`python app.py`: {results[b]['apps']['real']['workers']} worker(s))", "real ÷ floor"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    verdicts: list[tuple[str, bool, str]] = []

    def row(label: str, cells: list[str]) -> None:
        lines.append("| " + " | ".join([label, *cells]) + " |")

    def per_backend(fn) -> list[str]:
        cells = []
        for b in backends:
            cells += fn(b)
        return cells

    def rate(phase: str, cls: str | None):
        def cells(b: str) -> list[str]:
            def get(kind):
                p = results[b]["apps"][kind]["phases"][phase]
                return p["classes"][cls]["per_s"] if cls else p["per_s"]
            noop, real = get("noop"), get("real")
            return [_fmt(noop), _fmt(real), _fmt(real / noop, 2, "×") if noop else "—"]
        return cells

    def latency(phase: str, cls: str | None):
        def cells(b: str) -> list[str]:
            out = []
            for kind in ("noop", "real"):
                p = results[b]["apps"][kind]["phases"][phase]
                p = p["classes"][cls] if cls else p
                out.append(f"{_fmt(p['p50_ms'], 1)} / {_fmt(p['p99_ms'], 1)}")
            return out + [""]
        return cells

    def command(kind: str):
        def cells(b: str) -> list[str]:
            out = []
            for app in ("noop", "real"):
                c = results[b]["apps"][app]["phases"]["mixed"]["commands"].get(kind)
                out.append(f"{_fmt(c['p50_ms'], 1)} / {_fmt(c['p99_ms'], 1)} (n={c['sent']}, max {_fmt(c['max_ms'])})"
                           if c else "—")
            return out + [""]
        return cells

    row(f"events/s, mixed stream ({args.seconds:g} s: 80% incident channel, 2% retries, commands)", per_backend(rate("mixed", None)))
    row("  of which incident-channel events/s", per_backend(rate("mixed", INCIDENT)))
    row("  of which non-incident-channel events/s", per_backend(rate("mixed", OTHER)))
    row(f"events/s, incident channel only ({args.side_seconds:g} s)", per_backend(rate("incident", None)))
    row(f"events/s, non-incident channels only ({args.side_seconds:g} s)", per_backend(rate("other", None)))

    def against(label: str, phase: str, column: int):
        """An extra run's events/s: in the floor's column (the no-op with 1 worker) or the real's (SQLite's
        other synchronous level), and the real app ÷ it or it ÷ the floor."""
        def cells(b: str) -> list[str]:
            extra = results[b]["apps"].get(label)
            if extra is None:
                return ["—", "—", ""]
            value = extra["phases"][phase]["per_s"]
            if column == 0:
                real = results[b]["apps"]["real"]["phases"][phase]["per_s"]
                return [_fmt(value), "", f"real ÷ it: {real / value:.2f}×"]
            floor = results[b]["apps"]["noop"]["phases"][phase]["per_s"]
            return ["", _fmt(value), _fmt(value / floor, 2, "×")]
        return cells
    if args.extra:
        row("extra: events/s, incident channel only, no-op with 1 worker × 8 threads (the old baseline)",
            per_backend(against("noop-1", "incident", 0)))
        row("extra: events/s, non-incident only, no-op with 1 worker × 8 threads",
            per_backend(against("noop-1", "other", 0)))
        defaults = Settings()
        row(f"extra: events/s, incident channel only, no-op with the real app's defaults ({defaults.web_server}, "
            f"{defaults.web_concurrency} workers × {defaults.web_threads} threads)",
            per_backend(against("noop-defaults", "incident", 0)))
        row("extra: events/s, non-incident only, no-op with the real app's defaults",
            per_backend(against("noop-defaults", "other", 0)))
        row(f"extra: events/s, incident channel only, real app with SQLITE_SYNCHRONOUS={other_sync()} (SQLite only)",
            per_backend(against("real-" + other_sync().lower(), "incident", 1)))
    row("event ack p50 / p99 ms, incident channel (mixed)", per_backend(latency("mixed", INCIDENT)))
    row("event ack p50 / p99 ms, non-incident (mixed)", per_backend(latency("mixed", OTHER)))
    row("event ack p50 / p99 ms, incident channel only", per_backend(latency("incident", None)))
    row("event ack p50 / p99 ms, non-incident only", per_backend(latency("other", None)))
    row(f"`/incident start` ack p50 / p99 ms ({args.command_rate:g}/s with update)", per_backend(command("start")))
    row("`/incident update` ack p50 / p99 ms", per_backend(command("update")))
    row("all commands ack p50 / p99 ms", per_backend(command("all")))

    def non200(b: str) -> list[str]:
        return [str(sum(p["non_200"] + sum(c["non_200"] for k, c in p["commands"].items() if k == "all")
                        for p in results[b]["apps"][k]["phases"].values())) for k in ("noop", "real")] + [""]
    row("non-200 answers (events + commands, all phases)", per_backend(non200))

    def kept(b: str) -> list[str]:
        t = results[b]["apps"]["real"]["timeline"]
        return ["", f"{t['kept']:,} of {t['messages_sent']:,} ({t['redeliveries']:,} retries sent)", ""]
    row("incident-channel messages in the timeline (real app)", per_backend(kept))

    def dupes(b: str) -> list[str]:
        t = results[b]["apps"]["real"]["timeline"]
        return ["", f"{t['duplicates']} / {t['lost']} / {t['stored_from_other_channels']}", ""]
    row("duplicates / lost (acked, not stored) / rows from non-incident channels", per_backend(dupes))

    def memory(key: str):
        def cells(b: str) -> list[str]:
            return [f"{results[b]['apps'][k][key]['master_mb']:.0f} + {results[b]['apps'][k][key]['worker_mb']:.0f}"
                    f" (all {results[b]['apps'][k][key]['total_mb']:.0f})" for k in ("noop", "real")] + [""]
        return cells
    row("peak RSS (VmHWM) master + largest worker MB, streaming", per_backend(memory("memory_ingest")))
    biggest = max(args.sizes)
    row(f"peak RSS master + worker MB, after posting the {biggest:,}-entry postmortem", per_backend(memory("memory")))

    def posted(b: str) -> list[str]:
        pm = results[b]["apps"]["real"]["app_postmortem"]
        return ["", f"{_fmt(pm['posted_s'], 1)} s (ack {_fmt(pm['ack_ms'])} ms)", ""]
    row(f"`/incident postmortem` of {biggest:,} entries: until the file is in Slack", per_backend(posted))

    for size in args.sizes:
        def render(b: str, size=size) -> list[str]:
            r = results[b]["renders"][size]
            return ["", f"{r['build_s']:.2f} + {r['render_s']:.2f} = {r['total_s']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB"
                        f" (templates compiled at start-up: {r['prepare_s']:.2f} s)", ""]
        row(f"postmortem {size:,} entries: build + render (fresh process, templates compiled as at the app's start-up)",
            per_backend(render))

    def cpu_per_event(phase: str):
        def cells(b: str) -> list[str]:
            out = []
            for k in ("noop", "real"):
                p = results[b]["apps"][k]["phases"][phase]
                pg = f" + PG {p['postgres_cpu_ms_per_event']:.2f}" if b == "postgresql" and k == "real" else ""
                out.append(f"{p['app_cpu_ms_per_event']:.2f}{pg}")
            return out + [""]
        return cells
    row("app CPU ms per event, incident channel only (+ PostgreSQL's)", per_backend(cpu_per_event("incident")))
    row("app CPU ms per event, non-incident only (+ PostgreSQL's)", per_backend(cpu_per_event("other")))

    def cpu_use(b: str) -> list[str]:
        out = []
        for k in ("noop", "real"):
            p = results[b]["apps"][k]["phases"]["incident"]
            out.append(f"{p['app_cpu_pct']:.0f}% / {p['postgres_cpu_pct']:.0f}% / {p['client_cpu_pct']:.0f}% "
                       f"/ {p['machine_busy_pct']:.0f}%")
        return out + [""]
    row("CPU app / PostgreSQL / load generator / machine (of 200%), incident only", per_backend(cpu_use))

    # Verdicts (issue 17's targets).
    for b in backends:
        apps = results[b]["apps"]
        n, r = apps["noop"]["phases"], apps["real"]["phases"]
        ratio_incident = r["incident"]["per_s"] / n["incident"]["per_s"]
        ratio_mixed = r["mixed"]["classes"][INCIDENT]["per_s"] / n["mixed"]["classes"][INCIDENT]["per_s"]
        ratio_other = r["other"]["per_s"] / n["other"]["per_s"]
        goal = TARGETS["incident_ratio"][b]
        t = apps["real"]["timeline"]
        verdicts.append((f"{names[b]}: incident-channel ingestion ≥ {goal}× the floor (incident-only phase)",
                         ratio_incident >= goal, f"{ratio_incident:.2f}×"))
        verdicts.append((f"{names[b]}: incident-channel ingestion ≥ {goal}× the floor (mixed stream)",
                         ratio_mixed >= goal, f"{ratio_mixed:.2f}×"))
        verdicts.append((f"{names[b]}: zero loss, zero duplicates",
                         t["kept"] == t["messages_sent"] and t["duplicates"] == 0 and t["lost"] == 0
                         and t["stored_from_other_channels"] == 0,
                         f"kept {t['kept']:,}/{t['messages_sent']:,}, dup {t['duplicates']}, lost {t['lost']}"))
        # (In the mixed stream non-incident events are a fifth of one stream, so their ratio is the
        # stream's: the non-incident phase is where they are measured on their own.)
        verdicts.append((f"{names[b]}: non-incident-channel events ≥ {TARGETS['other_ratio']}× the floor "
                         f"(non-incident phase)", ratio_other >= TARGETS["other_ratio"], f"{ratio_other:.2f}×"))
        cmd = r["mixed"]["commands"]["all"]
        verdicts.append((f"{names[b]}: command ack p99 < {TARGETS['command_p99_ms']:.0f} ms while events stream "
                         f"(≥ {TARGETS['commands_measured']} commands)",
                         cmd["p99_ms"] is not None and cmd["p99_ms"] < TARGETS["command_p99_ms"]
                         and cmd["sent"] >= TARGETS["commands_measured"] and cmd["non_200"] == 0,
                         f"p99 {_fmt(cmd['p99_ms'])} ms, n={cmd['sent']}, non-200 {cmd['non_200']}"))
        renders = results[b]["renders"]
        if 10_000 in renders:
            verdicts.append((f"{names[b]}: postmortem of 10,000 entries < {TARGETS['render_10k_s']} s",
                             renders[10_000]["total_s"] < TARGETS["render_10k_s"], f"{renders[10_000]['total_s']:.2f} s"))
        if 100_000 in renders:
            big = renders[100_000]
            verdicts.append((f"{names[b]}: postmortem of 100,000 entries < {TARGETS['render_100k_s']} s and peak RSS "
                             f"< {TARGETS['render_rss_mb']:.0f} MB",
                             big["total_s"] < TARGETS["render_100k_s"] and big["peak_rss_mb"] < TARGETS["render_rss_mb"],
                             f"{big['total_s']:.2f} s, {big['peak_rss_mb']:.0f} MB"))
        worker = apps["real"]["memory_ingest"]["worker_mb"]
        verdicts.append((f"{names[b]}: peak RSS per worker while streaming < {TARGETS['worker_rss_mb']:.0f} MB",
                         worker < TARGETS["worker_rss_mb"], f"{worker:.0f} MB"))
    return "\n".join(lines), verdicts


def machine() -> dict:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    try:
        with psycopg.connect(PG_SERVER) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        pg = "unreachable"
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kb / 1024 / 1024, 1), "python": platform.python_version(),
            "postgresql": pg, "kernel": platform.release(),
            "cpu": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name")), "?")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=40.0, help="the mixed phase (default 40: 200 commands at 5/s)")
    parser.add_argument("--side-seconds", type=float, default=10.0, help="each single-class phase (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--command-rate", type=float, default=5.0,
                        help="slash commands per second (start and update, alternately) in the mixed phase (default 5)")
    parser.add_argument("--no-extra", dest="extra", action="store_false",
                        help="skip the extra rows (no-op with 1 worker; SQLite's other synchronous level)")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--max-rate", type=float, default=6000.0,
                        help="deliveries prepared per second of the warm-up and mixed phases, twice that for the "
                             "single-class phases (where granian serves over 9,000/s); more than any app here takes")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    info = machine()
    if "postgresql" in args.backends and info["postgresql"] == "unreachable":
        print(f"PostgreSQL at {PG_SERVER} is unreachable (BENCH_PG_URL): start it, or run with --backends sqlite",
              file=sys.stderr)
        return 2
    log(f"machine: {info}")
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="incident-bench-") as tmp, SlackStandIn(token=BOT_TOKEN) as standin:
        for user, name in PEOPLE.items():
            standin.add_user(user, user[2:].lower(), name, tz="Asia/Tokyo")
        for backend in args.backends:
            results[backend] = run_backend(backend, standin, args, Path(tmp))
    text, verdicts = table(results, args)
    took = time.monotonic() - started
    print()
    print(f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB RAM, Python {info['python']}, "
          f"PostgreSQL {info['postgresql']}; {args.connections} connections; bench took {took:.0f} s")
    print()
    print(text)
    print()
    for label, ok, detail in verdicts:
        print(f"- {'MET   ' if ok else 'MISSED'} {label}: {detail}")
    exhausted = [f"{b}/{k}/{name}" for b in results for k in results[b]["apps"]
                 for name, p in results[b]["apps"][k]["phases"].items() if p["pool_exhausted"]]
    if exhausted:
        print(f"\nNote: these phases ran out of prepared deliveries before their time was up (raise --max-rate): "
              f"{', '.join(exhausted)}")
    problems = {f"{b}/{k}": results[b]["apps"][k]["log_problems"] for b in results for k in results[b]["apps"]
                if results[b]["apps"][k]["log_problems"]}
    if problems:
        print("\nErrors in the app logs (see build/bench/*.log):")
        for key, lines in problems.items():
            print(f"  {key}: {lines[:3]}")
    with open(OUT / "last.json", "w") as f:
        json.dump({"machine": info, "args": vars(args), "took_s": took, "results": results,
                   "verdicts": verdicts}, f, indent=1, default=str)
    return 0
