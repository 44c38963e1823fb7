"""The command line (bot/cli.py) as `python app.py` runs it: help, version, usage mistakes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import app as entry
from bot.cli import build_parser
from tests.support.app_processes import free_port
from tests.test_run_contract import _env

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("serve", "clock", "migrate", "export", "import", "settings", "help")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("help",)])
def test_help_lists_every_command(args):
    result = run(*args)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: python app.py ")
    for command in COMMANDS:
        assert f"\n    {command} " in result.stdout, command
    assert "SLACK_BOT_TOKEN" in result.stdout and "python app.py settings" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_a_command_describes_it_and_starts_nothing(command, tmp_path):
    """With a database and a port to use and a setting that would stop start-up, `--help` only prints."""
    database = tmp_path / "untouched.db"
    began = time.monotonic()
    result = run(command, "--help", DATABASE_URL=f"sqlite:///{database}", PORT=str(free_port()), WEB_THREADS="0")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert time.monotonic() - began < 15
    assert result.stdout.startswith(f"usage: python app.py {command} ")
    description = result.stdout.split("\n\n")[1]
    assert len(description) > 30, result.stdout
    assert not database.exists() and list(tmp_path.iterdir()) == []
    assert "starting" not in result.stdout


def test_help_names_the_defaults():
    assert "(default: md)" in run("export", "--help").stdout
    text = run("import", "--help").stdout
    assert "(default: P3)" in text and "POSTMORTEM_LANGUAGE" in " ".join(text.split())
    serve = " ".join(run("serve", "--help").stdout.split())
    assert "$PORT (default 3000)" in serve and "WEB_CONCURRENCY (default auto: one per CPU core)" in serve and "WEB_THREADS (default 8)" in serve


def test_help_about_a_command_is_its_help():
    assert run("help", "export").stdout == run("export", "--help").stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("python app.py 0.") and "source tree" in result.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("--bogus",), "unrecognized arguments: --bogus"),
        (("serve", "--port", "80"), "unrecognized arguments: --port 80"),
        (("migrate", "now"), "unrecognized arguments: now"),
        (("export",), "the following arguments are required: incident"),
        (("export", "42", "--format", "pdf"), "argument --format: invalid choice: 'pdf'"),
        (("help", "frobnicate"), "invalid choice: 'frobnicate'"),
    ],
)
def test_a_usage_mistake_prints_the_usage_and_exits_2(args, says):
    result = run(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("usage: python app.py") and says in result.stderr, result.stderr


def test_import_keeps_its_one_line_usage_mistakes():
    result = run("import", "export.zip")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "import: the following arguments are required: --channel (see python app.py import --help)"
    ]


def test_main_returns_the_exit_code_instead_of_exiting(capsys):
    from bot.cli import main

    assert main(["--help"], prog="incident-bot") == 0
    assert capsys.readouterr().out.startswith("usage: incident-bot ")
    assert main(["frobnicate"]) == 2
    # app.main, as the tests call it, with or without the program name first.
    assert entry.main(["--help"]) == entry.main(["app.py", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: python app.py ")
    assert entry.main(["app.py", "frobnicate"]) == 2


def test_the_installed_name_is_the_default_program_name():
    assert build_parser().prog == "incident-bot"


def test_settings_prints_every_variable():
    result = run("settings")
    assert result.returncode == 0 and result.stderr == ""
    from bot.config import env_example

    assert result.stdout == env_example()


def test_python_without_the_requirements_gets_one_line_saying_how_to_run_it(tmp_path):
    # `python3 app.py` outside the virtualenv: -S leaves out site-packages, so no SQLAlchemy, no Bolt.
    env = {k: v for k, v in _env().items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-S", str(ROOT / "app.py"), "export", "42"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"No module named 'sqlalchemy' in {sys.executable}: run `scripts/run export 42`, which installs the "
        "requirements into .venv and uses it"
    ]
