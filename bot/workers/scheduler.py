"""APScheduler jobs; each calls an idempotent desk service, so a late or double run is harmless."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.ports import Inbox, JobLocks
from desk import regulations, services, sla
from desk.staff import Desk

log = logging.getLogger(__name__)

INBOX_KEPT = timedelta(days=1)  # handled updates; messengers keep unconfirmed ones for a day
JOB_GRACE = 5.0  # seconds a stop waits for the jobs running to finish before cancelling them


class Jobs(AsyncIOScheduler):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """The scheduler, knowing which of its jobs are running: a stop lets them finish.

    APScheduler's own shutdown cancels a running coroutine job and logs the cancellation as
    the job's error, with a traceback (seen when a webhook worker got SIGTERM mid-job)."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.in_progress: set[asyncio.Task[object]] = set()

    async def stop(self, grace: float = JOB_GRACE) -> None:
        """No new runs; the running jobs finish (for up to `grace` seconds); then shut down."""
        if not self.running:
            return
        self.pause()
        if self.in_progress:
            _, late = await asyncio.wait(set(self.in_progress), timeout=grace)
            if late:
                log.warning("%d job(s) still running after %.0f s of the stop; cut short "
                            "(they run again at the next start)", len(late), grace)  # fmt: skip
        self.shutdown(wait=False)  # APScheduler's asyncio flavour does it on the loop's next turn
        await asyncio.sleep(0)


def build_scheduler(
    desk: Desk,
    inbox: Inbox,
    wake: Callable[[], None],
    *,
    every_seconds: float,
    locks: JobLocks,
) -> Jobs:
    """SLA reminders and escalation, the daily digest, and housekeeping; each job runs in one
    worker at a time (`locks`), the others skip that tick."""
    scheduler = Jobs(timezone="UTC")

    def job(name: str, work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None  # APScheduler runs a coroutine job as a task
            scheduler.in_progress.add(task)
            try:
                await attempt()
            finally:
                scheduler.in_progress.discard(task)

        async def attempt() -> None:
            try:
                async with locks.hold(name) as mine:
                    if not mine:
                        log.debug("job %s runs in another worker; skipped here", name)
                        return
                    result = await work()
            except Exception:
                log.exception("job %s failed", name)
                return
            if result:
                log.info("job %s: %s", name, result)
                wake()

        return run

    async def purge() -> int:
        handled_purged = await inbox.purge_before(desk.clock.now() - INBOX_KEPT)
        # failed look-ups were never purged before: now they leave once no window needs them
        return handled_purged + await services.purge_lookup_failures(uow=desk.uow, clock=desk.clock)

    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(job("deadlines", lambda: sla.check_deadlines(desk)), "interval",
                      seconds=every_seconds, id="deadlines", **common)  # fmt: skip
    scheduler.add_job(job("digest", lambda: sla.overdue_digest(desk)), "interval",
                      seconds=every_seconds, id="digest", **common)  # fmt: skip

    async def drafts() -> int:
        # open what is due, report announcement progress, remind, close: each idempotent
        return (
            await regulations.open_due(desk)
            + await regulations.report_progress(desk)
            + await regulations.remind_due(desk)
            + await regulations.close_due(desk)
        )

    scheduler.add_job(job("drafts", drafts), "interval", seconds=every_seconds, id="drafts",
                      **common)  # fmt: skip
    scheduler.add_job(job("purge", purge), "interval", hours=6, id="purge", **common)
    return scheduler
