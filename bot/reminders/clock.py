"""The reminder clock: APScheduler 3 with its jobs in our database.

Jobs live in APScheduler's SQLAlchemy job store on DATABASE_URL, so a restart
loses none and runs the ones missed while down (within a grace period).
APScheduler 3 does not coordinate schedulers, so:
- every process writes jobs (web processes through a paused scheduler that only stores them);
- the processes that run jobs poll the store, since a scheduler only wakes for jobs it added itself;
- a reminder is sent only by whoever first claims it in the database (bot/reminders/planner.py),
  so two clocks on one database still send each reminder once.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.reminders.rhythm import LATE_DROPPED_AFTER, Timer

log = logging.getLogger(__name__)

JOB_FUNCTION = "bot.reminders:fire"
REPLAN_FUNCTION = "bot.reminders:replan_all"


def _polling(base):
    class Polling(base):
        poll_seconds = 5.0

        def _process_jobs(self):
            try:
                wait = super()._process_jobs()
            except JobLookupError:
                # Another clock ran and removed a due job between our read and our removal.
                return 0
            
            return self.poll_seconds if wait is None else min(wait, self.poll_seconds)

    Polling.__name__ = f"Polling{base.__name__}"
    return Polling


PollingBackgroundScheduler = _polling(BackgroundScheduler)
PollingBlockingScheduler = _polling(BlockingScheduler)


class Clock:
    """Stores reminder jobs and, when running, fires them."""

    def __init__(self, engine, *, runs_jobs: bool, blocking: bool = False, poll_seconds: float = 5.0):
        kind = PollingBlockingScheduler if blocking else PollingBackgroundScheduler
        self.runs_jobs = runs_jobs
        self.scheduler = kind(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"default": {"type": "threadpool", "max_workers": 4}},
            job_defaults={"coalesce": True, "misfire_grace_time": int(LATE_DROPPED_AFTER.total_seconds()), "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.poll_seconds = poll_seconds

    def start(self) -> None:
        """Background clocks return at once; a blocking clock (`python app.py clock`) runs until stopped."""
        self.scheduler.start(paused=not self.runs_jobs)

    def run_jobs(self) -> None:
        """A paused clock (one that only stored jobs) starts running them: the worker chosen to run
        the embedded clock (bot/reminders/one_clock.py)."""
        self.runs_jobs = True
        self.scheduler.resume()

    def schedule(self, timer: Timer) -> None:
        self.scheduler.add_job(
            JOB_FUNCTION,
            trigger="date",
            run_date=timer.at,
            id=timer.job_id,
            args=[timer.job_id, timer.kind, timer.subject_id, timer.at.isoformat()],
            # Missed by more than this while no clock ran: dropped, and re-planned when a clock starts.
            misfire_grace_time=int(timer.dropped_after.total_seconds()),
            replace_existing=True,
        )

    def replan_soon(self) -> None:
        """Re-plan every reminder as soon as this clock runs (named per process: two clocks do not replace each other's)."""
        self.scheduler.add_job(REPLAN_FUNCTION, trigger="date", id=f"replan:{os.getpid()}@{socket.gethostname()}", replace_existing=True)

    def cancel(self, job_id: str) -> None:
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            pass

    def scheduled(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        # A job not yet in the store (added before the clock started) has no run time yet.
        return getattr(job, "next_run_time", None) if job else None

    def jobs(self) -> dict[str, datetime]:
        """Every stored job's next run time, in one read."""
        return {job.id: getattr(job, "next_run_time", None) for job in self.scheduler.get_jobs()}

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
