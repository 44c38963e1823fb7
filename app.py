"""`python app.py [command]`: the bot's command line (bot/cli.py) from the source tree.

The same commands as the installed `incident-bot`: `serve` (the default, the Procfile's web process),
`clock`, `migrate`, `export`, `import`, `settings`; `python app.py --help` lists them.
"""

from __future__ import annotations

import sys


def __getattr__(name: str):
    # `import app as entry; entry.build_app(...)`: the tests' way in, loaded on first use so that
    # `python app.py --help` does not wait for Bolt and every listener.
    if name in ("build_app", "start_clock"):
        from bot import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _missing_dependency(missing: ModuleNotFoundError) -> str:
    """One line instead of a traceback when run with a Python that lacks the requirements (`python3 app.py`)."""
    command = " ".join(["scripts/run", *sys.argv[1:]])
    return f"{missing.msg} in {sys.executable}: run `{command}`, which installs the requirements into .venv and uses it"


def main(argv: list[str] | None = None) -> int:
    """bot.cli.main as `python app.py`: the exit code of one command. argv leaves out the program name,
    though the older `main(sys.argv)`, with "app.py" first, still works."""
    from bot.cli import main as run

    if argv and argv[0].endswith("app.py"):
        argv = argv[1:]
    return run(argv, prog="python app.py")


if __name__ == "__main__":
    try:
        import bot.cli  # noqa: F401 - the first import that needs the requirements
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] in ("bot", "storage"):
            raise
        sys.exit(_missing_dependency(missing))
    sys.exit(main())
