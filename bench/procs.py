"""The app processes under test, started as tests/test_instances.py starts them, and their memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables of the bot that must not leak from the caller's environment into the processes under test.
_OURS = ("SLACK_", "INCIDENT_", "DATABASE_URL", "POSTMORTEM_", "REACTION_", "NUDGE_", "WEB_", "PORT", "SCHEDULER",
         "LOG_LEVEL", "LEAD_NUDGE", "CLOCK_POLL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`python app.py` (kind "real") or `python -m bench.noop_app` (kind "noop") on a free loopback port.

    Both get the same environment (SCHEDULER=external as the Procfile's web process) and gunicorn's
    defaults from bot/server.py: one gthread worker, 8 threads. Each runs in its own session so
    stop() reaches the gunicorn worker too.
    """

    def __init__(self, kind: str, *, bot_token: str, signing_secret: str, api_url: str, database_url: str,
                 log_path: Path, extra_env: dict | None = None):
        self.kind = kind
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
        env.update(
            SLACK_BOT_TOKEN=bot_token,
            SLACK_SIGNING_SECRET=signing_secret,
            SLACK_API_URL=api_url,
            DATABASE_URL=database_url,
            SCHEDULER="external",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            **(extra_env or {}),
        )
        argv = [sys.executable, "app.py"] if kind == "real" else [sys.executable, "-m", "bench.noop_app"]
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        self.memory = MemorySampler(self.process.pid)

    def wait_ready(self, timeout: float = 60.0) -> "AppProcess":
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, HTTPException, OSError):
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} app exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} app never came up:\n{self.log()}")
            time.sleep(0.1)
        self.memory.start()
        return self

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        self.memory.stop()
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except (OSError, ValueError):
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
        return found


def status_kb(pid: int, field: str) -> int | None:
    """A `kB` line of /proc/<pid>/status (VmHWM: peak resident set; VmRSS: now)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class MemorySampler:
    """Polls VmHWM of the gunicorn master and its workers; keeps each pid's highest figure."""

    def __init__(self, master_pid: int, interval: float = 0.25):
        self.master = master_pid
        self.interval = interval
        self.peaks: dict[int, int] = {}  # pid -> VmHWM kB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vmhwm", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)

    def sample(self) -> None:
        for pid in [self.master, *children(self.master)]:
            hwm = status_kb(pid, "VmHWM")
            if hwm is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def figures(self) -> dict:
        """master, worker (the largest), and master + workers, in MB."""
        self.sample()
        master = self.peaks.get(self.master, 0)
        workers = [kb for pid, kb in self.peaks.items() if pid != self.master]
        return {
            "master_mb": master / 1024,
            "worker_mb": max(workers, default=0) / 1024,
            "total_mb": (master + sum(workers)) / 1024,
        }
