"""Time one postmortem in a fresh process: `python -m bench.render DATABASE_URL INCIDENT_ID [LANGUAGE] [--out FILE]`.

Times `bot.postmortem.builder.build` (reading the record) and `bot.postmortem.render.render_postmortem`
(the Markdown) as the app's postmortem delivery calls them, after the templates were compiled as
the app compiles them at start-up (`render.prepare`, timed on its own), and prints one JSON line with the
times, the process's peak resident set before and after (VmHWM: ru_maxrss would also count the
pages of the parent this process was forked from, before exec), and the document's size and
SHA-256 (so two versions of the code can be shown to render the same bytes). The generation time
is fixed, so the same record always gives the same document.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

GENERATED_AT = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
TIMEZONE = "Asia/Tokyo"


def main(argv: list[str]) -> int:
    from bot.config import Settings
    from bot.postmortem import builder
    from bot.postmortem.render import prepare, render_postmortem
    from storage.db import Database
    from storage.incident_store import reading

    url, incident_id = argv[1], int(argv[2])
    language = argv[3] if len(argv) > 3 and not argv[3].startswith("--") else "en"
    out = argv[argv.index("--out") + 1] if "--out" in argv else None
    database = Database(Settings.from_env({"DATABASE_URL": url}, need_slack=False).database_url)
    with reading(database) as store:  # connect (and warm the pool) outside the timings
        store.incident(incident_id)
    # As the app does at start-up (bot/app.py): templates compiled before the first postmortem.
    t_prepare = time.perf_counter()
    prepare(language, TIMEZONE)
    prepare_s = time.perf_counter() - t_prepare
    baseline_kb = _vmhwm_kb()

    t0 = time.perf_counter()
    with reading(database) as store:
        incident = store.incident(incident_id)
        data = builder.build(store, incident, ZoneInfo(TIMEZONE), GENERATED_AT)
    t1 = time.perf_counter()
    document = render_postmortem(data, language)
    t2 = time.perf_counter()

    peak_kb = _vmhwm_kb()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(document)
    print(json.dumps({
        "incident": incident_id,
        "entries": len(data.full_log),
        "language": language,
        "build_s": t1 - t0,
        "render_s": t2 - t1,
        "total_s": t2 - t0,
        "prepare_s": prepare_s,
        "baseline_rss_mb": baseline_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "ru_maxrss_mb": maxrss_kb / 1024,
        "chars": len(document),
        "sha256": hashlib.sha256(document.encode("utf-8")).hexdigest(),
    }))
    database.dispose()
    return 0


def _vmhwm_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
