"""The message catalogs: every text a person reads is in them, and translated in every language.

- The catalog is extracted from the code and the templates exactly as `scripts/catalogs extract`
  does (babel.cfg), and each language's .po must translate every text: no missing, empty or
  fuzzy entry, the same {placeholders} as the English, and no entry the code no longer has.
- No text a person reads bypasses the catalogs: an AST scan of bot/**/*.py finds string literals
  and f-strings that read as words outside `_`/`N_`/`NP_`/`ngettext`/`pgettext`, and a scan of the
  templates finds words outside `_()`. What may stay as it is (logs, operators' errors, the CLI's
  one-line errors, Slack's own names and ids, Markdown and mrkdwn punctuation) is said below, rule
  by rule, with a short allow-list for the rest.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from jinja2 import Environment, nodes

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


# --- the catalogs ----------------------------------------------------------------------------------


def extracted() -> dict[tuple[str | None, str], tuple[str, ...]]:
    """(context, msgid) -> every English form (one, or singular and plural), as Babel extracts them."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        forms = message if isinstance(message, tuple) else (message,)
        found[(context, forms[0])] = forms
    return found


def catalog(language: str):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as source:
        return read_po(source, locale=language)


def test_the_catalog_holds_the_texts_of_the_code_and_the_templates():
    texts = extracted()
    assert len(texts) > 400
    assert (None, "Recorded. {title}: {summary}") in texts  # bot/slack/texts.py
    assert ("status", "resolved") in texts and ("milestone", "resolved") in texts  # the vocabulary, by kind
    assert (None, "Postmortem: {title}") in texts  # templates/postmortem.md.j2
    assert texts[(None, "{n} day")] == ("{n} day", "{n} days")


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_with_its_placeholders(language):
    texts = extracted()
    po = catalog(language)
    entries = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id): m for m in po if m.id}
    missing = [key for key in texts if key not in entries]
    stale = [key for key in entries if key not in texts]
    untranslated, fuzzy, wrong_fields = [], [], []
    for key, forms in texts.items():
        entry = entries.get(key)
        if entry is None:
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            fuzzy.append(key)
        if not all(s and s.strip() for s in strings) or len(strings) < po.num_plurals and len(forms) > 1:
            untranslated.append(key)
        wanted = {field for form in forms for field in _FIELD.findall(form)}
        for string in strings:
            # A plural's forms may each leave out {n} (a language with one form keeps it); no other field may go or come.
            got = set(_FIELD.findall(string or ""))
            if got != wanted and not (len(forms) > 1 and got == wanted - {"n"}):
                wrong_fields.append((key, sorted(wanted), sorted(got)))
    problems = {
        "missing (run scripts/catalogs update, then translate)": missing,
        "empty": untranslated,
        "fuzzy (check the translation, then remove the fuzzy flag)": fuzzy,
        "placeholders differ from the English": wrong_fields,
        "no longer in the code (run scripts/catalogs update)": stale,
    }
    assert not any(problems.values()), {what: found for what, found in problems.items() if found}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_declares_its_language_and_plural_forms(language):
    po = catalog(language)
    assert str(po.locale) == language and not po.fuzzy
    assert po.num_plurals == get_plural(language).num_plurals  # gettext's plural forms (Japanese and Korean: one)


# --- nothing bypasses the catalogs ------------------------------------------------------------------

# Calls whose literal arguments are catalog texts (marked for extraction).
MARKERS = {"_", "N_", "NP_", "ngettext", "pgettext", "gettext"}
# Logging: for operators, in English.
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
LOGGERS = {"log", "logger", "logging"}
# Exceptions whose message is for operators or the CLI, never shown in Slack (the people's refusals,
# IncidentError, UsageError, TimeInputError, TagError and RangeError, carry catalog texts).
OPERATOR_ERRORS = {
    "ValueError", "TypeError", "KeyError", "RuntimeError", "AssertionError", "NotImplementedError", "SystemExit",
    "ConfigError", "SetupFailed", "ReminderSkipped", "BadInput", "ImportRefused", "ExportError", "ArgumentTypeError",
    # An alert sender's payload or ALERT_RULES refused: the HTTP answer to a machine, the start-up line to an operator.
    "PayloadError", "RulesError",
    # Start-up failures outside the settings (Slack unreachable in Socket Mode): one line for the operator.
    "StartupError",
}
# The command line (python app.py export / import): its help and one-line messages stay English.
CLI_CALLS = {"print", "ArgumentParser", "add_argument"}
CLI_KEYWORDS = {"prog", "description", "epilog", "help"}
# Settings are read and refused for operators, in English (ConfigError: one line naming the variable).
# The alert endpoints answer machines (Alertmanager, Grafana, PagerDuty) and their operators over HTTP.
# The command line (bot/cli.py: its help and one-line messages) and the processes' start-up log (bot/app.py)
# are for operators, in English too.
OPERATOR_FILES = {"bot/config.py", "bot/alerts/webhooks.py", "bot/cli.py", "bot/app.py"}
# Keyword arguments that Slack shows to people: any literal with a letter in them is a text.
SHOWN_KEYWORDS = {"text", "title", "initial_comment", "alt_txt", "topic", "purpose", "placeholder", "label"}

