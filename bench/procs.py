"""The app processes under test (tests/support/app_processes.py, as the multi-instance tests start them) and their memory."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.support import app_processes
from tests.support.app_processes import ROOT, children

__all__ = ["ROOT", "AppProcess", "MemorySampler"]


class AppProcess(app_processes.AppProcess):
    """`python app.py` (kind "real") or `python -m bench.noop_app` (kind "noop"), with its memory sampled.

    Both get the same environment (SCHEDULER=external as the Procfile's web process); `extra_env`
    sets what differs (the floor's WEB_CONCURRENCY and WEB_THREADS, SQLITE_SYNCHRONOUS). `label`
    names the run in logs and tables ("noop", "noop-1", "real", "real-normal").
    """

    def __init__(self, kind: str, *, bot_token: str, signing_secret: str, api_url: str, database_url: str,
                 log_path: Path, extra_env: dict | None = None, label: str | None = None):
        self.kind = label or kind
        env = dict(SLACK_BOT_TOKEN=bot_token, SLACK_SIGNING_SECRET=signing_secret, SLACK_API_URL=api_url,
                   DATABASE_URL=database_url, SCHEDULER="external", **(extra_env or {}))
        argv = ("app.py",) if kind == "real" else ("-m", "bench.noop_app")
        super().__init__(f"{kind} app", env, log_path, argv)
        self.memory = MemorySampler(self.process.pid)

    def wait_ready(self, timeout: float = 60.0) -> "AppProcess":
        super().wait_ready(timeout)
        self.memory.start()
        return self

    def stop(self) -> None:
        self.memory.stop()
        super().stop(timeout=20)


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
