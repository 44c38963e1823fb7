"""Putting people's words back into Slack messages without pinging anyone.

We store texts in Slack's markup form (what slash commands and messages carry:
`&lt;` for <, `<@U1>` for a mention). Modal inputs arrive raw and are turned
into markup first; on the way out, broadcast mentions lose their power while
person mentions and channel links keep working.
"""

from __future__ import annotations

import re

_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam\^[^>|]*)(?:\|([^>]*))?>")
_PLAIN_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"
MAX_TEXT = 3000  # a section block's limit; longer texts are cut with a note


def markup_from_plain(text: str) -> str:
    """Raw typed text (a modal input) to Slack markup, escaping what Slack requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe(markup: str, limit: int | None = None) -> str:
    """Markup that cannot notify a channel, `@here`, everyone or a user group."""

    def defuse(match: re.Match) -> str:
        label = match[2] or ("@" + match[1].split("^")[0])
        return "@" + ZERO_WIDTH_SPACE + label.lstrip("@")

    text = _BROADCAST.sub(defuse, markup)
    text = _PLAIN_BROADCAST.sub(lambda m: "@" + ZERO_WIDTH_SPACE + m[1], text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def plain(markup: str) -> str:
    """Markup back to readable text, for channel names and plain-text Block Kit fields."""
    text = re.sub(r"<[^>|]*\|([^>]*)>", r"\1", markup)  # <@U1|bob>, <https://x|label>: the label
    text = re.sub(r"<([^>|]*)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
