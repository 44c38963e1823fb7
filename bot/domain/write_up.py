"""The postmortem as the team writes it during the incident: summary, impact, trigger, cause, the 5
whys and the fishbone's contributing factors.

Each is a command in the incident channel (`/incident summary <text>`…) or the "Fill in the
postmortem" form, recorded as a timeline entry and kept on the incident, so the draft posted at
resolution shows what the team wrote instead of an empty heading. Repeating a command replaces
its text (a why and a factor add the next one). People's words are kept exactly as written.
"""

from __future__ import annotations

from bot.domain import impact_figures
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import FACTOR_CATEGORIES, MAX_WHYS, WRITE_UP_FIELDS, IncidentRecord
from bot.domain.requests import AddFactor, AddWhy, ClearFactors, ClearWhys, FillPostmortem, SetImpact, WriteUp
from bot.domain.storable_text import storable
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message, Word

MAX_TEXT = 3000  # one part of the write-up; the whole draft is a file, but a form's input holds 3000


def write(store: IncidentStore, incident: IncidentRecord, intent: WriteUp, ctx: Context) -> Change:
    if intent.part not in WRITE_UP_FIELDS or intent.part == "impact":
        raise IncidentError(Message(N_("`{part}` is not a part of the postmortem."), {"part": intent.part}))
    text = _text(intent.text, intent.part)
    if getattr(incident, intent.part) == text:
        raise IncidentError(Message(N_("The {part} already says exactly that."), {"part": Word("write_up", intent.part)}))
    setattr(incident, intent.part, text)
    record(store, incident, intent.part, ctx, text)
    return _change(incident, intent.part, ctx, text)


def set_impact(store: IncidentStore, incident: IncidentRecord, intent: SetImpact, ctx: Context) -> Change:
    text = intent.text.strip()
    if not text and not intent.figures:
        raise IncidentError(N_("Say what the impact was, or give figures such as `users=12000`."))
    if len(text) > MAX_TEXT:
        raise IncidentError(_too_long("impact", text))
    figures = {**(incident.impact_figures or {}), **intent.figures}  # the figures given replace theirs
    if intent.figures.get("revenue") is not None and "currency" not in intent.figures:
        figures.pop("currency", None)
    new_text = storable(text) if text else incident.impact
    if new_text == incident.impact and figures == (incident.impact_figures or {}):
        raise IncidentError(Message(N_("The {part} already says exactly that."), {"part": Word("write_up", "impact")}))
    incident.impact, incident.impact_figures = new_text, figures or None
    record(store, incident, "impact", ctx, text, {"figures": intent.figures} if intent.figures else None)
    return _change(incident, "impact", ctx, text, {"figures": intent.figures})


def add_why(store: IncidentStore, incident: IncidentRecord, intent: AddWhy, ctx: Context) -> Change:
    text = _text(intent.text, "why")
    whys = list(incident.whys or [])
    if len(whys) >= MAX_WHYS:
        raise IncidentError(
            Message(N_("The 5 whys are all written. `/incident why clear` empties them to start again."), {})
        )
    incident.whys = [*whys, text]
    record(store, incident, "why", ctx, text, {"number": len(whys) + 1})
    return _change(incident, "why", ctx, text, {"number": len(whys) + 1})


def clear_whys(store: IncidentStore, incident: IncidentRecord, intent: ClearWhys, ctx: Context) -> Change:
    if not incident.whys:
        raise IncidentError(N_("There are no whys to clear."))
    incident.whys = None
    record(store, incident, "why", ctx, "", {"cleared": True})
    return _change(incident, "why", ctx, "", {"cleared": True})


def add_factor(store: IncidentStore, incident: IncidentRecord, intent: AddFactor, ctx: Context) -> Change:
    if intent.category not in FACTOR_CATEGORIES:
        raise IncidentError(_categories())
    text = _text(intent.text, "factor")
    factors = {category: list(found) for category, found in (incident.factors or {}).items()}
    if text in factors.get(intent.category, []):
        raise IncidentError(N_("That factor is already in the fishbone."))
    factors[intent.category] = [*factors.get(intent.category, []), text]
    incident.factors = factors
    record(store, incident, "factor", ctx, text, {"category": intent.category})
    return _change(incident, "factor", ctx, text, {"category": intent.category})


