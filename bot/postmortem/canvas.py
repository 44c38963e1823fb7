"""The postmortem as a Slack canvas in the incident channel (POSTMORTEM_CANVAS=true).

The canvas holds the same Markdown as the uploaded file, so the team can write the
postmortem together in Slack. It is made after the file is posted and the posting is
recorded: a canvas is a second copy, and whatever Slack answers here (no canvases on the
workspace's plan, a missing scope, a timeout) never loses or delays the draft. A refusal
gets one notice in the channel and one log line.

Posting the draft again (`/incident postmortem`, or a reopened incident resolved again)
never overwrites the first canvas: by then it is the team's document, and Slack's API
cannot tell us whether anyone has edited it yet (that needs canvases:read and a copy of
what we wrote, neither of which we keep). So the fresh draft goes into a new canvas tab
in the channel, and a one-line note at the top of the team's canvas points to it: nothing
anyone wrote is lost, and whoever reads the old canvas learns there is a newer draft.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import N_, Translator
from bot.services import Services
from bot.slack.formatting import plain, safe
from storage.incident_store import reading, record_delivery

log = logging.getLogger(__name__)

MAX_TITLE = 150
UNREACHABLE = "slack_unreachable"

# What each refusal means for the people in the channel.
WHY = {
    "missing_scope": N_("the app lacks the `canvases:write` scope; an admin can add it and reinstall the app"),
    "team_tier_cannot_create_channel_canvases": N_("this workspace's Slack plan has no channel canvases"),
    "free_team_canvas_tab_already_exists": N_("this workspace's Slack plan allows no more canvas tabs in this channel"),
    "free_teams_cannot_create_non_tabbed_canvases": N_("this workspace's Slack plan allows no more canvases"),
    "canvas_disabled_user_team": N_("canvases are turned off in this workspace"),
    "restricted_action": N_("the workspace does not let the app create canvases"),
    "not_allowed": N_("the workspace does not let the app create canvases"),
    "not_in_channel": N_("the app is no longer in this channel"),
    UNREACHABLE: N_("Slack did not answer in time; `/incident postmortem` tries again"),
}
REFUSED = N_("Slack refused it")

# Canvases take Markdown but no HTML entities.
_OUR_SPACES = re.compile(r"(?<!\\)&(?:nbsp|#x([0-9A-F]+));")


def canvas_markdown(document: str) -> str:
    """The postmortem document as a canvas takes it: identical but for `&nbsp;` and `&#x3000;`.

    The document uses these only to keep a quoted message's leading whitespace
    (bot.postmortem.render.markdown_text); a person's own `&` always arrives escaped as `\\&`
    (and their `#` as `\\#`), so every unescaped one is ours and becomes the character it stands for.
    """
    return _OUR_SPACES.sub(lambda m: chr(int(m[1], 16)) if m[1] else "\u00a0", document)


def publish_canvas(incident_id: int, document: str, client: WebClient, services: Services, now: datetime) -> None:
    """Put the draft in a canvas. Never raises: the postmortem is already posted and recorded."""
    try:
        _publish(incident_id, document, client, services, now)
    except Exception:
        log.exception("postmortem canvas for incident %s failed", incident_id)


def _publish(incident_id: int, document: str, client: WebClient, services: Services, now: datetime) -> None:
    with reading(services.db) as store:
        incident = store.incident(incident_id)
    channel, existing, title = incident.channel_id, incident.postmortem_canvas_id, incident.title
    content = {"type": "markdown", "markdown": canvas_markdown(document)}
    if existing is None:
        _first_canvas(incident_id, channel, title, content, client, services)
    else:
        _fresh_canvas(incident_id, channel, existing, content, client, services, now)


def _first_canvas(incident_id: int, channel: str, title: str, content: dict, client: WebClient, services: Services) -> None:
    """The channel's canvas, or a canvas tab when the channel already has its own.

    The canvas is the postmortem's, in its language; what the channel is told is in the workspace's.
    """
    t, pm_t = services.t, services.postmortem_t
    name = _cut(pm_t._(N_("Postmortem #{id}: {title}"), id=incident_id, title=plain(title)))
    canvas_id, error = _create(client, "conversations.canvases.create", channel_id=channel, title=name, document_content=content)
    notice = ":memo: " + t._(
        N_("The postmortem draft is also in this channel's canvas: write it together there. The file above keeps the draft as generated.")
    )
    if error == "channel_canvas_already_exists":
        # The channel canvas is someone's own document: leave it alone and add ours as a tab.
        canvas_id, error = _create(client, "canvases.create", channel_id=channel, title=name, document_content=content)
        shown = pm_t._(N_("Postmortem #{id}: {title}"), id=incident_id, title=safe(title, MAX_TITLE))
        notice = ":memo: " + t._(
            N_("This channel already has a canvas, so the postmortem draft is in a canvas tab of its own: *{name}*."), name=shown
        )
    if canvas_id is None:
        _refused(client, channel, incident_id, error, t)
        return
    _remember(services, incident_id, canvas_id)
    _tell(client, channel, incident_id, notice)


def _fresh_canvas(
    incident_id: int, channel: str, existing: str, content: dict, client: WebClient, services: Services, now: datetime
) -> None:
    """Posted again: the new draft in a tab of its own, and a pointer to it atop the team's canvas."""
    t, pm_t = services.t, services.postmortem_t
    fresh = pm_t._(N_("Postmortem #{id}, draft of {at}"), id=incident_id, at=now)
    canvas_id, error = _create(client, "canvases.create", channel_id=channel, title=fresh, document_content=content)
    if canvas_id is None:
        _refused(client, channel, incident_id, error, t)
        return
    pointer = "> " + pm_t._(
        N_("**A newer draft** of this postmortem, generated {at}, is in the canvas tab “{name}”. This canvas keeps your edits."),
        at=now, name=fresh,
    )
    pointed = _point_to(client, existing, pointer, incident_id)
    if pointed == "gone":
        # The team deleted its canvas: the new one is now the postmortem canvas.
        _remember(services, incident_id, canvas_id)
        said = t._(N_("The postmortem draft is in the canvas tab *{name}*: write it together there."), name=fresh)
        _tell(client, channel, incident_id, f":memo: {said}")
        return
    if pointed == "noted":
        said = t._(
            N_("The new draft is in a canvas tab of its own, *{name}*. The postmortem canvas keeps your edits; a note at its top points to the new draft."),
            name=fresh,
        )
    else:
        said = t._(N_("The new draft is in a canvas tab of its own, *{name}*. The postmortem canvas keeps your edits."), name=fresh)
    _tell(client, channel, incident_id, f":memo: {said}")


