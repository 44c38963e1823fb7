"""Resolve, through the bot, the incidents a test opened, so they leave no live reminders behind.

Every test shares one database per backend, and a reminder clock started by a
later test (tests/test_rhythm.py) plans nudges for every open incident in it:
dozens of incidents left open by a test that opens many of them slow those
clocks down until their own timing assertions fail.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import Incident


def last_incident_id(bot) -> int:
    with bot.db.session() as session:
        return session.scalar(select(func.max(Incident.id))) or 0


def resolve_incidents_after(bot, first_id: int) -> None:
    with bot.db.session() as session:
        opened = list(session.scalars(select(Incident.id).where(Incident.id > first_id)))
    for incident_id in opened:
        # A declaration sets its channel up after answering: wait until that is done (or failed).
        incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None or i.setup_error is not None)
        if incident.status == "resolved" or incident.channel_id is None:
            continue
        reply = bot.command(incident.declared_by, "resolve", channel=incident.channel_id)
        if "Recorded" not in reply.get("text", ""):  # e.g. a milestone set later than now by the test
            bot.command(incident.declared_by, "status resolved", channel=incident.channel_id)


@pytest.fixture(autouse=True)
def resolve_what_the_test_opened(bot):
    first_id = last_incident_id(bot)
    yield
    resolve_incidents_after(bot, first_id)
