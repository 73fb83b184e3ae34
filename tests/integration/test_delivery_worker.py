"""The delivery worker's loop on a real database, with its sender replaced by a recorder:
rows read in batches, each sent once and in order per chat, paced, a 429 pausing the platform."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from sqlalchemy import func, select
from sqlmodel import col

from bot.runtime.boundary import Outcome, Verdict
from bot.workers.delivery import DeliveryWorker, Limits, RateLimiter
from desk.model import NoticeKind, Platform
from desk.outbox import Due, Pending
from desk.routing import load_rules
from storage.delivery import SqlDelivery
from storage.tables import OutboxChatRow, OutboxRow
from tests.integration.conftest import Database

TG = Platform.TELEGRAM


class Recorder:
    """The worker's sender: records instead of calling an API, and can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, int, int]] = []  # (monotonic, chat, row id)
        self.faults: dict[int, list[Exception]] = {}

    async def __call__(self, item: Pending, /) -> tuple[int | None, str | None]:
        await asyncio.sleep(0.02)  # the API's round trip: sends overlap in flight
        faults = self.faults.get(item.id)
        if faults:
            raise faults.pop(0)
        self.sent.append((time.monotonic(), item.chat_id, item.id))
        return 1000 + item.id, None


class CountedDelivery(SqlDelivery):
    """The real outbox store, counting its reads of what is due."""

    calls = 0

    async def due(self, limit: int = 500) -> Due:
        self.calls += 1
        return await super().due(limit)


def rig(
    db: Database, per_second: float, api: Recorder | None = None, **kwargs: Any
) -> tuple[DeliveryWorker, Recorder, CountedDelivery]:
    """The real loop on the database, sending through a `Recorder`."""
    api = api or Recorder()
    store = CountedDelivery(db.sessions)
    worker = DeliveryWorker(
        store=store,
        send=api,
        platforms=[TG],
        rules=load_rules(Path(__file__).resolve().parents[2] / "routing_rules.yaml"),
        limiters={TG: RateLimiter(Limits(per_second=per_second))},
        **kwargs,
    )
    return worker, api, store


async def queue(db: Database, chats: list[int]) -> list[int]:
    """One outbox row per entry (a chat may appear several times); returns their ids."""
    now = datetime.now(UTC)
    rows = [
        OutboxRow(platform=TG.value, chat_id=chat, kind=NoticeKind.CITIZEN_TEXT.value,
                  data={}, next_attempt_at=now, created_at=now)
        for chat in chats
    ]  # fmt: skip
    async with db.sessions() as session, session.begin():
        session.add_all(rows)
    return [r.id for r in rows if r.id is not None]


def refuse(store: SqlDelivery, method: str, times: int, *, row: int | None = None) -> list[Any]:
    """The database refuses the store's `method` its next `times` calls (of row `row` only,
    if given), as one restarting would; returns the refusals left."""
    real = getattr(store, method)
    refusals = [ConnectionResetError("the database went away")] * times

    async def refusing(item: Pending, *args: Any, **kwargs: Any) -> Any:
        if refusals and (row is None or item.id == row):
            raise refusals.pop()
        return await real(item, *args, **kwargs)

    setattr(store, method, refusing)
    return refusals


async def run_until_sent(worker: DeliveryWorker, db: Database, timeout: float) -> None:
    store = SqlDelivery(db.sessions)
    task = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + timeout
        while (await store.counts())["pending"]:
            assert time.monotonic() < deadline, await store.counts()
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)


