"""A scheduled job runs in one worker at a time: the others skip that tick.

Two workers are two `build_scheduler`s, each with its own `SqlJobLocks` and its own engine (two
connection pools, as two processes would have); both fire the same job at once. That is for
PostgreSQL; SQLite serves one process, where a second tick of a job still running skips.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.workers.scheduler import build_scheduler
from storage.locks import NameTaken, SqlJobLocks, WorkerName, lock_key
from tests.integration.conftest import Database
from tests.unit.fakes import FixedClock


class _Desk:
    def __init__(self) -> None:
        self.clock = FixedClock()


def _worker(engine: Any) -> Any:
    """One worker's scheduler; the jobs used here never touch the desk."""
    return build_scheduler(
        _Desk(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        lambda: None,
        every_seconds=60,
        locks=SqlJobLocks(engine),
    )


async def _run_job(scheduler: Any, name: str) -> None:
    job = scheduler.get_job(name)
    await job.func()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # SQLite serves one process
async def test_two_workers_run_a_job_once(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def deadlines(desk: Any) -> int:
        runs.append("run")
        started.set()
        await release.wait()
        return 0

    monkeypatch.setattr("desk.sla.check_deadlines", deadlines)
    other = db.reopen()
    try:
        workers = [_worker(db.engine), _worker(other)]
        first = asyncio.create_task(_run_job(workers[0], "deadlines"))
        await started.wait()
        await _run_job(workers[1], "deadlines")  # finds the job running: skips, returns at once
        await _run_job(workers[0], "deadlines")  # the same worker's second tick skips too
        assert runs == ["run"]
        release.set()
        await first
        await _run_job(workers[1], "deadlines")  # free again: the other worker may run it
        assert runs == ["run", "run"]
    finally:
        await other.dispose()


async def test_a_lock_is_free_again_after_a_failure(db: Database) -> None:
    locks, other = SqlJobLocks(db.engine), db.reopen()
    try:
        with pytest.raises(RuntimeError):
            async with locks.hold("purge") as mine:
                assert mine
                raise RuntimeError("the job failed")
        async with SqlJobLocks(other).hold("purge") as theirs:
            assert theirs
    finally:
        await other.dispose()


async def test_a_tick_while_the_job_still_runs_skips(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def overdue_digest(desk: Any) -> int:
        runs.append("run")
        started.set()
        await release.wait()
        return 0

    monkeypatch.setattr("desk.sla.overdue_digest", overdue_digest)
    worker = _worker(db.engine)
    first = asyncio.create_task(_run_job(worker, "digest"))
    await started.wait()
    await _run_job(worker, "digest")
    assert runs == ["run"]
    release.set()
    await first
    await _run_job(worker, "digest")
    assert runs == ["run", "run"]


def test_keys_are_stable_and_distinct() -> None:
    assert lock_key("deadlines") == lock_key("deadlines")
    assert len({lock_key(n) for n in ("deadlines", "digest", "drafts", "purge")}) == 4
    assert -(2**63) <= lock_key("purge") < 2**63


async def test_a_stop_lets_the_running_job_finish_without_an_error(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # SIGTERM in the middle of a job: it finishes its work, nothing is logged as its error
    started, finished = asyncio.Event(), asyncio.Event()

    async def deadlines(desk: Any) -> int:
        started.set()
        await asyncio.sleep(0.3)
        finished.set()
        return 0

    monkeypatch.setattr("desk.sla.check_deadlines", deadlines)
    scheduler = _worker(db.engine)
    scheduler.start()
    scheduler.get_job("deadlines").modify(next_run_time=datetime.now(UTC))
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.stop()
    assert finished.is_set(), "the job ran to its end"
    assert not scheduler.running
    assert "Error running job" not in caplog.text
    assert "Traceback" not in caplog.text


async def test_a_worker_name_is_held_by_one_live_process(db: Database) -> None:
    # two processes under one name would each take the other's claims for their own
    name = f"host-{uuid.uuid4().hex[:8]}:polling"  # advisory locks span the server's schemas
    other = db.reopen()  # a second process: its own connections (SQLite: its own descriptor)
    first, second = WorkerName(db.engine), WorkerName(other)
    try:
        await first.take(name)
        with pytest.raises(NameTaken, match=name):
            await second.take(name)
        await second.take(name.replace("polling", "webhook-8081"))  # another name is free
        await second.release()
        await first.release()  # at the stop (a killed process's goes with it)
        await second.take(name)
    finally:
        await first.release()
        await second.release()
        await other.dispose()


async def test_a_start_waits_for_a_name_the_process_before_still_holds(db: Database) -> None:
    # a restart while the old process (or, on PostgreSQL, a dead host's connection) still
    # holds the name: the new one waits and takes it once it is let go, instead of failing
    name = f"host-{uuid.uuid4().hex[:8]}:polling"
    other = db.reopen()
    old, new = WorkerName(db.engine), WorkerName(other)
    new.retry = 0.1  # NAME_RETRY is 5 s
    try:
        await old.take(name)

        async def let_go_soon() -> None:
            await asyncio.sleep(0.3)
            await old.release()

        letting = asyncio.create_task(let_go_soon())
        await new.take(name, wait=10)
        await letting
    finally:
        await old.release()
        await new.release()
        await other.dispose()
