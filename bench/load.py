"""The load generator: a process of its own, so its work never shares a GIL with the stand-in or the app.

`python -m bench.load SPEC OUT` reads the prepared deliveries (bench/stream.py builds them) from
the pickle SPEC and, phase by phase, sends them to the app on N keep-alive connections, each
signed at send time with Slack's v0 scheme (as tests/support/slack_requests.py signs), while one
scheduler sends slash commands at a fixed rate on connections of their own. Every delivery's
send time, latency and status goes to the pickle OUT.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import os
import pickle
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
PATH = "/slack/events"


class Sender:
    """One keep-alive HTTP/1.1 connection; reconnects after a failure or a `Connection: close`."""

    def __init__(self, host: str, port: int, secret: bytes):
        self.host, self.port, self.secret = host, port, secret
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, content_type: str, retry_num: int | None = None) -> int | None:
        timestamp = int(time.time())
        signature = "v0=" + hmac.new(self.secret, b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
        }
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.conn.request("POST", PATH, body, headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                # A keep-alive connection the server closed while idle: send again on a new one,
                # once, only if nothing can have reached the app (RemoteDisconnected before a reply
                # could mean it did, so that counts as a failure the table shows).
                self.close()
                if attempt == 2 or not isinstance(error, BrokenPipeError):
                    return None
            except (OSError, http.client.HTTPException):
                self.close()
                return None
        return None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_phase(spec: dict, phase: dict) -> dict:
    host, port, secret = spec["host"], spec["port"], spec["secret"].encode()
    events = phase["events"]
    commands = phase.get("commands") or []
    interval = phase.get("command_interval") or 0
    seconds = phase["seconds"]
    next_event = itertools.count()
    results: list = []  # (index, sent_at, latency, status)
    command_results: list = []  # (index, kind, sent_at, latency, status)
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds
    exhausted = threading.Event()

    def stream() -> None:
        sender = Sender(host, port, secret)
        mine = []
        try:
            while time.perf_counter() < deadline:
                i = next(next_event)
                if i >= len(events):
                    exhausted.set()
                    break
                _cls, body, retry = events[i]
                t0 = time.perf_counter()
                status = sender.post(body, "application/json", retry)
                mine.append((i, t0 - start, time.perf_counter() - t0, status))
        finally:
            sender.close()
            with lock:
                results.extend(mine)

    local = threading.local()

    def command(k: int) -> None:
        sender = getattr(local, "sender", None)
        if sender is None:
            sender = local.sender = Sender(host, port, secret)
        kind, body = commands[k]
        t0 = time.perf_counter()
        status = sender.post(body, "application/x-www-form-urlencoded")
        with lock:
            command_results.append((k, kind, t0 - start, time.perf_counter() - t0, status))

    threads = [threading.Thread(target=stream, name=f"stream-{n}") for n in range(phase["connections"])]
    for thread in threads:
        thread.start()
    if commands and interval:
        # Open loop: the k-th command goes at start + (k + 0.5) * interval whatever the answers do.
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="command") as pool:
            for k in range(len(commands)):
                at = start + (k + 0.5) * interval
                if at >= deadline:
                    break
                time.sleep(max(0.0, at - time.perf_counter()))
                pool.submit(command, k)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {
        "name": phase["name"],
        "seconds": seconds,
        "elapsed": elapsed,
        "events": sorted(results),
        "commands": sorted(command_results),
        "exhausted": exhausted.is_set(),
    }


def _ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return 0


def _named(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def cpu_snapshot(spec: dict) -> dict:
    """CPU ticks so far of the app's processes, of every PostgreSQL process, and of the machine."""
    with open("/proc/stat") as f:
        machine = [int(v) for v in f.readline().split()[1:]]
    idle = machine[3] + machine[4]
    return {
        "app": sum(_ticks(pid) for pid in spec.get("app_pids", [])),
        "postgres": sum(_ticks(pid) for pid in _named("postgres")),
        "busy": sum(machine) - idle,
        "total": sum(machine),
    }


def cpu_used(before: dict, after: dict) -> dict:
    hz = os.sysconf("SC_CLK_TCK")
    return {
        "app_s": (after["app"] - before["app"]) / hz,
        "postgres_s": (after["postgres"] - before["postgres"]) / hz,
        "machine_busy_pct": 100 * (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"]) * os.cpu_count(),
    }


def main(argv: list[str]) -> int:
    # Short GIL hand-offs: a thread whose answer arrived should not wait 5 ms for the others.
    sys.setswitchinterval(0.0005)
    with open(argv[1], "rb") as f:
        spec = pickle.load(f)
    out = []
    for phase in spec["phases"]:
        cpu0, machine0 = resource.getrusage(resource.RUSAGE_SELF), cpu_snapshot(spec)
        result = run_phase(spec, phase)
        cpu1, machine1 = resource.getrusage(resource.RUSAGE_SELF), cpu_snapshot(spec)
        result["client_cpu_s"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        result["cpu"] = cpu_used(machine0, machine1)
        out.append(result)
        if phase.get("pause"):
            time.sleep(phase["pause"])
    with open(argv[2], "wb") as f:
        pickle.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