@pytest.mark.slow
@pytest.mark.timing  # at least 80 % of the pace in wall time: measured with the machine to itself
async def test_a_batch_goes_out_once_in_order_at_the_pace_with_few_queries(db: Database) -> None:
    # chat 1 has three rows (one a second at most); 150 other chats one row each
    chats = [1, *range(100, 150), 1, *range(150, 250), 1]
    ids = await queue(db, chats)
    worker, api, store = rig(db, per_second=50, batch=60)
    started = time.monotonic()
    await run_until_sent(worker, db, timeout=30)
    elapsed = time.monotonic() - started

    assert sorted(i for _, _, i in api.sent) == sorted(ids), "every row exactly once"
    mine = [(t, i) for t, c, i in api.sent if c == 1]
    assert [i for _, i in mine] == [ids[0], ids[51], ids[-1]], "one chat's rows in order"
    assert all(b[0] - a[0] >= 1 - 1e-3 for a, b in itertools.pairwise(mine))
    times = sorted(t for t, _, _ in api.sent)
    worst = max(sum(1 for t in times[i:] if t < start + 1) for i, start in enumerate(times))
    assert worst <= 50 + 1, worst
    assert len(ids) / elapsed > 0.8 * 50, f"{len(ids)} rows in {elapsed:.1f} s"
    # a query per batch (and per chat with more rows), not per row
    assert store.calls < len(ids) / 5, store.calls
    async with db.sessions() as session:
        rows = (await session.execute(select(OutboxRow))).scalars().all()
    assert all(r.sent_at is not None and r.message_id == 1000 + (r.id or 0) for r in rows)


@pytest.mark.slow  # over 2 s: the platform's retry_after waited out (README, Testing: slow)
async def test_a_429_pauses_the_platform_and_failures_are_retried(db: Database) -> None:
    ids = await queue(db, list(range(10, 40)))
    worker, api, _ = rig(db, per_second=30)
    api.faults[ids[3]] = [TelegramRetryAfter(SendMessage(chat_id=13, text="x"), "slow", 1)]
    api.faults[ids[5]] = [TelegramNetworkError(SendMessage(chat_id=15, text="x"), "drop")]
    await run_until_sent(worker, db, timeout=30)

    assert sorted(i for _, _, i in api.sent) == sorted(ids), "nothing lost, nothing twice"
    times = sorted(t for t, _, _ in api.sent)
    assert max(b - a for a, b in itertools.pairwise(times)) >= 0.9, (
        "after the 429 nothing went to the platform for retry_after"
    )
    async with db.sessions() as session:
        retried = (
            await session.execute(
                select(OutboxRow).where(col(OutboxRow.id).in_([ids[3], ids[5]]))
            )
        ).scalars().all()  # fmt: skip
    assert sorted(r.attempts for r in retried) == [2, 2]
    assert all(r.last_error and r.sent_at is not None for r in retried)


async def test_a_confirmed_send_whose_record_fails_is_recorded_again_not_sent_again(
    db: Database, caplog: Any
) -> None:
    # the platform has the message; the database then refuses its record twice (restarting,
    # or SQLite busy): the record is written again, and the citizen gets one message
    first, second = await queue(db, [21, 21])
    worker, api, store = rig(db, per_second=30)
    refusals = refuse(store, "mark_sent", 2, row=first)
    await run_until_sent(worker, db, timeout=10)

    assert [i for _, _, i in api.sent] == [first, second], "each sent once, in order"
    assert not refusals
    assert f"outbox {first} was sent but could not be marked sent" in caplog.text
    async with db.sessions() as session:
        row = await session.get(OutboxRow, first)
    assert row is not None and row.sent_at is not None and row.message_id == 1000 + first


@pytest.mark.slow  # the row is read again at the loop's next refresh, 5 s on
async def test_a_failure_that_cannot_be_recorded_ends_no_task_and_the_row_goes_later(
    db: Database, caplog: Any
) -> None:
    # the send fails (a 5xx) and the database refuses the retry's record: one warning, no
    # traceback, no task left with an exception, the row sent on a later look
    (row,) = await queue(db, [23])
    worker, api, store = rig(db, per_second=30)
    api.faults[row] = [TelegramServerError(SendMessage(chat_id=23, text="x"), "Bad Gateway")]
    refusals = refuse(store, "retry_later", 1)
    await run_until_sent(worker, db, timeout=15)
    gc.collect()  # an exception left in a finished task is reported when the task is collected

    assert [i for _, _, i in api.sent] == [row]
    assert not refusals
    assert f"outbox {row}: its failure could not be recorded" in caplog.text
    assert "Task exception was never retrieved" not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.slow  # the row is read again at the loop's next refresh, 5 s on
