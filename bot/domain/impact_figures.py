"""`users=12000 requests=150000 revenue=5000 slo=98.7%`: the impact in numbers, read leniently.

Lenient about how a number is written (`12,000`, `12k`, `1.5M`, `$5,000`, `5000 USD`, `98.7%`,
full-width digits) and about the names (`users`, `user`, `customers`, `ユーザー`, `사용자`…); strict
about what cannot be a figure: a known name with no number, a negative count, an SLO above 100%,
or `name=value` with a name it does not know (a typo must not vanish into the text). Pure: the
command parser and the postmortem form both read figures here.
"""

from __future__ import annotations

import re
import unicodedata

from bot.i18n import N_, Message

# Every name a figure goes by, to the figure.
NAMES = {
    "users": "users", "user": "users", "customers": "users", "customer": "users",
    "ユーザー": "users", "ユーザ": "users", "利用者": "users", "사용자": "users", "유저": "users",
    "requests": "requests", "request": "requests", "reqs": "requests", "req": "requests", "errors": "requests",
    "リクエスト": "requests", "요청": "requests",
    "revenue": "revenue", "rev": "revenue", "売上": "revenue", "収益": "revenue", "매출": "revenue",
    "slo": "slo",
}
FIGURE_HELP = N_("Write figures as `users=12000 requests=150000 revenue=5000 slo=98.7%`.")
_PAIR = re.compile(r"^([^\W\d][\w]*)=(.*)$")  # after NFKC, so a full-width ＝ too
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)([kmb])?$")
_MULTIPLIER = {None: 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_CURRENCY_SIGNS = "$€£¥₩"
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


class FigureError(ValueError):
    """A figure that cannot be read; `message` says which and why (in the reader's language)."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


def split_figures(text: str) -> tuple[str, dict]:
    """(the free text, the figures) of `/incident impact`'s text; raises FigureError on a malformed figure."""
    words = text.split()
    kept: list[str] = []
    figures: dict = {}
    i = 0
    while i < len(words):
        match = _PAIR.match(unicodedata.normalize("NFKC", words[i]))
        if match is None:
            kept.append(words[i])
            i += 1
            continue
        name, value = match[1].lower(), match[2]
        # `revenue=5000 USD`: a currency code after the number belongs to it.
        if i + 1 < len(words) and _CURRENCY_CODE.match(words[i + 1]) and NAMES.get(name) == "revenue":
            value, i = f"{value} {words[i + 1]}", i + 1
        figures.update(read_figure(name, value))
        i += 1
    return " ".join(kept), figures


def read_figures(text: str) -> dict:
    """Only figures (the form's figures field): any other word is refused."""
    free, figures = split_figures(text)
    if free:
        raise FigureError(Message(N_("`{text}` is not a figure. {help}"), {"text": _quote(free), "help": Message(FIGURE_HELP)}))
    return figures


def read_figure(name: str, value: str) -> dict:
    figure = NAMES.get(name)
    if figure is None:
        raise FigureError(
            Message(N_("`{name}` is not an impact figure. {help}"), {"name": _quote(name), "help": Message(FIGURE_HELP)})
        )
    text = unicodedata.normalize("NFKC", value).strip().replace(",", "").replace("_", "")
    extra: dict = {}
    if figure == "slo":
        text = text.rstrip("%").strip()
    elif figure == "revenue":
        text, currency = _currency(text)
        if currency:
            extra["currency"] = currency
    match = _NUMBER.match(text.lower())
    if match is None:
        raise FigureError(
            Message(N_("`{name}={value}` is not a number. {help}"), {"name": _quote(name), "value": _quote(value), "help": Message(FIGURE_HELP)})
        )
    number = float(match[1]) * _MULTIPLIER[match[2]]
    if figure == "slo":
        if match[2] or number > 100:
            raise FigureError(Message(N_("The SLO is a percentage from 0 to 100, e.g. `slo=98.7%`; got `{value}`."), {"value": _quote(value)}))
        return {"slo": number, **extra}
    return {figure: int(number) if number == int(number) else number, **extra}


def _currency(text: str) -> tuple[str, str | None]:
    """`$5000` → ("5000", "$"); `5000 USD` → ("5000", "USD")."""
    if text and text[0] in _CURRENCY_SIGNS:
        return text[1:].strip(), text[0]
    if text and text[-1] in _CURRENCY_SIGNS:
        return text[:-1].strip(), text[-1]
    number, _, code = text.rpartition(" ")
    if number and _CURRENCY_CODE.match(code):
        return number.strip(), code
    return text, None


def figures_text(figures: dict | None) -> str:
    """The figures as a person would type them again (the form's prefilled field)."""
    if not figures:
        return ""
    parts = []
    for name in ("users", "requests", "revenue", "slo"):
        if name not in figures:
            continue
        value = _plain_number(figures[name])
        if name == "revenue" and figures.get("currency"):
            currency = figures["currency"]
            value = f"{currency}{value}" if currency in _CURRENCY_SIGNS else f"{value} {currency}"
        parts.append(f"{name}={value}{'%' if name == 'slo' else ''}")
    return " ".join(parts)


def _plain_number(value) -> str:
    return str(int(value)) if float(value) == int(value) else str(value)


def _quote(text: str) -> str:
    return text.replace("`", "'")[:40].replace("<", "&lt;").replace(">", "&gt;")
