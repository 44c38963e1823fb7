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


def channel_name(title: str, declared_at: datetime, tz: ZoneInfo, attempt: int = 1) -> str:
    """`inc-20261122-checkout-api-returns-502`, with `-2`, `-3`… on later attempts (name_taken)."""
    prefix = "inc-" + declared_at.astimezone(tz).strftime("%Y%m%d") + "-"
    suffix = "" if attempt <= 1 else f"-{attempt}"
    room = MAX_CHANNEL_NAME - len(prefix) - len(suffix)
    slug = slugify(title)[:room].rstrip("-_") or FALLBACK_SLUG
    return prefix + slug + suffix


def fallback_channel_name(incident_id: int, declared_at: datetime, tz: ZoneInfo) -> str:
    """A plain ASCII name for when Slack refuses the slug itself."""
    return "inc-" + declared_at.astimezone(tz).strftime("%Y%m%d") + f"-{incident_id}"


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