async def test_a_record_failing_past_its_patience_leaves_the_row_to_be_sent_again(
    db: Database, caplog: Any
) -> None:
    # a write that keeps failing is no database restarting: after `record_patience` the worker
    # lets the row go (it is read and sent again, as after a crash) rather than hold its chat
    (row,) = await queue(db, [22])
    worker, api, store = rig(db, per_second=30)
    worker.record_patience = 0.3  # the first write, one again 0.2 s later, then it gives up
    refuse(store, "mark_sent", 2)
    await run_until_sent(worker, db, timeout=20)  # read again at the next refresh (5 s)

    assert [i for _, _, i in api.sent] == [row, row], "sent again once the worker gave up"
    assert f"outbox {row} was sent but could not be marked sent" in caplog.text
    assert "it will be sent again" in caplog.text


async def deliver_while_reading(
    worker: DeliveryWorker, store: CountedDelivery, chat: int
) -> Pending:
    """Deliver `chat`'s head while a read of the outbox is out: the read takes its snapshot,
    the row is sent (and its outcome committed), then the read returns; the store reads
    normally afterwards. Returns the row as it was delivered."""
    await worker._fetch(time.monotonic())
    item = worker._heads[(TG, chat)]
    read, outcome = asyncio.Event(), asyncio.Event()
    real_due = SqlDelivery.due

    async def slow_due(limit: int = 500) -> Any:
        due = await real_due(store, limit)
        read.set()
        await outcome.wait()
        return due

    store.due = slow_due  # type: ignore[method-assign]
    fetching = asyncio.create_task(worker._fetch(time.monotonic()))
    await read.wait()
    worker._in_flight.add((TG, chat))
    worker._busy[TG] += 1
    await worker._deliver(item)
    outcome.set()
    await fetching
    store.due = real_due.__get__(store)  # type: ignore[method-assign]
    return item


async def test_a_row_confirmed_while_the_outbox_is_read_is_not_sent_again(db: Database) -> None:
    # the read takes its snapshot before the confirmation is committed and returns after it:
    # the snapshot shows the row as unsent, and the worker must not trust that
    (row,) = await queue(db, [7])
    worker, api, store = rig(db, per_second=30)
    await deliver_while_reading(worker, store, 7)  # sent and committed while the read is out
    assert (TG, 7) not in worker._heads, "the stale snapshot of the row is dropped"
    await run_until_sent(worker, db, timeout=5)
    assert [i for _, _, i in api.sent] == [row], "sent once"


async def test_a_row_failing_while_the_outbox_is_read_is_retried_at_its_own_time(
    db: Database,
) -> None:
    # the read's snapshot still shows the row as due now: it is left out, and the retry the
    # failure set (due in half a second) is kept, not forgotten until the next read
    (row,) = await queue(db, [8])
    worker, api, store = rig(db, per_second=30, idle_poll=30, refresh=30)
    api.faults[row] = [TelegramNetworkError(SendMessage(chat_id=8, text="x"), "drop")]
    item = await deliver_while_reading(worker, store, 8)  # fails: retried a moment later
    kept = worker._heads.get((TG, 8))
    assert kept is not None and kept.next_attempt_at > item.next_attempt_at, "the retry kept"
    started = time.monotonic()
    await run_until_sent(worker, db, timeout=10)  # no read for 30 s: only the kept retry
    assert [i for _, _, i in api.sent] == [row], "sent once, after the retry"
    assert time.monotonic() - started < 5


async def test_sends_finishing_while_the_outbox_is_read_do_not_make_it_read_again(
    db: Database,
) -> None:
    # a slow read (30 ms) while sends finish every 10 ms: each read overlaps a send. Only a chat
    # with more rows behind it needs another look; every overlap once set off another read,
    # which overlapped the next send, and so on: a read per row and half the pace (2026-12-02)
    ids = await queue(db, list(range(100, 220)))
    worker, api, store = rig(db, per_second=100, batch=20)
    real_due = store.due

    async def slow_due(limit: int = 500) -> Any:
        await asyncio.sleep(0.03)
        return await real_due(limit)

    store.due = slow_due  # type: ignore[method-assign]
    await run_until_sent(worker, db, timeout=30)
    assert sorted(i for _, _, i in api.sent) == ids, "every row once"
    assert store.calls < len(ids) / 5, f"{store.calls} reads for {len(ids)} rows"


