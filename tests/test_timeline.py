"""Messages, edits, deletions, retries and reactions become exactly one timeline each."""

from __future__ import annotations

from bot.domain.times import from_slack_ts
from tests.conftest import ANA, KEN, LEE, MIN, wait_until
from tests.support.records import milestones_of


def _milestone(bot, incident_id, name):
    return milestones_of(bot.db, incident_id)[name]


def test_messages_are_entries_stamped_with_their_own_slack_ts(bot, standin):
    incident = bot.declare("Cache stampede")
    message = bot.say(incident, KEN, "キャッシュのヒット率が 12% まで低下 😱")
    reply = bot.say(incident, MIN, "스레드에서 확인 중", thread_ts=message["ts"])
    entries = bot.entries(incident.id, "message")
    assert [(e.ts, e.author_id, e.text) for e in entries] == [
        (message["ts"], KEN, "キャッシュのヒット率が 12% まで低下 😱"),
        (reply["ts"], MIN, "스레드에서 확인 중"),
    ]
    assert entries[0].occurred_at == from_slack_ts(message["ts"])
    assert entries[1].thread_ts == message["ts"]


def test_a_redelivered_event_yields_one_entry(bot, standin):
    incident = bot.declare("Retry storm")
    message = standin.post_human_message(incident.channel_id, ANA, "seeing 5xx from lb")
    event = bot.slack.message_event(message, incident.channel_id)
    bot.event(event, event_id="Ev0RETRY1")
    bot.event(event, event_id="Ev0RETRY1", retry_num=1, retry_reason="http_timeout")
    bot.event(event, event_id="Ev0RETRY1", retry_num=2, retry_reason="http_error")
    bot.event(event, event_id="Ev0OTHERID")  # Slack can also resend under a new id
    assert len(bot.entries(incident.id, "message")) == 1


def test_edits_update_and_deletions_remove_the_entry(bot, standin):
    incident = bot.declare("Disk full on db-3")
    message = bot.say(incident, ANA, "disk at 100%")
    bot.event(bot.slack.message_changed(incident.channel_id, message["ts"], "disk at 100% on db-3 (not db-2)", ANA))
    [entry] = bot.entries(incident.id, "message")
    assert entry.text == "disk at 100% on db-3 (not db-2)"
    bot.event(bot.slack.message_deleted(incident.channel_id, message["ts"]))
    assert bot.entries(incident.id, "message") == []


def test_messages_outside_incident_channels_and_from_bots_are_never_stored(bot, standin):
    incident = bot.declare("Noise check")
    general = standin.create_channel("random-chat", members=[ANA])
    bot.say(general, ANA, "lunch?")
    bot.event(bot.slack.bot_message(incident.channel_id, "deploy bot says hi"))
    bot.event(bot.slack.channel_join(incident.channel_id, LEE))
    with bot.db.session() as session:
        from sqlalchemy import func, select

        from storage.models import TimelineEntry

        assert session.scalar(select(func.count()).select_from(TimelineEntry).where(TimelineEntry.channel_id == general)) == 0
    assert bot.entries(incident.id, "message") == []


def test_a_detected_reaction_sets_the_milestone_to_the_messages_time_and_removal_falls_back(bot, standin):
    incident = bot.declare("Elevated 500s")
    alert = bot.say(incident, ANA, "PagerDuty fired at the top of the hour")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, alert["ts"], "rotating_light"))
    detected = _milestone(bot, incident.id, "detected")
    assert (detected.at, detected.source) == (from_slack_ts(alert["ts"]), "reaction")

    bot.event(bot.slack.reaction_removed(KEN, incident.channel_id, alert["ts"], "rotating_light"))
    detected = _milestone(bot, incident.id, "detected")
    assert detected.source == "declaration" and detected.at == incident.declared_at


def test_a_reaction_on_an_unstored_thread_reply_fetches_exactly_that_message(bot, standin):
    incident = bot.declare("Stale reads")
    parent = bot.say(incident, ANA, "replica lag is growing")
    # Posted in Slack, but its event never reached us.
    reply = standin.post_human_message(incident.channel_id, KEN, "the cause: vacuum blocked on replica", thread_ts=parent["ts"])
    standin.post_human_message(incident.channel_id, LEE, "later unrelated message")
    bot.event(bot.slack.reaction_added(ANA, incident.channel_id, reply["ts"], "mag"))
    stored = [e for e in bot.entries(incident.id, "message") if e.ts == reply["ts"]]
    assert [(e.author_id, e.text, e.thread_ts) for e in stored] == [(KEN, "the cause: vacuum blocked on replica", parent["ts"])]
    assert _milestone(bot, incident.id, "identified").at == from_slack_ts(reply["ts"])
    assert all(e.text != "later unrelated message" for e in bot.entries(incident.id))


def test_a_duplicate_reaction_event_counts_once_and_unknown_emoji_are_ignored(bot, standin):
    incident = bot.declare("Flapping health checks")
    message = bot.say(incident, ANA, "rolled back the canary")
    added = bot.slack.reaction_added(KEN, incident.channel_id, message["ts"], "adhesive_bandage")
    bot.event(added)
    bot.event(added, retry_num=1, retry_reason="http_timeout")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, message["ts"], "tada"))
    from sqlalchemy import select

    from storage.models import ReactionMark

    with bot.db.session() as session:
        marks = list(session.scalars(select(ReactionMark).where(ReactionMark.incident_id == incident.id)))
    assert [(m.emoji, m.mark, m.active) for m in marks] == [("adhesive_bandage", "mitigated", True)]


def test_a_resolved_reaction_resolves_the_incident_and_posts_the_postmortem(bot, standin):
    incident = bot.declare("Checkout 502s after deploy")
    fixed = bot.say(incident, ANA, "error rate back to baseline")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, fixed["ts"], "white_check_mark"))
    resolved = bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    assert resolved.status == "resolved"
    assert _milestone(bot, incident.id, "resolved").at == from_slack_ts(fixed["ts"])
    wait_until(lambda: [f for f in standin.files() if incident.channel_id in str(f.get("channels") or f.get("channel"))])


def test_messages_written_together_are_each_stored_once_and_one_that_cannot_be_fails_alone(bot, standin):
    """Rows arriving at the same moment share a commit (bot/ingest/timeline_writer.py). A copy of a
    message in the same batch adds nothing, and a row the database refuses (here: an incident that
    does not exist) fails only its own event, which Slack would then redeliver."""
    import threading

    from bot.domain.records import SlackMessage
    from bot.domain.times import utcnow

    incident = bot.declare("Thundering herd")
    writer = bot.services.timeline_writer
    messages = [SlackMessage(incident.channel_id, f"1790000000.{n:06d}", KEN, f"行 {n}") for n in range(24)]
    orphan = SlackMessage(incident.channel_id, "1790000000.999999", KEN, "no such incident")
    # The orphan first: the thread that trips the barrier tends to write first and alone.
    jobs = [(incident.id + 10_000, orphan)] + [(incident.id, m) for m in messages] + [(incident.id, messages[0])]
    start, errors = threading.Barrier(len(jobs)), {}

    def write(n, incident_id, message):
        start.wait()
        try:
            writer.record(incident_id, message, utcnow())
        except Exception as error:  # noqa: BLE001 - what the event's handler would see
            errors[n] = error

    threads = [threading.Thread(target=write, args=(n, *job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert list(errors) == [0], errors  # only the row of the incident that does not exist
    stored = [(e.ts, e.text) for e in bot.entries(incident.id, "message")]
    assert stored == [(m.ts, m.text) for m in messages]
