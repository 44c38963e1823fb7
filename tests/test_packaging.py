"""The package as a newcomer gets it: `pip install .` in a fresh virtualenv gives a working `incident-bot`.

The install test builds and installs a clean copy of the repository (the files git tracks, or would
track) with the machine's package index, so it takes about a minute the first time and less once
pip's cache holds the dependencies. `-m "not install"` leaves it out.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# What pip prints when the package index cannot be reached at all, as opposed to a requirement it cannot meet.
NO_INDEX = re.compile(r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
                      r"Name or service not known|Network is unreachable|ConnectTimeoutError")


def _pins(path: Path) -> dict[str, Requirement]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def test_the_pinned_versions_are_within_the_package_ranges():
    """requirements.txt is the lock: one exact pin for each dependency pyproject.toml declares, inside its range."""
    ranges = {canonicalize_name(r.name): r for r in map(Requirement, PYPROJECT["project"]["dependencies"])}
    pins = _pins(ROOT / "requirements.txt")
    assert sorted(pins) == sorted(ranges)
    for name, pin in pins.items():
        [exact] = pin.specifier
        assert exact.operator == "==", f"{pin} is not pinned"
        assert ranges[name].specifier.contains(exact.version), f"{pin} is outside {ranges[name]}"
        assert pin.extras == ranges[name].extras, name


def _clean_copy(destination: Path) -> Path:
    """The repository as a fresh clone has it: tracked files (and new ones not ignored), no .venv, no caches."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def _shipped_files(source: Path) -> set[str]:
    """What the wheel must hold: everything under bot/ and storage/, and templates/ as bot/templates/."""
    files = set()
    for folder, target in (("bot", "bot"), ("storage", "storage"), ("templates", "bot/templates")):
        for path in (source / folder).rglob("*"):
            if path.is_file():
                files.add(f"{target}/{path.relative_to(source / folder).as_posix()}")
    return files


@pytest.mark.install
def test_pip_install_in_a_fresh_virtualenv_gives_a_working_incident_bot(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to copy the tracked files from")
    source = _clean_copy(tmp_path / "incident-bot")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python, command = venv / "bin" / "python", venv / "bin" / "incident-bot"
    # Nothing of this checkout may leak in: no PYTHONPATH, no settings, and every command runs elsewhere.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(
        ("SLACK_", "DATABASE_URL", "INCIDENT_", "PORT", "LOG_LEVEL"))}
    work = tmp_path / "elsewhere"
    work.mkdir()

    installed = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "."],
                               cwd=source, env=env, capture_output=True, text=True, timeout=900)
    if installed.returncode != 0 and NO_INDEX.search(installed.stdout + installed.stderr) and not os.environ.get("CI"):
        pytest.skip("the package index cannot be reached (pip install needs it); with CI set this is an error")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(command), *args], cwd=work, env={**env, **extra}, capture_output=True, text=True,
                              timeout=120)

    helped = run("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: incident-bot ") and "migrate" in helped.stdout

    database = work / "fresh.db"
    began = time.monotonic()
    serve_help = run("serve", "--help", DATABASE_URL=f"sqlite:///{database}")
    assert serve_help.returncode == 0 and serve_help.stdout.startswith("usage: incident-bot serve"), serve_help.stderr
    assert time.monotonic() - began < 15 and not database.exists() and list(work.iterdir()) == []

    migrated = run("migrate", DATABASE_URL=f"sqlite:///{database}")
    assert migrated.returncode == 0 and migrated.stdout == "database schema is up to date\n", migrated.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"incidents", "timeline_entries", "alembic_version"} <= tables

    version = run("--version")
    assert version.stdout.strip() == f"incident-bot {_source_version(source)}"

    # The code runs from the installed copy, with every module, migration and template; no bench, tests or app.py.
    where = subprocess.run([str(python), "-c", "import bot, sysconfig; from bot.postmortem.render import TEMPLATES; "
                            "print(sysconfig.get_paths()['purelib']); print(bot.__file__); print(TEMPLATES)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split("\n")
    site = Path(where[0])
    assert Path(where[1]).is_relative_to(site) and Path(where[2]) == site / "bot" / "templates"
    present = {p.relative_to(site).as_posix() for p in (site / "bot").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    present |= {p.relative_to(site).as_posix() for p in (site / "storage").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert present == _shipped_files(source)
    assert not any((site / name).exists() for name in ("tests", "bench", "app.py", "templates"))


def _source_version(source: Path) -> str:
    return re.search(r'^__version__ = "([^"]+)"$', (source / "bot" / "__init__.py").read_text(), re.M).group(1)
