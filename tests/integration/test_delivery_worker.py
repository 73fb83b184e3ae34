"""The delivery worker's loop on a real database, with the API replaced by a recorder:
rows read in batches, each sent once and in order per chat, paced, a 429 pausing the platform."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from typing import Any

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import SendMessage
from sqlalchemy import select
from sqlmodel import col

from bot.delivery import DeliveryWorker, Limits
from desk.model import NoticeKind, Platform
from desk.routing import RoutingRules
from storage.delivery import Pending, SqlDelivery
from storage.tables import OutboxRow
from tests.integration.conftest import Database

TG = Platform.TELEGRAM


class Recorder(DeliveryWorker):
    """The real loop; `_send` records instead of calling an API, and can be told to fail."""

    def __init__(self, db: Database, per_second: float, **kwargs: Any) -> None:
        self.store_calls = 0
        store = SqlDelivery(db.sessions)
        due = store.due

        async def counted(limit: int = 500) -> Any:
            self.store_calls += 1
            return await due(limit)

        store.due = counted  # type: ignore[method-assign]
        super().__init__(
            store=store,
            sessions=db.sessions,
            bots={TG: Any},  # type: ignore[dict-item]
            rules=RoutingRules.__new__(RoutingRules),
            clock=None,  # type: ignore[arg-type]
            limits={TG: Limits(per_second=per_second)},
            **kwargs,
        )
        self.sent: list[tuple[float, int, int]] = []  # (monotonic, chat, row id)
        self.faults: dict[int, list[Exception]] = {}

    async def _send(self, item: Pending) -> tuple[int | None, str | None]:
        await asyncio.sleep(0.02)  # the API's round trip: sends overlap in flight
        faults = self.faults.get(item.id)
        if faults:
            raise faults.pop(0)
        self.sent.append((time.monotonic(), item.chat_id, item.id))
        return 1000 + item.id, None


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


async def run_until_sent(worker: Recorder, db: Database, timeout: float) -> None:
    task = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + timeout
        while (await worker.store.counts())["pending"]:
            assert time.monotonic() < deadline, await worker.store.counts()
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)


async def test_a_batch_goes_out_once_in_order_at_the_pace_with_few_queries(db: Database) -> None:
    # chat 1 has three rows (one a second at most); 150 other chats one row each
    chats = [1, *range(100, 150), 1, *range(150, 250), 1]
    ids = await queue(db, chats)
    worker = Recorder(db, per_second=50, batch=60)
    started = time.monotonic()
    await run_until_sent(worker, db, timeout=30)
    elapsed = time.monotonic() - started

    assert sorted(i for _, _, i in worker.sent) == sorted(ids), "every row exactly once"
    mine = [(t, i) for t, c, i in worker.sent if c == 1]
    assert [i for _, i in mine] == [ids[0], ids[51], ids[-1]], "one chat's rows in order"
    assert all(b[0] - a[0] >= 1 - 1e-3 for a, b in itertools.pairwise(mine))
    times = sorted(t for t, _, _ in worker.sent)
    worst = max(sum(1 for t in times[i:] if t < start + 1) for i, start in enumerate(times))
    assert worst <= 50 + 1, worst
    assert len(ids) / elapsed > 0.8 * 50, f"{len(ids)} rows in {elapsed:.1f} s"
    # a query per batch (and per chat with more rows), not per row
    assert worker.store_calls < len(ids) / 5, worker.store_calls
    async with db.sessions() as session:
        rows = (await session.execute(select(OutboxRow))).scalars().all()
    assert all(r.sent_at is not None and r.message_id == 1000 + (r.id or 0) for r in rows)


async def test_a_429_pauses_the_platform_and_failures_are_retried(db: Database) -> None:
    ids = await queue(db, list(range(10, 40)))
    worker = Recorder(db, per_second=30)
    worker.faults[ids[3]] = [TelegramRetryAfter(SendMessage(chat_id=13, text="x"), "slow", 1)]
    worker.faults[ids[5]] = [TelegramNetworkError(SendMessage(chat_id=15, text="x"), "drop")]
    await run_until_sent(worker, db, timeout=30)

    assert sorted(i for _, _, i in worker.sent) == sorted(ids), "nothing lost, nothing twice"
    times = sorted(t for t, _, _ in worker.sent)
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


async def test_a_row_confirmed_while_the_outbox_is_read_is_not_sent_again(db: Database) -> None:
    # the read takes its snapshot before the confirmation is committed and returns after it:
    # the snapshot shows the row as unsent, and the worker must not trust that
    (row,) = await queue(db, [7])
    worker = Recorder(db, per_second=30)
    store = worker.store
    await worker._fetch(time.monotonic())
    item = worker._heads[(TG, 7)]
    read, confirmed = asyncio.Event(), asyncio.Event()
    real_due = SqlDelivery.due

    async def slow_due(limit: int = 500) -> Any:
        due = await real_due(store, limit)
        read.set()
        await confirmed.wait()
        return due

    store.due = slow_due  # type: ignore[method-assign]
    fetching = asyncio.create_task(worker._fetch(time.monotonic()))
    await read.wait()
    worker._in_flight.add((TG, 7))
    worker._busy[TG] += 1
    await worker._deliver(item)  # sent and committed while the read is out
    confirmed.set()
    await fetching
    assert (TG, 7) not in worker._heads, "the stale snapshot of the row is dropped"
    store.due = real_due.__get__(store)  # type: ignore[method-assign]
    await run_until_sent(worker, db, timeout=5)
    assert [i for _, _, i in worker.sent] == [row], "sent once"


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