def clear_factors(store: IncidentStore, incident: IncidentRecord, intent: ClearFactors, ctx: Context) -> Change:
    factors = {category: list(found) for category, found in (incident.factors or {}).items() if found}
    if intent.category is not None and intent.category not in FACTOR_CATEGORIES:
        raise IncidentError(_categories())
    if (intent.category is None and not factors) or (intent.category is not None and not factors.get(intent.category)):
        raise IncidentError(N_("There are no factors to clear."))
    if intent.category is None:
        factors = {}
    else:
        factors.pop(intent.category)
    incident.factors = factors or None
    record(store, incident, "factor", ctx, "", {"category": intent.category, "cleared": True})
    return _change(incident, "factor", ctx, "", {"category": intent.category, "cleared": True})


def fill(store: IncidentStore, incident: IncidentRecord, intent: FillPostmortem, ctx: Context) -> Change:
    """The form: each field that changed is recorded as its command would record it; nothing changed is refused."""
    try:
        figures = impact_figures.read_figures(intent.figures_text)
    except impact_figures.FigureError as error:
        raise IncidentError(error.message, field="figures") from None
    wanted = {part: _optional_text(getattr(intent, part), part) for part in WRITE_UP_FIELDS}
    whys = [_text(why, "why") for why in intent.whys if why.strip()]
    if len(whys) > MAX_WHYS:
        raise IncidentError(Message(N_("Write at most {n} whys, one a line."), {"n": MAX_WHYS}), field="whys")
    factors = {category: [_text(f, "factor") for f in found if f.strip()] for category, found in intent.factors}
    factors = {category: found for category, found in factors.items() if found and category in FACTOR_CATEGORIES}
    changed: list[str] = []
    for part, text in wanted.items():
        if getattr(incident, part) != text:
            setattr(incident, part, text)
            record(store, incident, part, ctx, text or "", {"form": True, "cleared": text is None})
            changed.append(part)
    if (incident.impact_figures or {}) != figures:
        incident.impact_figures = figures or None
        record(store, incident, "impact", ctx, incident.impact or "", {"form": True, "figures": figures})
        if "impact" not in changed:
            changed.append("impact")
    if (incident.whys or []) != whys:
        incident.whys = whys or None
        record(store, incident, "why", ctx, "\n".join(whys), {"form": True, "cleared": not whys})
        changed.append("why")
    if (incident.factors or {}) != factors:
        incident.factors = factors or None
        record(store, incident, "factor", ctx, "", {"form": True, "factors": factors})
        changed.append("factor")
    if not changed:
        raise IncidentError(N_("Nothing in the form changed, so nothing was recorded."))
    return Change(
        incident.id, "postmortem_form", ctx.actor, {"parts": changed}, post_postmortem=not incident.is_open, refresh_header=False
    )


def _change(incident: IncidentRecord, part: str, ctx: Context, text: str, details: dict | None = None) -> Change:
    return Change(
        incident.id, "write_up", ctx.actor, {"part": part, "resolved": not incident.is_open, **(details or {})},
        text=text, refresh_header=False,
    )


def _text(text: str, part: str) -> str:
    text = storable(text or "").strip()
    if not text:
        raise IncidentError(Message(N_("Say what to write in the {part}."), {"part": Word("write_up", part)}))
    if len(text) > MAX_TEXT:
        raise IncidentError(_too_long(part, text))
    return text


def _optional_text(text: str, part: str) -> str | None:
    text = storable(text or "").strip()
    if len(text) > MAX_TEXT:
        raise IncidentError(_too_long(part, text), field=part)
    return text or None


def _too_long(part: str, text: str) -> Message:
    return Message(
        N_("The {part} is {length} characters; keep it under {most}."),
        {"part": Word("write_up", part), "length": len(text), "most": MAX_TEXT},
    )


def _categories() -> Message:
    return Message(N_("A factor's category is one of {categories}."), {"categories": ", ".join(FACTOR_CATEGORIES)})