async def test_a_card_queued_during_a_broadcast_does_not_wait_for_it(db: Database) -> None:
    """600 announcements of a draft are pending (more than one read sees); a staff card queued
    after them is among the first heads, and the announcements keep their own order."""
    now = datetime.now(UTC)
    async with db.sessions() as session, session.begin():
        session.add_all(
            OutboxRow(platform=TG.value, chat_id=chat, kind=NoticeKind.DRAFT_ANNOUNCE.value,
                      data={}, next_attempt_at=now, created_at=now, tag="draft:1")
            for chat in range(1, 601)
        )  # fmt: skip
    (card,) = await queue(db, [-100_777])
    due = await SqlDelivery(db.sessions).due(limit=500)
    assert due.heads[0].id == card, "the card is read before the broadcast"
    announcements = [h.chat_id for h in due.heads[1:]]
    assert announcements == list(range(1, 501))
    assert due.full, "more announcements are waiting beyond this read"


# --- what each failure does: held groups, parked rows, a refused token (bot/runtime/boundary.py)

UNIT_CHAT = -1001000000001  # a unit's staff group in routing_rules.yaml
ADMIN_CHAT = -1001000009001
SEND = SendMessage(chat_id=1, text="x")


class WallClock:
    """The worker's wall clock: real time, moved ahead by the test (retries are due by it)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, minutes: float) -> None:
        self.offset += timedelta(minutes=minutes)


async def rows(db: Database) -> dict[int, OutboxRow]:
    async with db.sessions() as session:
        return {r.id or 0: r for r in (await session.execute(select(OutboxRow))).scalars()}


async def alerts(db: Database) -> list[OutboxRow]:
    return [r for r in (await rows(db)).values() if r.kind == NoticeKind.ADMIN_ALERT.value]


@pytest.mark.slow
async def test_a_group_that_refuses_the_bot_is_held_told_once_and_resumes(db: Database) -> None:
    card, note, later = await queue(db, [UNIT_CHAT, UNIT_CHAT, UNIT_CHAT])
    (other,) = await queue(db, [42])
    worker, api, store = rig(db, per_second=30)
    kicked = TelegramForbiddenError(SEND, "Forbidden: bot was kicked from the group chat")
    missing = TelegramBadRequest(SEND, "Bad Request: chat not found")
    api.faults[card] = [kicked, missing, kicked]
    await run_until_sent(worker, db, timeout=30)

    mine = [i for _, c, i in api.sent if c == UNIT_CHAT]
    assert mine == [card, note, later], "nothing failed, nothing lost, the order kept"
    assert api.sent[0][2] == other, "another chat's row did not wait for the held group"
    stored = await rows(db)
    assert not any(r.failed for r in stored.values())
    assert stored[card].attempts == 4
    told = [r.data["template"] for r in await alerts(db)]
    assert told == ["held", "released"], "told once that it refuses, once that it is back"
    assert {r.chat_id for r in await alerts(db)} == {ADMIN_CHAT}
    assert await store.held() == []


async def test_a_group_another_worker_held_is_released_by_the_one_that_sends_next(
    db: Database,
) -> None:
    # the second worker read the held groups (none) before the first found this one refusing
    # and held it; the first then stops, and the second sends the group's row: it releases
    # the group, and the admin chats hear it is back
    (card,) = await queue(db, [UNIT_CHAT])
    first, api_a, store = rig(db, per_second=30)
    first.held_retry = 0.5
    kicked = TelegramForbiddenError(SEND, "Forbidden: bot was kicked from the group chat")
    api_a.faults[card] = [kicked]
    second, api_b, _ = rig(db, per_second=30)
    second.held_reload = 0.2
    second._held, second._held_loaded_at = set(), time.monotonic()  # read before the hold
    holding = asyncio.create_task(first.run())
    try:
        deadline = time.monotonic() + 10
        while not await store.held():
            assert time.monotonic() < deadline, "the group was held"
            await asyncio.sleep(0.05)
    finally:
        await first.stop()
        await asyncio.wait_for(holding, 10)
    running = asyncio.create_task(second.run())
    try:
        deadline = time.monotonic() + 10
        while await store.held() or not [i for _, c, i in api_b.sent if c == UNIT_CHAT]:
            assert time.monotonic() < deadline, (await store.held(), api_b.sent)
            await asyncio.sleep(0.05)
    finally:
        await second.stop()
        await asyncio.wait_for(running, 10)
    assert [i for _, c, i in api_a.sent + api_b.sent if c == UNIT_CHAT] == [card], "sent once"
    told = sorted(r.data["template"] for r in await alerts(db))
    assert told == ["held", "released"], "told once that it refuses, once that it is back"


async def test_two_holds_of_one_group_at_once_make_one_record_and_one_alert(
    db: Database,
) -> None:
    # a handler's reply and an outbox row (or two workers) find the group refusing together
    worker, _, store = rig(db, per_second=30)
    verdict = Verdict(Outcome.HELD, "Forbidden: bot was kicked from the group chat")
    await asyncio.gather(
        worker.hold_group(TG, UNIT_CHAT, verdict),
        rig(db, per_second=30)[0].hold_group(TG, UNIT_CHAT, verdict),
    )
    assert [h.chat_id for h in await store.held()] == [UNIT_CHAT]
    assert [r.data["template"] for r in await alerts(db)] == ["held"], "told once"


async def test_a_refused_message_is_parked_alerted_and_its_chat_goes_on(db: Database) -> None:
    bad, good = await queue(db, [5, 5])
    worker, api, store = rig(db, per_second=30)
    api.faults[bad] = [TelegramBadRequest(SEND, "Bad Request: can't parse entities")]
    await run_until_sent(worker, db, timeout=10)

    assert [i for _, c, i in api.sent if c == 5] == [good]
    parked = await store.parked()
    assert [(p.id, p.blocked) for p in parked] == [(bad, False)]
    assert "can't parse entities" in parked[0].error
    (alert,) = await alerts(db)
    assert alert.chat_id == ADMIN_CHAT and alert.data["count"] == 1
    assert alert.data["rows"][0]["id"] == bad

    assert await store.requeue([bad], datetime.now(UTC)) == 1
    again, again_api, _ = rig(db, per_second=30)  # the bot, still running or restarted
    await run_until_sent(again, db, timeout=10)
    assert [i for _, c, i in again_api.sent if c == 5] == [bad], "sent once requeued"


@pytest.mark.slow
async def test_an_unclassified_failure_is_parked_after_15_minutes(db: Database) -> None:
    odd, after = await queue(db, [6, 6])
    wall = WallClock()
    worker, api, _ = rig(db, per_second=30, wall=wall)
    api.faults[odd] = [RuntimeError("a shape nobody knows")] * 50
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: api.faults[odd] and len(api.faults[odd]) <= 48)
        assert not (await rows(db))[odd].failed, "retried, not parked, at first"
        wall.advance(minutes=16)
        await wait_for_async(lambda: _failed(db, odd))
        await wait_for(lambda: any(i == after for _, _, i in api.sent))
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
    assert "(for 15 min)" in ((await rows(db))[odd].last_error or "")


@pytest.mark.slow
async def test_an_outage_parks_nothing_but_a_row_failing_alone_is_parked(db: Database) -> None:
    down, alone, fine = await queue(db, [7, 8, 9])
    wall = WallClock()
    worker, api, _ = rig(db, per_second=30, wall=wall)
    outage = TelegramServerError(SEND, "Bad Gateway")
    api.faults[down] = [outage] * 3
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: len(api.faults[down]) <= 2)
        await wait_for_async(lambda: _sent(db, alone, fine))
        wall.advance(minutes=16)  # 16 minutes of nothing but 502s: an outage
        await wait_for(lambda: any(i == down for _, _, i in api.sent))
        assert not (await rows(db))[down].failed
        # now the platform takes other messages while one row keeps failing
        (alone,) = await queue(db, [8])
        api.faults[alone] = [outage] * 50
        worker.wake()
        await wait_for(lambda: len(api.faults[alone]) <= 48)
        wall.advance(minutes=16)
        (later,) = await queue(db, [10])
        worker.wake()
        await wait_for(lambda: any(i == later for _, _, i in api.sent))
        wall.advance(minutes=1)
        await wait_for_async(lambda: _failed(db, alone))
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
    assert any(i == fine for _, _, i in api.sent)


class RefusedToken(Recorder):
    """Every call is refused until `until` (monotonic time): a wrong token, then the right one."""

    until = 0.0

    async def __call__(self, item: Pending, /) -> tuple[int | None, str | None]:
        if time.monotonic() < self.until:
            raise TelegramUnauthorizedError(SEND, "Unauthorized")
        return await super().__call__(item)


@pytest.mark.slow  # over 2 s: the refused token's wait (README, Testing: slow)
async def test_a_refused_token_is_said_once_and_waits(db: Database, caplog: Any) -> None:
    ids = await queue(db, [11, 12, 13])
    api = RefusedToken()
    worker, _, _ = rig(db, per_second=30, api=api)
    worker.token_retry = 0.5
    api.until = time.monotonic() + 1.6
    with caplog.at_level("WARNING", logger="bot.workers.delivery"):
        await run_until_sent(worker, db, timeout=20)
    assert sorted(i for _, _, i in api.sent) == sorted(ids), "nothing dropped"
    said = [r for r in caplog.records if "refuses the bot token" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert any("accepts the bot token again" in r.getMessage() for r in caplog.records)
    assert min(t for t, _, _ in api.sent) >= api.until


async def test_an_edit_that_changes_nothing_is_done(db: Database) -> None:
    (row,) = await queue(db, [14])
    worker, api, _ = rig(db, per_second=30)
    api.faults[row] = [TelegramBadRequest(SEND, "Bad Request: message is not modified")]
    await run_until_sent(worker, db, timeout=10)
    stored = (await rows(db))[row]
    assert stored.sent_at is not None and not stored.failed and api.sent == []
    assert await alerts(db) == []


async def _sent(db: Database, *ids: int) -> bool:
    stored = await rows(db)
    return all(stored[i].sent_at is not None for i in ids)


async def _failed(db: Database, row: int) -> bool:
    return (await rows(db))[row].failed


async def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def wait_for_async(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_many_parked_rows_make_one_alert_a_minute(db: Database) -> None:
    ids = await queue(db, list(range(300, 320)))
    worker, api, _ = rig(db, per_second=30)
    for row in ids:
        api.faults[row] = [TelegramBadRequest(SEND, "Bad Request: can't parse entities")]
    await run_until_sent(worker, db, timeout=20)
    told = await alerts(db)
    assert len(told) <= 2, f"{len(told)} alerts for 20 parked rows within the minute"
    await worker._alert_parked()  # a minute later: the rest in one message
    told = await alerts(db)
    assert len(told) <= 3
    assert sum(int(a.data["count"]) for a in told) == 20, "every parked row is counted once"


@pytest.mark.slow
async def test_waiting_on_a_rate_limit_or_a_held_group_is_no_failure(db: Database) -> None:
    """A row held for a long time and then failing once is not parked at once: the run of
    failures starts with the first real failure."""
    (row,) = await queue(db, [UNIT_CHAT])
    wall = WallClock()
    worker, api, _ = rig(db, per_second=30, wall=wall)
    worker.held_retry = 0.3
    kicked = TelegramForbiddenError(SEND, "Forbidden: bot was kicked from the group chat")
    api.faults[row] = [kicked, TelegramRetryAfter(SEND, "slow", 1)]
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: not api.faults[row])
        wall.advance(minutes=20)  # held and rate limited for 20 minutes
        api.faults[row] = [TelegramServerError(SEND, "Bad Gateway")]
        await wait_for(lambda: any(i == row for _, _, i in api.sent), timeout=15)
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
    assert not (await rows(db))[row].failed


class SlowShared:
    """A shared rate that makes every send but the first wait `gap` seconds, and records."""

    def __init__(self, gap: float, fail: bool = False) -> None:
        self.gap, self.fail = gap, fail
        self.asked: list[tuple[Platform, float]] = []

    async def slot(self, platform: Platform, per_second: float) -> float:
        self.asked.append((platform, per_second))
        if self.fail:
            raise ConnectionError("redis is away")
        return 0.0 if len(self.asked) == 1 else self.gap

    async def close(self) -> None:
        return None


async def test_every_send_waits_for_its_slot_in_the_shared_rate(db: Database) -> None:
    """Several workers share one rate (Redis): each send asks it for a slot and waits for it."""
    await queue(db, [21, 22, 23])
    shared = SlowShared(gap=0.3)
    worker, api, _ = rig(db, per_second=1_000, shared=shared)
    await run_until_sent(worker, db, timeout=10)
    assert shared.asked == [(TG, 1_000)] * 3
    times = sorted(t for t, _, _ in api.sent)
    assert times[-1] - times[0] >= 0.3 - 1e-3, "the shared slots set the pace, not this worker's"


async def test_without_the_shared_rate_sends_go_on_this_workers_pace(
    db: Database, caplog: Any
) -> None:
    ids = await queue(db, [31, 32, 33])
    worker, api, _ = rig(db, per_second=1_000, shared=SlowShared(gap=0, fail=True))
    with caplog.at_level("WARNING"):
        await run_until_sent(worker, db, timeout=10)
    assert sorted(i for _, _, i in api.sent) == sorted(ids), "nothing waits on Redis"
    said = [r.getMessage() for r in caplog.records if "shared send rate" in r.getMessage()]
    assert said == ["shared send rate unavailable (ConnectionError); pacing this worker alone"]


@pytest.mark.slow  # four rows a chat, one a second: about 3 s
async def test_two_workers_send_every_row_once_each_chat_in_order(db: Database) -> None:
    """Several workers on one database: each chat's rows go out from one of them (its claim
    in `outbox_chats`), once and in order; together they send everything."""
    chats = [chat for _ in range(4) for chat in range(300, 340)]  # 40 chats, 4 rows each
    ids = await queue(db, chats)
    first, api_a, store_a = rig(db, per_second=1_000, batch=25)
    second, api_b, store_b = rig(db, per_second=1_000, batch=25)
    store_a.max_chats = store_b.max_chats = 20  # each holds at most half the chats at once
    tasks = [asyncio.create_task(w.run()) for w in (first, second)]
    store = SqlDelivery(db.sessions)
    try:
        deadline = time.monotonic() + 30
        while (await store.counts())["pending"]:
            assert time.monotonic() < deadline, await store.counts()
            await asyncio.sleep(0.05)
    finally:
        for w in (first, second):
            await w.stop()
        await asyncio.gather(*tasks)
    sent = [i for _, _, i in api_a.sent + api_b.sent]
    assert sorted(sent) == sorted(ids), "every row exactly once"
    assert api_a.sent and api_b.sent, "both workers took chats"
    for chat in range(300, 340):
        rows = [i for api in (api_a, api_b) for _, c, i in sorted(api.sent) if c == chat]
        assert rows == sorted(rows), f"chat {chat} in order"
        senders = {n for n, api in enumerate((api_a, api_b)) for _, c, _ in api.sent if c == chat}
        assert len(senders) == 1, f"chat {chat} went out from one worker"
    async with db.sessions() as session:
        left = (await session.execute(select(func.count()).select_from(OutboxChatRow))).scalar()
    assert left == 0, "stopped workers let their chats go"


async def test_a_dead_workers_chats_go_to_another_once_its_claim_runs_out(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqlDelivery, "CLAIM", timedelta(seconds=0.5))
    await queue(db, [401, 402])
    dead = SqlDelivery(db.sessions, worker="dead")
    assert {h.chat_id for h in (await dead.due()).heads} == {401, 402}  # then it is killed
    alive = SqlDelivery(db.sessions, worker="alive")
    assert (await alive.due()).heads == [], "claimed by a worker that may still be sending"
    await asyncio.sleep(0.6)
    assert {h.chat_id for h in (await alive.due()).heads} == {401, 402}
    assert (await dead.due()).heads == [], "back from the dead, it finds them taken"