# Literals that read as words but are not a text a person reads, each with why.
ALLOWED = {
    # The CLI's one-line messages (python app.py import), built before they are printed or raised.
    ("bot/transfer/import_command.py", " (nobody marked it resolved: resolved at its last message from a person)"),
    ("bot/transfer/incident_import.py", "was already imported as"),
    ("bot/transfer/incident_import.py", "is already"),
    ("bot/transfer/slack_export.py", " and   more"),
    # Slack's own user, as Slack names it (exports leave it out of users.json).
    ("bot/transfer/incident_import.py", "Slackbot"),
    # Operators' words: the log's hint for a Home tab Slack refuses, and a target's format in settings.
    ("bot/slack/home.py", " (turn on App Home → Home Tab in the app's settings)"),
    ("bot/stats/insights.py", "a duration such as 5m, 4h, 1h30m or 2d (0 or off for no target)"),
    # A stand-in response_url for setup that nobody asked for (what it says goes to the log).
    ("bot/alerts/delivery.py", "(alert: nobody to answer)"),
    # Part of a PayloadError's one line, answered to the machine that sent the payload.
    ("bot/alerts/payloads.py", "the payload"),
    # Part of a REACTION_<MARK> setting's one-line refusal (a ValueError the settings turn into a ConfigError).
    ("bot/domain/marks.py", " by default (set   to change that)"),
    # Products' names, as they write them.
    ("bot/alerts/texts.py", "Alertmanager"),
    ("bot/alerts/texts.py", "Grafana"),
    ("bot/alerts/texts.py", "PagerDuty"),
    # The HTTP body of a refused request: for whatever sent it, not for a person in Slack.
    ("bot/slack/server.py", "malformed request"),
    # A command to type, the same in every language: `/incident started <time> confirm`.
    ("bot/domain/lifecycle.py", "/incident     confirm"),
    # Python names: a class made at run time, and matplotlib's legend position.
    ("bot/reminders/clock.py", "Polling"),
    ("bot/stats/chart.py", "upper left"),
    # matplotlib's font family names.
    ("bot/stats/chart.py", "DejaVu Sans"),
    ("bot/stats/chart.py", "Noto Sans CJK JP"),
    ("bot/stats/chart.py", "Noto Sans JP"),
    ("bot/stats/chart.py", "VL Gothic"),
    ("bot/stats/chart.py", "Hiragino Sans"),
    ("bot/stats/chart.py", "Yu Gothic"),
    ("bot/stats/chart.py", "Noto Sans CJK KR"),
    ("bot/stats/chart.py", "Noto Sans KR"),
    ("bot/stats/chart.py", "Apple SD Gothic Neo"),
    ("bot/stats/chart.py", "Malgun Gothic"),
    # Role names that mean the commander (`/incident role incident commander @x` is refused).
    ("bot/domain/command_parser.py", "incident commander"),
}