def _create(client: WebClient, method: str, **args) -> tuple[str | None, str | None]:
    """(canvas id, None) or (None, why not: Slack's error, or `slack_unreachable`)."""
    call = client.conversations_canvases_create if method == "conversations.canvases.create" else client.canvases_create
    try:
        return call(**args)["canvas_id"], None
    except SlackApiError as error:
        code = error.response.get("error") or "unknown_error"
        log.warning("%s for channel %s failed: %s", method, args.get("channel_id"), code)
        return None, code
    except Exception as error:  # a timeout or a dropped connection, after the client's retries
        log.warning("%s for channel %s got no answer: %r", method, args.get("channel_id"), error)
        return None, UNREACHABLE


def _point_to(client: WebClient, canvas_id: str, pointer: str, incident_id: int) -> str:
    """Add the pointer at the top of the team's canvas: `noted`, `gone` (no such canvas) or `failed`."""
    # The blank line ends the quote, so the team's first paragraph does not run into it.
    change = {"operation": "insert_at_start", "document_content": {"type": "markdown", "markdown": pointer + "\n\n"}}
    try:
        client.canvases_edit(canvas_id=canvas_id, changes=[change])
        return "noted"
    except SlackApiError as error:
        code = error.response.get("error")
    except Exception as error:
        code = repr(error)
    log.warning("canvases.edit %s (incident %s) failed: %s", canvas_id, incident_id, code)
    return "gone" if code == "canvas_not_found" else "failed"


def _remember(services: Services, incident_id: int, canvas_id: str) -> None:
    record_delivery(services.db, incident_id, postmortem_canvas_id=canvas_id)


def _refused(client: WebClient, channel: str, incident_id: int, error: str | None, t: Translator) -> None:
    log.error("postmortem canvas for incident %s (channel %s) could not be created: %s", incident_id, channel, error)
    why = t._(WHY.get(error or "", REFUSED))
    said = t._(
        N_("The postmortem canvas could not be created (`{error}`: {why}). The draft file above has the same content."), error=error, why=why
    )
    _tell(client, channel, incident_id, f":warning: {said}")


def _tell(client: WebClient, channel: str, incident_id: int, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as error:
        log.warning("could not tell incident %s's channel about its canvas: %s", incident_id, error.response.get("error"))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"
