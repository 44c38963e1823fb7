"""Reminders: the rhythm's rules (rhythm.py), planning and sending them (planner.py), the clock (clock.py).

Stored clock jobs name `bot.reminders:fire` and `bot.reminders:replan_all`: jobs outlive a
deploy, so those two names stay here whatever moves inside the package.
"""


def fire(job_id: str, kind: str, subject_id: int, at_iso: str) -> None:
    from bot.reminders.planner import fire as fire_now

    fire_now(job_id, kind, subject_id, at_iso)


def replan_all() -> None:
    from bot.reminders.planner import replan_all as replan_now

    replan_now()
