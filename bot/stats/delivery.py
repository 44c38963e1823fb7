"""Answer `/incident stats` after the acknowledgement: the numbers privately, then the TTR chart.

The command is acknowledged at once ("Working out the stats…"); reading a year of incidents
and drawing the chart happen here, in the lazy follow-up, so the ack never waits on them.
The chart goes to the channel the command came from; where the bot is not a member (or may not
post), to the asker's direct messages instead.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass

from babel.numbers import format_decimal
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.times import utcnow
from bot.i18n import Translator
from bot.services import Services
from bot.slack import texts
from bot.slack.formatting import channel_link
from bot.stats import chart as charts
from bot.stats import facts, insights
from bot.stats import text as stats_text
from storage.incident_store import reading

log = logging.getLogger(__name__)

# Errors that mean "not here": the chart goes to the asker's DM instead.
NOT_POSTABLE_HERE = ("not_in_channel", "channel_not_found", "invalid_channel", "posting_to_channel_denied", "is_archived")


@dataclass(frozen=True)
class ShowStats:
    channel: str  # where the command was typed
    user: str
    range: insights.StatsRange


def post_stats(request: ShowStats, client: WebClient, respond, services: Services) -> None:
    """The numbers privately, in the asker's language; the chart in the channel, in the workspace's."""
    settings = services.settings
    t = services.t_for(request.user)
    now = utcnow()
    try:
        since = request.range.start(now, settings.timezone)
        with reading(services.db) as store:
            incident_facts = facts.load(store.session, since, now)
            planned = facts.load_planned(store.session, since, now)
        stats = insights.compute(incident_facts, request.range, now, settings.timezone, settings.targets)
        stats = dataclasses.replace(stats, planned=planned)
        text = stats_text.stats_text(stats, t)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("/incident stats failed (ref %s) user=%s range=%s", ref, request.user, request.range)
        _tell(request, t._(texts.INTERNAL_ERROR, ref=ref), respond)
        return
    trend = insights.ttr_trend(stats)
    if not trend:
        _tell(request, "\n".join(filter(None, [text, stats_text.no_chart_text(stats, t)])), respond)
        return
    _tell(request, text, respond)
    try:
        upload = _chart_upload(request, stats, services.t)
    except Exception:
        log.exception("drawing the TTR chart failed user=%s range=%s", request.user, request.range)
        _tell(request, ":warning: " + t._("The TTR chart could not be drawn; the numbers above are complete."), respond)
        return
    try:
        _share(request, stats, upload, client, t)
    except SlackApiError as error:
        code = error.response.get("error")
        log.warning("the stats chart for %s (asked in %s) could not be posted: %s", request.user, request.channel, code)
        said = t._("Slack would not take the TTR chart (`{error}`); the numbers above are complete.", error=code)
        _tell(request, f":warning: {said}", respond)
    except SlackClientError as error:  # the upload itself failed (not an API answer)
        log.warning("the stats chart for %s could not be uploaded: %s", request.user, error)
        _tell(request, ":warning: " + t._("The TTR chart could not be uploaded; the numbers above are complete. Try again later."), respond)


def _chart_upload(request: ShowStats, stats: insights.Stats, t: Translator) -> dict:
    """The chart and its title, comment and alt text in `t`'s language (the chart's own words need a font that has them)."""
    title = stats_text.chart_title(stats, t)
    png = charts.ttr_trend_png(insights.ttr_trend(stats), lambda shown: f"{stats_text.chart_title(stats, shown)} ({stats.timezone})", t)
    return dict(
        content=png,
        filename=f"incident-ttr-{stats.until:%Y%m%d}-{stats.range.amount}{stats.range.unit}.png",
        title=title,
        alt_txt=_alt_text(stats, t)[:1000],
        initial_comment=stats_text.chart_comment(stats, request.user, t),
    )


def _share(request: ShowStats, stats: insights.Stats, upload: dict, client: WebClient, t: Translator) -> None:
    try:
        client.files_upload_v2(channel=request.channel, **upload)
        return
    except SlackApiError as error:
        if error.response.get("error") not in NOT_POSTABLE_HERE:
            raise
    # Not a channel the bot is in: the chart goes to the asker alone, in their language. Posting to a
    # user id opens the DM, and the answer names the DM's channel, which the upload needs.
    said = t._("Your incident stats chart (I am not in {channel}, so it comes here):", channel=channel_link(request.channel))
    dm = client.chat_postMessage(channel=request.user, text=said)["channel"]
    if upload["title"] != stats_text.chart_title(stats, t):
        upload = _chart_upload(request, stats, t)
    client.files_upload_v2(channel=dm, **upload)


def _alt_text(stats: insights.Stats, t: Translator) -> str:
    points = "; ".join(
        t._("{month}: median {median}, p90 {p90}", month=month, median=_hours(spread.median, t), p90=_hours(spread.p90, t))
        for month, spread in insights.ttr_trend(stats)
        if spread.count
    )
    return t._("Line chart of time to resolve per month, median and 90th percentile. {points}", points=points)


def _hours(delta, t: Translator) -> str:
    return t._("{hours} h", hours=format_decimal(delta.total_seconds() / 3600, "0.0", locale=t.locale))


def _tell(request: ShowStats, text: str, respond) -> None:
    """Privately, through the command's response_url (which works in any channel)."""
    try:
        respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("could not answer /incident stats for %s in %s", request.user, request.channel)
