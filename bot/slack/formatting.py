"""Putting people's words back into Slack messages without pinging anyone or hiding anything.

We store texts in Slack's markup form (what slash commands and messages carry:
`&lt;` for <, `<@U1>` for a mention), exactly as people wrote them: the record is
evidence. Modal inputs arrive raw and are turned into markup first. On the way
out, broadcast mentions lose their power while person mentions and channel links
keep working, and characters that would change how the text around them shows
(terminal escapes, bidi overrides) become a visible U+FFFD (`visible`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.domain.storable_text import storable

_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam\^[^>|]*)(?:\|([^>]*))?>")
_PLAIN_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
# Any other <…> of Slack markup: <@U1>, <@U1|bob>, <#C1|name>, <!date^…|fallback>, <https://x|label>.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
ZERO_WIDTH_SPACE = "\u200b"
REPLACEMENT = "\ufffd"
# What `visible` replaces: C0 controls but tab and newline (ESC starts terminal escapes), DEL,
# C1 controls, the bidi embeddings, overrides and isolates that can reorder the text around
# them (U+202A-U+202E, U+2066-U+2069: "Trojan Source"), and lone surrogates, which no
# encoding can carry. The bidi *marks* (U+200E, U+200F, U+061C) stay: right-to-left text
# needs them, and they move no text beyond their neighbours.
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MAX_TEXT = 3000  # a section block's limit; longer texts are cut with a note


def mention(user_id: str) -> str:
    """A person as Slack markup (`<@U123>`): Slack shows their name, in every language."""
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def markup_from_plain(text: str) -> str:
    """Raw typed text (a modal input) to Slack markup, escaping what Slack requires."""
    return storable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def visible(text: str) -> str:
    """Text that shows what was written and nothing else: CRLF becomes a newline, every
    control or bidi-override character a U+FFFD where it was. For display only; the
    stored record keeps the original."""
    text = text.replace("\r\n", "\n")
    return HIDDEN.sub(REPLACEMENT, text) if HIDDEN.search(text) else text


def _defused(name: str) -> str:
    """`@channel` that reads the same but notifies nobody, wherever it is pasted."""
    return "@" + ZERO_WIDTH_SPACE + name.lstrip("@")


def safe(markup: str, limit: int | None = None) -> str:
    """Markup that cannot notify a channel, `@here`, everyone or a user group, nor hide
    anything behind control or bidi-override characters. Idempotent: safe(safe(x)) == safe(x)."""

    def defuse(match: re.Match) -> str:
        return _defused(match[2] or match[1].split("^")[0])

    text = _BROADCAST.sub(defuse, visible(markup))
    text = _PLAIN_BROADCAST.sub(lambda m: _defused(m[1]), text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def readable(markup: str, names: Mapping[str, str] | None = None) -> str:
    """Markup as a person reads it in Slack: `@Ana`, `#general`, link labels, `<` and `&` unescaped.

    Broadcasts come out defused and control characters visible, so the result is safe to show anywhere.
    """
    names = names or {}

    def replace(match: re.Match) -> str:
        target, label = match[1], match[2]
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (names.get(user_id) or label or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:]
            if special.split("^")[0] in ("channel", "here", "everyone", "subteam"):
                return _defused(label or special.split("^")[0])
            return label or special  # <!date^…|fallback> and friends
        return f"{label} ({target})" if label and label != target else target

    text = _MARKUP.sub(replace, markup)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    # Names come from Slack profiles and exports: they are shown under the same rule as words.
    return _PLAIN_BROADCAST.sub(lambda m: _defused(m[1]), visible(text))


def plain(markup: str) -> str:
    """Markup back to readable text, for channel names and plain-text Block Kit fields."""
    return readable(markup)


# Arguments of Web API calls that people read: texts, and Block Kit / view structures whose
# "text" fields (text objects and their strings) are shown.
_TEXT_ARGUMENTS = ("text", "topic", "purpose", "initial_comment")
_STRUCTURED_ARGUMENTS = ("blocks", "attachments", "view")


def outgoing(arguments: dict | None) -> dict | None:
    """A Web API call's arguments with every shown text made safe.

    The last step before anything reaches Slack (bot.slack.client applies it to every call), so a
    renderer that forgets to defuse a person's words still cannot ping a channel: the bot itself
    never means to broadcast. Ids, values, names and metadata are left exactly as they are.
    """
    if not arguments:
        return arguments
    shown = dict(arguments)
    for key in _TEXT_ARGUMENTS:
        if isinstance(shown.get(key), str):
            shown[key] = safe(shown[key])
    for key in _STRUCTURED_ARGUMENTS:
        if isinstance(shown.get(key), (list, dict)):
            shown[key] = _safe_texts(shown[key])
    return shown


def _safe_texts(value):
    if isinstance(value, list):
        return [_safe_texts(item) for item in value]
    if isinstance(value, dict):
        return {
            key: safe(item) if key in ("text", "fallback", "pretext") and isinstance(item, str) else _safe_texts(item)
            for key, item in value.items()
        }
    return value
