"""Emoji reactions that mark timeline entries, and what each mark means."""

from __future__ import annotations

import re
from typing import Mapping

from bot.domain.records import MARKS

# mark -> default emoji. Operators override one mark with REACTION_<MARK>, e.g.
# REACTION_DETECTED=rotating_light,fire (a comma-separated list of emoji names).
DEFAULT_EMOJI = {
    "key_event": "pushpin",
    "detected": "rotating_light",
    "identified": "mag",
    "mitigated": "adhesive_bandage",
    "resolved": "white_check_mark",
    "action_item": "memo",
    "went_well": "sparkles",
    "went_wrong": "warning",
    "lucky": "four_leaf_clover",
}
DEFAULT_REACTIONS = {emoji: mark for mark, emoji in DEFAULT_EMOJI.items()}

# Marks that also set the incident milestone of the same name.
MILESTONE_MARKS = ("detected", "identified", "mitigated", "resolved")

# What each mark is called: bot.i18n's vocabulary ("mark"), in the reader's language.

_EMOJI_NAME = re.compile(r"^[a-z0-9_+\-'’]+$")


def setting_name(mark: str) -> str:
    return "REACTION_" + mark.upper()


def parse_reaction_setting(env: Mapping[str, str]) -> dict[str, str]:
    """emoji -> mark, from the defaults and any REACTION_<MARK> overrides."""
    chosen = {mark: [emoji] for mark, emoji in DEFAULT_EMOJI.items()}
    overridden = set()
    for mark in MARKS:
        raw = env.get(setting_name(mark), "").strip()
        if not raw:
            continue
        names = [name.strip().strip(":").lower() for name in raw.split(",") if name.strip()]
        bad = [name for name in names if not _EMOJI_NAME.match(name)]
        if not names or bad:
            raise ValueError(
                f"{setting_name(mark)} must be emoji names separated by commas, e.g. fire,rotating_light; got {raw!r}"
            )
        chosen[mark] = names
        overridden.add(mark)
    reactions: dict[str, str] = {}
    for mark, names in chosen.items():
        for name in names:
            if name in reactions and reactions[name] != mark:
                # Name the variable the operator set, not the mark whose default it collides with.
                mine, theirs = (reactions[name], mark) if mark not in overridden else (mark, reactions[name])
                hint = "" if theirs in overridden else f" by default (set {setting_name(theirs)} to change that)"
                raise ValueError(
                    f"{setting_name(mine)}: :{name}: already marks {theirs!r}{hint}; one emoji can mean one thing"
                )
            reactions[name] = mark
    return reactions


def base_emoji(reaction: str) -> str:
    """`+1::skin-tone-2` -> `+1`: a skin tone does not change what a reaction means."""
    return reaction.split("::", 1)[0]
