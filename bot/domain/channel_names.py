"""Incident channel names that Slack accepts, from titles in any script."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

MAX_CHANNEL_NAME = 80
MAX_TOPIC = 250
FALLBACK_SLUG = "incident"

# Slack allows lowercase letters (any script), digits, '-' and '_'.
_NOT_ALLOWED = re.compile(r"[^\w\-]+")
_DASHES = re.compile(r"-{2,}")


def slugify(title: str) -> str:
    # NFKC folds full-width Latin and digits (ＡＰＩ５０２) into ASCII, keeps kana and kanji.
    text = unicodedata.normalize("NFKC", title).lower()
    text = _NOT_ALLOWED.sub("-", text)
    # \w also matches letters Slack lowercases differently; keep only lowercase-stable characters.
    text = "".join(ch for ch in text if ch in "-_" or (ch.isalnum() and ch.lower() == ch and not ch.isupper()))
    text = _DASHES.sub("-", text).strip("-_")
    return text or FALLBACK_SLUG


def ascii_slug(title: str) -> str:
    """The slug in the characters every workspace accepts: ASCII lowercase, digits, `-`, `_`.
    Accents are dropped from their letters (`café` is `cafe`); other scripts drop out
    (`결제 API 502 오류` is `api-502`). Empty when nothing is left."""
    decomposed = unicodedata.normalize("NFKD", slugify(title))
    text = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in decomposed if not unicodedata.combining(ch))
    return _DASHES.sub("-", text).strip("-_")


def slug_choices(title: str, incident_id: int) -> list[str]:
    """The slugs to offer Slack, in order, when it refuses a name's characters (`invalid_name_specials`,
    as some workspaces do for accented letters or less common scripts): the title in any script, then
    its ASCII letters and digits when they differ and hold a letter, then the incident's id alone."""
    choices = [slugify(title)]
    ascii_only = ascii_slug(title)
    # Digits alone (`Ελληνικά 42` is `42`) would read as an incident's number: not worth a try.
    if ascii_only not in choices and any(ch.isalpha() for ch in ascii_only) and ascii_only != FALLBACK_SLUG:
        choices.append(ascii_only)
    return choices + [str(incident_id)]


def channel_name(title: str, declared_at: datetime, tz: ZoneInfo, attempt: int = 1, slug: str | None = None, kind: str = "inc-") -> str:
    """`inc-20261122-checkout-api-returns-502`, with `-2`, `-3`… on later attempts (name_taken).
    `slug` (one of slug_choices) replaces the title's own; `kind` is planned work's `rel-` or `mnt-`."""
    prefix = kind + declared_at.astimezone(tz).strftime("%Y%m%d") + "-"
    suffix = "" if attempt <= 1 else f"-{attempt}"
    room = MAX_CHANNEL_NAME - len(prefix) - len(suffix)
    slug = (slug if slug is not None else slugify(title))[:room].rstrip("-_") or FALLBACK_SLUG
    return prefix + slug + suffix


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
