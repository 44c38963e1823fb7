"""The settings table (bot/config.py) is the only way the bot reads its environment."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot.config import SETTINGS, ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent
EVERY_VARIABLE = [name for row in SETTINGS for name in row.variables]


class RecordingEnvironment(Mapping):
    """An environment that remembers every variable asked for."""

    def __init__(self, values: dict[str, str] | None = None):
        self.values = values or {}
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("settings are read by name, never by listing the environment")

    def __len__(self) -> int:
        return len(self.values)


def test_the_settings_read_exactly_the_variables_of_the_table():
    env = RecordingEnvironment()
    Settings.from_env(env, need_slack=False)
    assert env.asked == set(EVERY_VARIABLE)
    assert len(EVERY_VARIABLE) == len(set(EVERY_VARIABLE)), "a variable is in two rows"


def test_nothing_else_in_the_bot_reads_the_environment():
    """Every os.environ in the shipped code goes through Settings.from_env; libraries are told settings explicitly."""
    readers = []
    for path in [ROOT / "app.py", *sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "storage").rglob("*.py"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bos\.(environ|getenv)\b|\bgetenv\(", line) and "from_env(os.environ" not in line:
                readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert readers == []


def test_every_row_reads_its_defaults_back_as_the_defaults():
    """A .env written out with every default (`incident-bot settings`, uncommented) changes nothing."""
    defaults = {name: default for row in SETTINGS for name, default in row.defaults.items()}
    assert Settings.from_env(defaults, need_slack=False) == Settings.from_env({}, need_slack=False) == Settings()


@pytest.mark.parametrize("value, level", [("debug", "DEBUG"), ("Warning", "WARNING"), (" info ", "INFO"), ("", "INFO")])
def test_log_level_reads_any_case(value, level):
    assert Settings.from_env({"LOG_LEVEL": value}, need_slack=False).log_level == level


@pytest.mark.parametrize(
    "name, value",
    [("LOG_LEVEL", "chatty"), ("LOG_LEVEL", "10"), ("WEB_CONCURRENCY", "abc"), ("WEB_CONCURRENCY", "0"),
     ("WEB_CONCURRENCY", "-2"), ("WEB_THREADS", "0"), ("WEB_THREADS", "2.5"), ("PORT", "0"), ("PORT", "65536")],
)
def test_a_bad_value_names_its_variable_first(name, value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value}, need_slack=False)
    assert str(caught.value).startswith(f"{name} ") and repr(value) in str(caught.value)


def test_web_concurrency_defaults_to_one_worker_per_usable_core():
    settings = Settings.from_env({}, need_slack=False)
    assert (settings.web_concurrency, settings.web_threads) == (len(os.sched_getaffinity(0)), 8)
    assert Settings.from_env({"WEB_CONCURRENCY": "AUTO"}, need_slack=False).web_concurrency == len(os.sched_getaffinity(0))
    assert (Settings.from_env({"WEB_CONCURRENCY": "3", "WEB_THREADS": "16"}, need_slack=False).web_concurrency) == 3


# --- the code, the README's table and .env.example agree ------------------------------------------------


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_configuration_rows() -> list[tuple[str, str, str]]:
    section = _readme().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            variable, required, default = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:4]]
            rows.append((variable.strip("`"), required, default))
    return rows


def test_the_readme_table_lists_every_setting_in_order_with_its_default():
    assert _readme_configuration_rows() == [(row.label, row.required, row.shown_default) for row in SETTINGS]


def test_env_example_is_what_the_settings_command_prints():
    from bot.config import env_example

    assert (ROOT / ".env.example").read_text(encoding="utf-8") == env_example(), (
        "regenerate it: .venv/bin/python app.py settings > .env.example"
    )
    listed = re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", env_example(), re.M)
    assert listed == EVERY_VARIABLE


def test_the_readme_first_screen_says_the_python_version_and_how_to_run_things():
    import tomllib

    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"].removeprefix(">=")
    first_screen = _readme().split("\n---\n", 1)[0]
    assert f"Python {minimum}" in first_screen
    for words in ("scripts/run ", "scripts/test ", "scripts/run <command>", "incident-bot <command>", "pip install ."):
        assert words in first_screen, words
