"""What a tag is: one word, in one normal form, so `DB`, `#db` and `ｄｂ` (full width) are one tag.

NFKC, lower case, without a leading `#`. Letters of any script count (`データベース`).
Pure, so the command parser can check names before anything is stored.
"""

from __future__ import annotations

import re
import unicodedata

from bot.i18n import N_, Message

MAX_TAG = 40  # the column's length
MAX_TAGS_PER_COMMAND = 10
EXAMPLES = "`db`, `deploy`, `network`"
# With "escape channels" on, Slack sends `#deploy` as a channel link when such a channel exists.
_CHANNEL_LINK = re.compile(r"^<#[CG][A-Z0-9]+(?:\|([^>]*))?>$")
_PUNCTUATION = "-_."


class TagError(ValueError):
    """A name that cannot be a tag; `message` says why, for the person who typed it (in their language)."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


def normalise(text: str) -> str:
    """One typed name to its tag, or TagError saying what is wrong with it."""
    link = _CHANNEL_LINK.match(text.strip())
    if link is not None:
        if not link[1]:
            raise TagError(Message(N_("Type the tag without `#` in front, e.g. `/incident tag deploy`.")))
        text = link[1]
    tag = unicodedata.normalize("NFKC", text).strip().lower().lstrip("#")
    if not tag:
        raise TagError(Message(N_("Give the tag a name, e.g. {examples}."), {"examples": EXAMPLES}))
    shown = _quote(text)
    if any(char.isspace() for char in tag):
        raise TagError(
            Message(N_("`{tag}` has a space in it; a tag is one word (use `-`, e.g. `database-outage`)."), {"tag": shown})
        )
    if len(tag) > MAX_TAG:
        raise TagError(
            Message(N_("`{tag}…` is {length} characters long; a tag has at most {most}."), {"tag": shown, "length": len(tag), "most": MAX_TAG})
        )
    odd = next((char for char in tag if not _allowed(char)), None)
    if odd is not None:
        raise TagError(
            Message(
                N_("`{tag}` has {character} in it; a tag is one word of letters, digits, `-`, `_` or `.` (e.g. {examples}, `データベース`)."),
                {"tag": shown, "character": _describe(odd), "examples": EXAMPLES},
            )
        )
    return tag


def normalise_all(names: list[str]) -> list[str]:
    """Several typed names to distinct tags, in the order given."""
    if len(names) > MAX_TAGS_PER_COMMAND:
        raise TagError(
            Message(N_("That is {count} tags; give at most {most} at a time."), {"count": len(names), "most": MAX_TAGS_PER_COMMAND})
        )
    return list(dict.fromkeys(normalise(name) for name in names))


def _allowed(char: str) -> bool:
    # Letters, marks (combining vowels, dakuten) and digits of any script, and a little punctuation.
    return unicodedata.category(char)[0] in "LMN" or char in _PUNCTUATION


def _describe(char: str) -> str | Message:
    if char == "`":
        return Message(N_("a backquote"))
    if unicodedata.category(char)[0] in "CZ":  # invisible: name it (Unicode's name, in English in every language)
        return Message(N_("an invisible character ({name})"), {"name": unicodedata.name(char, f"U+{ord(char):04X}").lower()})
    return f"`{char}`"


def _quote(text: str) -> str:
    """Echo input inside inline code, on one line, without letting it break out."""
    return "".join(char if char.isprintable() else "?" for char in text).replace("`", "'")[:MAX_TAG]
