"""Putting people's words back into Slack messages without pinging anyone.

We store texts in Slack's markup form (what slash commands and messages carry:
`&lt;` for <, `<@U1>` for a mention). Modal inputs arrive raw and are turned
into markup first; on the way out, broadcast mentions lose their power while
person mentions and channel links keep working.
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
MAX_TEXT = 3000  # a section block's limit; longer texts are cut with a note


def markup_from_plain(text: str) -> str:
    """Raw typed text (a modal input) to Slack markup, escaping what Slack requires."""
    return storable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _defused(name: str) -> str:
    """`@channel` that reads the same but notifies nobody, wherever it is pasted."""
    return "@" + ZERO_WIDTH_SPACE + name.lstrip("@")


def safe(markup: str, limit: int | None = None) -> str:
    """Markup that cannot notify a channel, `@here`, everyone or a user group."""

    def defuse(match: re.Match) -> str:
        return _defused(match[2] or match[1].split("^")[0])

    text = _BROADCAST.sub(defuse, markup)
    text = _PLAIN_BROADCAST.sub(lambda m: _defused(m[1]), text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def readable(markup: str, names: Mapping[str, str] | None = None) -> str:
    """Markup as a person reads it in Slack: `@Ana`, `#general`, link labels, `<` and `&` unescaped.

    Broadcasts come out defused, so the result is safe to show anywhere.
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
    return _PLAIN_BROADCAST.sub(lambda m: _defused(m[1]), text)


def plain(markup: str) -> str:
    """Markup back to readable text, for channel names and plain-text Block Kit fields."""
    return readable(markup)