_EMOJI = re.compile(r":[a-z0-9_+\-']+:")
_MARKUP = re.compile(r"<[@#!][^>]*>")
_WORDS = re.compile(r"[A-Za-z]{2,}[^\S\n]+[A-Za-z]{2,}|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_A_WORD = re.compile(r"^[A-Z][a-z]{2,}[.!?…]*$")  # `Done`, `Resolve`: a label of one word


def reads_as_words(text: str) -> bool:
    bare = _MARKUP.sub("", _EMOJI.sub("", text))
    return bool(_WORDS.search(bare) or _A_WORD.match(bare.strip()))


def has_a_letter(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]", _MARKUP.sub("", _EMOJI.sub("", text))))


class LiteralScan(ast.NodeVisitor):
    """Every string literal (or f-string) that reads as words and is not a catalog text or exempt."""

    def __init__(self, path: str):
        self.path = path
        self.found: list[tuple[str, int, str]] = []
        self._exempt: set[int] = set()

    def scan(self, tree: ast.AST) -> list[tuple[str, int, str]]:
        for node in ast.walk(tree):
            self._mark_exempt(node)
        self.visit(tree)
        return self.found

    def _mark_exempt(self, node: ast.AST) -> None:
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                self._exempt.add(id(body[0].value))  # a docstring
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]:
                if arg is not None and arg.annotation is not None:
                    self._exempt_all(arg.annotation)  # `-> "Settings"`: a forward reference
            if node.returns is not None:
                self._exempt_all(node.returns)
        if isinstance(node, ast.AnnAssign):
            self._exempt_all(node.annotation)
        if isinstance(node, ast.Dict):
            for key in node.keys:  # keys are looked up (ids, commands people type), not shown as written
                if key is not None:
                    self._exempt_all(key)
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in CLI_KEYWORDS:
                    self._exempt_all(keyword.value)
            name = _name(node.func)
            if name in MARKERS:
                for arg in node.args:  # the texts themselves; keyword values are parameters, scanned
                    self._exempt_all(arg)
            elif name in CLI_CALLS or (
                name in LOG_METHODS and isinstance(node.func, ast.Attribute) and _name(node.func.value) in LOGGERS
            ):
                self._exempt_all(node)
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _name(node.exc.func) in OPERATOR_ERRORS:
            self._exempt_all(node.exc)
        if isinstance(node, ast.JoinedStr):
            for value in node.values:
                if isinstance(value, ast.FormattedValue) and value.format_spec is not None:
                    self._exempt_all(value.format_spec)  # `:%Y-%m-%d`
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:  # `status == "resolved"`: a key, not a text
                if isinstance(operand, ast.Constant):
                    self._exempt.add(id(operand))

    def _exempt_all(self, node: ast.AST) -> None:
        for inner in ast.walk(node):
            self._exempt.add(id(inner))

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg in SHOWN_KEYWORDS:
                text = _literal(keyword.value)
                if text is not None and id(keyword.value) not in self._exempt and has_a_letter(text):
                    self._report(keyword.value, text)
                    self._exempt_all(keyword.value)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self._exempt and reads_as_words(node.value):
            self._report(node, node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        if id(node) in self._exempt:
            return
        text = _literal(node)
        if reads_as_words(text):
            self._report(node, text)
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                self.visit(value.value)

    def _report(self, node: ast.AST, text: str) -> None:
        if (self.path, text) not in ALLOWED:
            self.found.append((self.path, node.lineno, text))


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(node: ast.AST) -> str | None:
    """The words a literal or f-string writes itself (what its {expressions} fill in left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def bypassing_literals(source: str, path: str = "<code>") -> list[tuple[str, int, str]]:
    return LiteralScan(path).scan(ast.parse(source))


def test_no_text_in_the_code_bypasses_the_catalogs():
    found = []
    for file in sorted((ROOT / "bot").rglob("*.py")):
        path = file.relative_to(ROOT).as_posix()
        if path not in OPERATOR_FILES:
            found += bypassing_literals(file.read_text(encoding="utf-8"), path)
    assert not found, "texts a person reads must come from the catalogs (t._, N_…):\n" + "\n".join(
        f"{path}:{line}: {text!r}" for path, line, text in found
    )


@pytest.mark.parametrize(
    "code",
    [
        'def f(ack):\n    ack(text="Recorded")',
        'def f(client):\n    client.chat_postMessage(channel="C1", text=f"{x} was resolved by {y}")',
        'def f():\n    return "No open incidents."',
        'def f(t):\n    return t._("Recorded {what}", what="by the bot")',  # a parameter's words bypass too
        'def f():\n    raise IncidentError(f"Incident #{n} is already resolved.")',
        'BUTTON = {"type": "plain_text", "text": "Done"}',
        'def f(view):\n    view["title"] = "インシデント"',
    ],
)
def test_the_scan_finds_a_text_that_bypasses_the_catalogs(code):
    assert bypassing_literals(code), code


@pytest.mark.parametrize(
    "code",
    [
        'def f(t):\n    return t._("Recorded. {title}: {summary}", title=x, summary=y)',
        'X = N_("Only members of this incident\'s channel can change the incident.")',
        'def f():\n    log.warning("could not tell %s privately in %s: %s", user, channel, error)',
        'def f():\n    raise ConfigError(f"{name} must be true or false, got {value!r}")',
        'def f(t):\n    return f":warning: {t._(message)}"',
        'def f(user):\n    return f"<@{user}> · :lock:"',
        'def f(x):\n    return x.strftime("%Y-%m-%d %H:%M ")',
        'def f():\n    """A docstring is for people reading the code."""',
        'def f(kind):\n    return kind == "action_done"',
    ],
)
def test_the_scan_leaves_what_is_not_a_text_alone(code):
    assert not bypassing_literals(code), code


# --- the templates ----------------------------------------------------------------------------------

# What a template may write itself: Markdown and mrkdwn punctuation, emoji, and TTD / TTM / TTR,
# the acronyms every language's postmortem uses.
_TEMPLATE_PUNCTUATION = re.compile(r"\b(?:TTD|TTM|TTR)\b|:[a-z0-9_+\-]+:|[\W\d_]")


def template_words(path: Path) -> list[tuple[int, str]]:
    env = Environment(extensions=["jinja2.ext.i18n"])
    tree = env.parse(path.read_text(encoding="utf-8"))
    found = []
    for data in tree.find_all(nodes.TemplateData):
        if _TEMPLATE_PUNCTUATION.sub("", data.data).strip():
            found.append((data.lineno, data.data.strip()))
    return found


@pytest.mark.parametrize("template", sorted(p.name for p in (ROOT / "templates").glob("*.j2")))
def test_templates_write_no_words_outside_the_catalogs(template):
    assert template_words(ROOT / "templates" / template) == []
