"""The bot as a real process: `python app.py` (or another entry point) on a free loopback port.

Shared by the multi-instance and crash tests (tests/test_instances.py) and the benchmark
(bench/procs.py). Each process runs in a session of its own, so a signal to its group reaches
the gunicorn worker too, as a crash of the machine would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The bot's own settings: none may leak from the caller's environment into a process under test.
OUR_SETTINGS = ("SLACK_", "INCIDENT_", "DATABASE_URL", "POSTMORTEM_", "REACTION_", "NUDGE_", "WEB_", "PORT", "SCHEDULER",
                "LOG_LEVEL", "LEAD_NUDGE", "CLOCK_POLL", "TARGET_", "ALERT_", "PAGERDUTY_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`python <argv>` serving HTTP on a free port with `env` over a clean environment; output to `log_path`."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, argv: tuple[str, ...] = ("app.py",)):
        self.name = name
        self.port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith(OUR_SETTINGS)}
        clean.update(PORT=str(self.port), PYTHONUNBUFFERED="1", **env)
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=clean, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> "AppProcess":
        """Until /healthz answers; fails with the process's log if it exits or never comes up."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, HTTPException, OSError):
                pass
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"{self.name} never came up:\n{self.log()}"
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown, no flushing, nothing finishes."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


def children(pid: int) -> list[int]:
    """The child processes of `pid` (a gunicorn master's workers)."""
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
