"""What people wrote, quoted in the postmortem: every CommonMark renderer shows exactly the words.

markdown-it-py (a CommonMark-compliant parser) renders what bot.postmortem.render.markdown_text
makes of a hostile corpus and of arbitrary text (Hypothesis): the result must be one paragraph
whose text is the original, with only these differences, all decided in RELIABILITY.md:
control and bidi-override characters show as U+FFFD, broadcasts are defused, a leading space or
tab shows as a no-break space (visible indentation, never a code block), and trailing whitespace,
invisible anyway, may be dropped. Then the same through the real app: messages quoted in the
uploaded `.md`, and `python app.py export` of the record.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.postmortem.render import markdown_text
from bot.slack.formatting import markup_from_plain, readable
from tests.conftest import ANA, KEN, wait_until

ROOT = Path(__file__).resolve().parent.parent
COMMONMARK = MarkdownIt("commonmark")
# The whitespace CommonMark renderers trim off a line's ends (bot/postmortem/render.py keeps it visible).
SPACES = " \t\u00a0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))

# Every way a line can start a CommonMark block, and inline syntax that could change the document.
HOSTILE_LINES = [
    "1. restart the db", "1) restart the db", "10. tenth", "123456789. nine digits", "# heading", "###### six",
    "> quote", ">> nested", "- item", "+ item", "* item", "- [ ] task", "===", "---", "- - -", "***", "* * *", "___",
    "    indented code", "\tindented code", "  two spaces", "```", "```python", "~~~", "| a | b |", "|---|---|",
    "<div>html</div>", "<!-- comment -->", "<script>alert(1)</script>", "[x]: http://evil", "[^1]: note",
    "[link](http://x)", "![img](http://x/i.png)", "<http://autolink>", "**bold** _it_ `code` ~~gone~~",
    "a\\", "back\\slash \\* \\1.", "&amp; &#x41; &nbsp; &copy;", "\u3000全角で字下げ", "\u00a0nbsp first", "\u2003em space",
    "\x1b[31mred\x1b[0m", "\u202etxt.exe", "\u2066isolate\u2069", "\x7f\x85\x9b", "NUL \x00 here", "{{ 7*7 }} {% raw %}",
    "1.", "-", "+", "#", ">", "=", "\\", "&", "<", "`", "~", "|", "*", "_", "[", "]",
]


def expected(line: str) -> str:
    """What a reader should see: the words as Slack shows them (broadcasts defused, hidden characters as
    U+FFFD), with a space or tab in the whitespace at either end of the line as a no-break space."""
    shown = readable(markup_from_plain(line))
    # The run of spaces at either end (Unicode spaces too, which renderers also trim) is kept visible:
    # its spaces and tabs as no-break spaces, any other space as itself.
    core = shown.strip(SPACES)
    if not core:
        return _visible_spaces(shown)
    start = shown.index(core)
    return _visible_spaces(shown[:start]) + core + _visible_spaces(shown[start + len(core):])


def _visible_spaces(run: str) -> str:
    return run.replace(" ", "\u00a0").replace("\t", "\u00a0")


def rendered(markdown: str) -> str:
    """The text of `markdown` when it is one paragraph of plain text and line breaks; fails otherwise."""
    tokens = COMMONMARK.parse(markdown)
    if not markdown:
        return ""
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], (markdown, tokens)
    return _inline_text(tokens[1], markdown)


def _inline_text(inline, markdown: str, inline_markup: bool = False) -> str:
    """Text and line breaks; code spans and emphasis only where `inline_markup` (the template's own)."""
    parts = []
    for child in inline.children:
        if child.type == "text" or (inline_markup and child.type == "code_inline"):
            parts.append(child.content)
        elif child.type == "hardbreak":
            parts.append("\n")
        elif not inline_markup or child.type not in ("strong_open", "strong_close", "em_open", "em_close"):
            raise AssertionError(f"{markdown!r} made a {child.type}")
    return "".join(parts)


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_a_hostile_line_renders_as_exactly_its_text(line):
    assert rendered(markdown_text(markup_from_plain(line), {})) == expected(line)


def test_an_ordered_list_marker_is_escaped_on_its_dot_not_before_its_digit():
    assert markdown_text("1. restart the db", {}) == "1\\. restart the db"
    assert markdown_text("2) then", {}) == "2\\) then"


# A slash command or message is UTF-8: any character but a lone surrogate.
lines = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40)
pieces = st.lists(st.one_of(st.sampled_from(HOSTILE_LINES), lines), min_size=1, max_size=4)
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(line=st.one_of(lines, pieces.map("".join), pieces.map(" ".join)))
def test_any_line_renders_as_exactly_its_text(line):
    assert rendered(markdown_text(markup_from_plain(line), {})) == expected(line)


