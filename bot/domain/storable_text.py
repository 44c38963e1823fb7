"""What any text must be before it is stored, whichever way it came in."""

from __future__ import annotations

REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """PostgreSQL text cannot hold NUL: a message, command or form with one would fail to store
    (and Slack would retry it until it gave up). U+FFFD keeps everything else exactly and shows
    where it was, on every backend."""
    return text.replace("\x00", REPLACEMENT)
