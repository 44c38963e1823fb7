"""The real Prometheus Alertmanager, run by a test on loopback, and a relay between it and the bot.

`Alertmanager` starts the Debian package's binary (`prometheus-alertmanager`; scripts/test installs it
when missing and it can) with a generated configuration: one route whose receiver is a webhook with
a bearer token, short group_wait / group_interval / repeat_interval, clustering off, storage in a
temporary directory. Alerts are posted to its own API, `/api/v2/alerts`, as Prometheus posts them.

`Relay` sits where the receiver's URL points: it records each delivery Alertmanager makes, forwards it
to the bot, and passes the bot's answer back, or, when told, answers 500 after the bot has stored
the notification, so Alertmanager retries a notification that was in fact kept (an acknowledgement
lost on the way back).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.app_processes import free_port

BINARIES = ("prometheus-alertmanager", "alertmanager")


def binary() -> str | None:
    return next((found for name in BINARIES if (found := shutil.which(name))), None)


@dataclass
class Delivery:
    body: dict
    authorization: str
    status: int  # what Alertmanager was answered
    at: float = field(default_factory=time.monotonic)


class Relay:
    """Alertmanager → here → the bot. `fail_after_forwarding(n)` answers the next n deliveries 500."""

    def __init__(self, target: str):
        self.target = target
        self.deliveries: list[Delivery] = []
        self._fail = 0
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorization = self.headers.get("Authorization", "")
                request = urllib.request.Request(relay.target, data=raw, method="POST", headers={
                    "Content-Type": "application/json", "Authorization": authorization})
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, answer = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, answer = error.code, error.read()
                with relay._lock:
                    if relay._fail and status == 200:
                        relay._fail -= 1
                        status, answer = 500, b'{"relay": "the answer was lost on the way back"}'
                    relay.deliveries.append(Delivery(json.loads(raw), authorization, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/alerts/alertmanager"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def fail_after_forwarding(self, times: int = 1) -> None:
        with self._lock:
            self._fail += times

    def seen(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Alertmanager:
    def __init__(self, directory: Path, receiver_url: str, token: str, *, group_by: tuple[str, ...] = ("alertname",),
                 group_wait: str = "1s", group_interval: str = "2s", repeat_interval: str = "4s"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = directory / "alertmanager.yml"
        # JSON is YAML: the configuration the README shows, with test timings.
        config.write_text(json.dumps({
            "route": {
                "receiver": "incident-bot", "group_by": list(group_by), "group_wait": group_wait,
                "group_interval": group_interval, "repeat_interval": repeat_interval,
            },
            "receivers": [{
                "name": "incident-bot",
                "webhook_configs": [{
                    "url": receiver_url, "send_resolved": True,
                    "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
                }],
            }],
        }, indent=2))
        self.log_path = directory / "alertmanager.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary(), f"--config.file={config}", f"--storage.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", f"--web.external-url={self.url}",
             "--cluster.listen-address=", "--log.level=debug"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> "Alertmanager":
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert self.process.poll() is None, f"alertmanager exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"alertmanager never became ready:\n{self.log()}"
            time.sleep(0.1)

    def post_alerts(self, alerts: list[dict]) -> None:
        """POST /api/v2/alerts, as Prometheus does: labels, annotations, startsAt, endsAt, generatorURL."""
        request = urllib.request.Request(self.url + "/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.read()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