@PROPERTY
@given(text_lines=st.lists(st.one_of(lines, st.sampled_from(HOSTILE_LINES)), min_size=2, max_size=5))
def test_any_message_of_several_lines_stays_one_paragraph_with_its_line_breaks(text_lines):
    markdown = markdown_text(markup_from_plain("\n".join(text_lines)), {})
    shown = rendered(markdown).split("\n")
    assert shown == [expected(line) or "\u00a0" for line in text_lines]


# --- through the app ----------------------------------------------------------------------------------

QUOTED = "1. restart the db\n2) then the pool\n# not a heading\n> not a quote\n    not code\n```\n<b>not html</b>\n---"
AS_SLACK_SENDS = markup_from_plain(QUOTED)  # Slack escapes &, < and > in message text
HIDDEN = "colour \x1b[31mred\x1b[0m and \u202etxt.exe\u202c"


def _markdown_of(standin, channel: str) -> str:
    files = wait_until(lambda: [f for f in standin.files() if channel in (f.get("channels") or []) and f["name"].startswith("postmortem-")])
    return files[-1]["content"].decode("utf-8")


def _list_items_quoting(markdown: str, fragment: str) -> list[str]:
    """The text of every list item whose paragraph quotes `fragment` (each must be one paragraph)."""
    tokens = COMMONMARK.parse(markdown)
    found = []
    for i, token in enumerate(tokens):
        if token.type == "list_item_open":
            depth, j, inner = 1, i + 1, []
            while depth:
                depth += tokens[j].nesting if tokens[j].type.startswith("list_item") else 0
                inner.append(tokens[j])
                j += 1
            inlines = [t for t in inner if t.type == "inline"]
            texts = [_inline_text(t, markdown, inline_markup=True) for t in inlines]
            if any(fragment in text for text in texts):
                assert [t.type for t in inner[:-1]] == ["paragraph_open", "inline", "paragraph_close"], inner
                found.append(texts[0])
    return found


def test_quoted_messages_keep_their_words_in_the_uploaded_postmortem(bot, standin):
    incident = bot.declare(f"Quoting {HIDDEN}")
    channel = incident.channel_id
    message = bot.say(incident, KEN, AS_SLACK_SENDS)
    hidden = bot.say(incident, KEN, HIDDEN)
    bot.event(bot.slack.reaction_added(ANA, channel, message["ts"], "mag"))
    bot.command(ANA, "resolve", channel=channel)
    document = _markdown_of(standin, channel)
    assert "\\1." not in document and "1\\. restart the db" in document
    quoted = "\n".join(expected(line) for line in QUOTED.split("\n"))
    items = _list_items_quoting(document, "restart the db")
    assert len(items) == 3  # the timeline, the root cause, the full log
    assert all(item.endswith(quoted) for item in items), items
    assert not re.search("[\x1b\u202e\u202c]", document)
    assert "# Postmortem: Quoting colour \ufffd\\[31mred\ufffd\\[0m and \ufffdtxt.exe\ufffd\n" in document
    [line] = _list_items_quoting(document, "txt.exe")[-1:]
    assert line.endswith("colour \ufffd[31mred\ufffd[0m and \ufffdtxt.exe\ufffd")
    # The record keeps what was written: it is the evidence.
    assert [e.text for e in bot.entries(incident.id, "message")] == [AS_SLACK_SENDS, HIDDEN]
    assert bot.incident(incident.id).title == f"Quoting {HIDDEN}"
    assert hidden["text"] == HIDDEN


def test_the_exported_record_keeps_hidden_characters_exactly_but_escaped(bot, standin):
    incident = bot.declare(f"Export {HIDDEN}")
    bot.say(incident, KEN, f"said {HIDDEN} \x85 \u2067x\u2069")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=bot.env["DATABASE_URL"], PYTHONIOENCODING="utf-8")

    def export(fmt: str) -> str:
        result = subprocess.run([sys.executable, "app.py", "export", str(incident.id), "--format", fmt],
                                cwd=ROOT, env=env, capture_output=True, encoding="utf-8", timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    raw = export("json")
    # No terminal or editor showing the file acts on them: each is a \u escape, and JSON gives the text back.
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", raw)
    assert "\\u001b[31mred" in raw and "\\u202etxt.exe\\u202c" in raw and "\\u0085" in raw and "\\u2067x\\u2069" in raw
    record = json.loads(raw)
    assert record["title"] == f"Export {HIDDEN}"
    assert [e["text"] for e in record["timeline"] if e["kind"] == "message"] == [f"said {HIDDEN} \x85 \u2067x\u2069"]
    document = export("md")
    bot.command(ANA, "resolve", channel=incident.channel_id)  # no open incident left for later clocks
    assert not re.search("[\x1b\u202e\u202c\u2067\u2069\x85]", document)
    assert "said colour \ufffd\\[31mred\ufffd\\[0m and \ufffdtxt.exe\ufffd \ufffd \ufffdx\ufffd" in document
