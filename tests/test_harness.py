"""The test harness itself: on a machine without PostgreSQL, `scripts/test` passes and says why half was skipped.

Each test runs `scripts/test` on one small file of storage tests in a pytest of its own, with the
harness pointed at a PostgreSQL server that is not there.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOWHERE = "postgresql://postgres@127.0.0.1:1/test"
# Points the harness at NOWHERE without TEST_PG_URL, as on a machine whose local PostgreSQL is down.
PLUGIN = f"from tests.support import scratch_databases\nscratch_databases.PG_SERVER = {NOWHERE!r}\n"


def _scripts_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "postgresql_is_down.py").write_text(PLUGIN)
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "TEST_PG_URL", "PYTEST_ADDOPTS")}
    environment.update(PYTHONPATH=str(tmp_path), TEST_BACKENDS="sqlite,postgresql", **env)
    return subprocess.run(
        ["bash", "scripts/test", "-q", "-p", "no:cacheprovider", "-p", "postgresql_is_down",
         "--basetemp", str(tmp_path / "pytest"), "tests/test_migrations.py"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )


def test_without_postgresql_its_tests_are_skipped_with_one_reason(tmp_path):
    result = _scripts_test(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, result.stdout
    assert re.fullmatch(
        rf"SKIPPED \[2\] tests/conftest\.py:\d+: PostgreSQL at {re.escape(NOWHERE)} is not reachable: start it "
        r"\(scripts/test starts a local one\), or run one backend with TEST_BACKENDS=sqlite; "
        r"with CI=1 or TEST_PG_URL set this is an error", skipped[0]), skipped[0]
    assert result.stdout.rstrip().splitlines()[-1].startswith("2 passed, 2 skipped")


def test_in_ci_an_unreachable_postgresql_fails_its_tests(tmp_path):
    result = _scripts_test(tmp_path, CI="1")
    assert result.returncode == 1
    assert "CI is set, so its tests must run" in result.stdout and "Connection refused" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("2 passed, 2 errors")


def test_a_postgresql_named_in_test_pg_url_must_be_reachable(tmp_path):
    result = _scripts_test(tmp_path, TEST_PG_URL=NOWHERE)
    assert result.returncode == 1
    assert "TEST_PG_URL names it, so its tests must run" in result.stdout


def test_ci_runs_the_tests_with_ci_set():
    assert 'export CI="${CI:-1}"' in (ROOT / ".ci" / "run").read_text()
