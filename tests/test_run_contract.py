"""`python app.py` as operators run it: configuration errors, HTTP serving, signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.app_processes import OUR_SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_SETTINGS)}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    "settings, named",
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "INCIDENT_TIMEZONE": "Mars/Olympus"}, "INCIDENT_TIMEZONE"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "PORT": "eighty"}, "PORT"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "INCIDENT_ANNOUNCE_CHANNEL": "#incidents"}, "INCIDENT_ANNOUNCE_CHANNEL"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "POSTMORTEM_LANGUAGE": "fr"}, "POSTMORTEM_LANGUAGE"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "BOT_LANGUAGE": "jp"}, "BOT_LANGUAGE"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "REACTION_DETECTED": "fire,pushpin"}, "REACTION_DETECTED"),
        # The operator set REACTION_DETECTED; :mag: is REACTION_IDENTIFIED's default.
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "REACTION_DETECTED": "fire,mag"}, "REACTION_DETECTED"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "SLACK_API_TIMEOUT": "0"}, "SLACK_API_TIMEOUT"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "NUDGE_MINUTES_P1": "soon"}, "NUDGE_MINUTES_P1"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "POSTMORTEM_DUE_DAYS": "-1"}, "POSTMORTEM_DUE_DAYS"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "SCHEDULER": "cron"}, "SCHEDULER"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "WEB_CONCURRENCY": "abc"}, "WEB_CONCURRENCY"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "WEB_THREADS": "0"}, "WEB_THREADS"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(settings, named):
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=_env(**settings), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"configuration error: {named}\b", lines[0]), result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signed_post(url: str, body: bytes, secret: str, timestamp: int | None = None) -> tuple[int, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_python_app_py_serves_slack_on_port_at_slack_events(tmp_path, standin):
    port = _free_port()
    env = _env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=standin.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        PORT=str(port),
        # gunicorn would put its control socket under $HOME (one path per user, shared by every instance).
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "home").mkdir()
    env.pop("XDG_RUNTIME_DIR", None)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    assert response.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, "".join(lines)
                assert time.monotonic() < deadline, "the server never came up"
                time.sleep(0.2)
        assert list((tmp_path / "home").iterdir()) == [], "gunicorn made a control socket"
        challenge = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"}).encode()
        status, body = _signed_post(base + "/slack/events", challenge, SIGNING_SECRET)
        assert status == 200 and "c-123" in body
        # A wrong signature or a stale timestamp is refused and never processed.
        assert _signed_post(base + "/slack/events", challenge, "wrong-secret")[0] == 401
        assert _signed_post(base + "/slack/events", challenge, SIGNING_SECRET, timestamp=int(time.time()) - 600)[0] == 401
        # Stop it once every worker has started: granian kills a worker asked to stop while it is still
        # starting (after 10 s, with a WARNING), which a stop within milliseconds of the start can meet.
        def started():
            return sum("Started worker-" in line for line in lines) >= max(1, sum("Spawning worker-" in line for line in lines))

        while not started() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=5)
        output = "".join(lines)
    assert "HTTP on port" in output and "time zone UTC" in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output
    # Bolt warned at every start when handed a client while SLACK_BOT_TOKEN was set.
    assert "WARNING" not in output and "will be unused" not in output, output


def test_migrate_command_prepares_an_empty_database(tmp_path):
    env = _env(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    result = subprocess.run([sys.executable, "app.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "up to date" in result.stdout, result.stderr


def test_two_instances_on_one_host_share_no_control_socket(tmp_path):
    """gunicorn's control socket was one path per user: the second instance took over the first's."""
    from tests.support.app_processes import AppProcess
    from tests.support.slack_standin import SlackStandIn

    with SlackStandIn(token=BOT_TOKEN) as slack:
        env = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.base_url,
                   DATABASE_URL=f"sqlite:///{tmp_path / 'shared.db'}", HOME=str(tmp_path), XDG_RUNTIME_DIR="",
                   SCHEDULER="external")
        instances = [AppProcess(name, env, tmp_path / f"{name}.log") for name in ("first", "second")]
        try:
            for instance in instances:
                instance.wait_ready()
                with urllib.request.urlopen(instance.base + "/healthz", timeout=5) as response:
                    assert response.read() == b"ok"
        finally:
            for instance in instances:
                instance.stop()
    assert not (tmp_path / ".gunicorn").exists()
    for instance in instances:
        log = instance.log_path.read_text()
        assert "control" not in log.lower() and "Traceback" not in log, log


# --- start-up that cannot proceed: one line naming what to fix ------------------------------------------


def _one_line(result: subprocess.CompletedProcess, code: int = 2) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and len(lines) == 1, (result.returncode, result.stderr)
    return lines[0]


UNREACHABLE_POSTGRESQL = "postgresql://postgres:s3cret@127.0.0.1:1/incidents"


@pytest.mark.parametrize("command", [(), ("serve",), ("clock",), ("migrate",), ("export", "42")])
def test_an_unreachable_database_is_one_line_naming_database_url_without_its_password(command):
    env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="s", DATABASE_URL=UNREACHABLE_POSTGRESQL)
    result = subprocess.run([sys.executable, "app.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    line = _one_line(result)
    assert line.startswith("configuration error: DATABASE_URL postgresql+psycopg://postgres:***@127.0.0.1:1/incidents "), line
    assert "Connection refused" in line and "s3cret" not in result.stderr


def test_an_sqlite_file_in_a_missing_folder_is_one_line_naming_database_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'nonexistent' / 'dir' / 'x.db'}"
    env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="s", DATABASE_URL=url)
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert _one_line(result) == f"configuration error: DATABASE_URL {url}: the folder {tmp_path / 'nonexistent' / 'dir'} does not exist"


def test_an_sqlite_file_that_cannot_be_opened_is_one_line_naming_database_url(tmp_path):
    (tmp_path / "a-folder.db").mkdir()
    env = _env(DATABASE_URL=f"sqlite:///{tmp_path / 'a-folder.db'}")
    result = subprocess.run([sys.executable, "app.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert re.match(r"configuration error: DATABASE_URL sqlite:///\S+ cannot be opened: unable to open database file$", _one_line(result))


def test_a_port_in_use_is_one_line_naming_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="s", PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
        began = time.monotonic()
        result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert _one_line(result) == f"configuration error: PORT {port} is already in use by another process; stop it or choose another PORT"
    assert time.monotonic() - began < 10  # no retries


def _socket_mode(api_url: str, tmp_path, app_token: str = "xapp-1-A0-1-token", **env) -> subprocess.CompletedProcess:
    env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=app_token, SLACK_API_URL=api_url,
               DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", SCHEDULER="external", **env)
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_socket_mode_without_slack_is_one_line_and_exit_1(tmp_path):
    unreachable = f"http://127.0.0.1:{_free_port()}/api/"
    line = _one_line(_socket_mode(unreachable, tmp_path, LOG_LEVEL="WARNING"), code=1)
    assert line == f"error: Socket Mode: cannot connect to Slack at {unreachable}: [Errno 111] Connection refused"
    # At the default level the usual start-up lines come first; the failure is still the one last line.
    result = _socket_mode(unreachable, tmp_path)
    assert result.returncode == 1 and result.stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in result.stderr and " ERROR " not in result.stderr, result.stderr


def test_socket_mode_with_an_app_token_slack_refuses_is_one_line_naming_it(tmp_path):
    from tests.support.slack_standin import SlackStandIn

    with SlackStandIn(token=BOT_TOKEN, app_token="xapp-1-A0-1-right") as slack:
        result = _socket_mode(slack.base_url, tmp_path, app_token="xapp-1-A0-1-wrong", LOG_LEVEL="WARNING")
    assert _one_line(result) == "configuration error: SLACK_APP_TOKEN was refused by Slack's apps.connections.open (invalid_auth)"


def test_log_level_in_lower_case_is_read_not_a_traceback(tmp_path):
    env = _env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", LOG_LEVEL="debug")
    result = subprocess.run([sys.executable, "app.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert " DEBUG " in result.stderr  # and it is honoured
