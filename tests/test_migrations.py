"""The schema: every revision upgrades from empty and from the one before, with data in it, and back."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.config import Settings
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests.conftest import BACKENDS, scratch_database


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """A database of its own: migrations change the schema, so they do not share the suite's."""
    with scratch_database(request.param, tmp_path) as url:
        yield Settings.from_env({"DATABASE_URL": url}, need_slack=False).database_url


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _run(database: Database, action, revision: str) -> None:
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)


def test_every_revision_upgrades_in_turn_with_data_kept_and_downgrades_to_empty(empty_database):
    database = Database(empty_database)
    revisions = _revisions()
    assert revisions[0] == "0001" and len(revisions) >= 2
    _run(database, command.upgrade, revisions[0])
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO incidents (title, severity, status, is_private, declared_by, declared_at, channel_id) "
                "VALUES ('決済 API 502', 'P1', 'investigating', false, 'U1', :now, 'C1')"
            ),
            {"now": now},
        )
    for revision in revisions[1:]:
        _run(database, command.upgrade, revision)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT title FROM incidents")).scalar_one() == "決済 API 502"
    upgrade(database.engine)  # head again is a no-op
    tables = set(inspect(database.engine).get_table_names())
    assert {"incidents", "timeline_entries", "reaction_marks", "reminder_claims", "apscheduler_jobs"} <= tables

    _run(database, command.downgrade, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    upgrade(database.engine)
    assert "incidents" in inspect(database.engine).get_table_names()
    database.dispose()


def test_secrets_never_reach_the_logs_even_at_debug_level(bot, standin, caplog):
    import logging

    from tests.conftest import ANA, BOT_TOKEN, SIGNING_SECRET

    with caplog.at_level(logging.DEBUG):
        incident = bot.declare("Secrets stay secret")
        bot.say(incident, ANA, "checking")
        bot.command(ANA, "resolve", channel=incident.channel_id)
        bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Authorization" in logged or "Sending a request" in logged  # slack_sdk did log its requests
    assert BOT_TOKEN not in logged and SIGNING_SECRET not in logged
