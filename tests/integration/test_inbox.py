"""The update inbox on a real database (`storage/inbox.py`): one INSERT per batch, redelivery
ignored, lanes claimed by one worker at a time, the done mark with the FSM changes, purging."""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite
import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select, text

from desk.inbox import Incoming
from storage.db import make_engine
from storage.fsm import SQLStorage, UpdateScopedStorage
from storage.inbox import INBOX, SqlInbox, hot
from storage.pg_direct import PgDirect
from storage.sqlite_direct import SqliteDirect
from tests.conftest import copy_migrated
from tests.integration.conftest import Database

BOT = 111_111
LEASE = timedelta(seconds=60)


def incoming(update_id: int, chat_id: int) -> Incoming:
    return Incoming(update_id, f"{BOT}:chat:{chat_id}", {"update_id": update_id, "n": chat_id})


async def states(db: Database) -> dict[int, str]:
    async with db.sessions() as session:
        rows = await session.execute(select(INBOX.c.update_id, INBOX.c.state))
        return {int(u): str(s) for u, s in rows.all()}


async def test_a_batch_is_one_insert_and_redelivery_is_ignored(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = SqlInbox(db.sessions)
    now = datetime.now(UTC)
    inserts: list[str] = []
    real = aiosqlite.Connection.execute_fetchall

    async def count(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            inserts.append(sql)
        return await real(self, sql, *args)

    # straight on the driver (storage.sqlite_direct, storage.pg_direct): no SQLAlchemy event
    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", count)
    fresh = await inbox.store(BOT, [incoming(u, 40 + u % 3) for u in range(1, 101)], now)
    assert fresh == set(range(1, 101))
    if db.backend == "postgresql":
        async with db.engine.connect() as conn:
            xids = await conn.execute(text("SELECT count(DISTINCT xmin::text) FROM update_inbox"))
            assert xids.scalar_one() == 1, "a hundred updates, one statement's transaction"
    else:
        assert len(inserts) == 1, "a hundred updates, one INSERT"
    # the messenger sends 91-110 again (its confirmation was lost): only 101-110 are new
    again = await inbox.store(BOT, [incoming(u, 7) for u in range(91, 111)], now)
    assert again == set(range(101, 111))
    assert len(await states(db)) == 110
    assert await inbox.store(BOT + 1, [incoming(1, 7)], now) == {1}, "update ids are per bot"


async def test_storing_says_which_updates_wait_before_the_batch_in_its_chats(
    db: Database,
) -> None:
    """Storing returns, per chat of the batch, the updates still pending there from before
    (another worker may have stored them: they come first); a chat's update sent again in
    the batch, and updates already handled, are not among them."""
    inbox = SqlInbox(db.sessions)
    now = datetime.now(UTC)
    await inbox.store(BOT, [incoming(1, 10), incoming(2, 20), incoming(5, 10)], now)
    await inbox.finish(BOT, [5], now)
    fresh, earlier = await inbox.store_seeing(
        BOT, [incoming(3, 10), incoming(2, 20), incoming(4, 30)], now
    )
    assert fresh == {3, 4}
    assert earlier == {f"{BOT}:chat:10": {1}}
    assert (await inbox.store_seeing(BOT + 1, [incoming(9, 10)], now))[1] == {}, "per bot"


async def test_a_lane_is_one_workers_until_let_go_or_its_lease_ends(db: Database) -> None:
    inbox = SqlInbox(db.sessions)
    now = datetime.now(UTC)
    await inbox.store(BOT, [incoming(1, 10), incoming(2, 20), incoming(3, 10)], now)
    first = await inbox.claim("a", [BOT], now, now + LEASE, lanes=1)
    assert [(r.update_id, r.lane) for r in first] == [(1, f"{BOT}:chat:10"), (3, f"{BOT}:chat:10")]
    assert first[0].payload is None  # read only when needed
    assert (await inbox.payloads([first[0].id]))[first[0].id] == {"update_id": 1, "n": 10}
    other = await inbox.claim("b", [BOT], now, now + LEASE, lanes=10)
    assert [r.update_id for r in other] == [2], "chat 10 is a's: b gets chat 20 only"
    await inbox.store(BOT, [incoming(4, 10)], now)
    assert await inbox.claim("b", [BOT], now, now + LEASE, lanes=10, taken={(BOT, 2)}) == []
    mine = await inbox.claim("a", [BOT], now, now + LEASE, lanes=0, taken={(BOT, 1), (BOT, 3)})
    assert [r.update_id for r in mine] == [4], "a new update of a's lane goes to a"
    await inbox.finish(BOT, [1, 3, 4], now)
    # a lets chat 10 go; b lets its lane lapse: after the lease, c takes chat 20
    await inbox.claim("a", [BOT], now, now + LEASE, lanes=0, let_go={f"{BOT}:chat:10"})
    later = now + LEASE + timedelta(seconds=1)
    taken_over = await inbox.claim("c", [BOT], later, later + LEASE, lanes=10)
    assert [r.update_id for r in taken_over] == [2], "a dead worker's lane after its lease"
    assert await inbox.release("c") == 1
    assert (await inbox.counts())["lanes"] == 0


async def test_the_done_mark_is_written_with_the_fsm_changes_or_not_at_all(db: Database) -> None:
    inbox = SqlInbox(db.sessions)
    now = datetime.now(UTC)
    await inbox.store(BOT, [incoming(1, 10), incoming(2, 10)], now)
    storage = UpdateScopedStorage(SQLStorage(db.sessions), db.sessions)
    key = StorageKey(bot_id=BOT, chat_id=10, user_id=10)
    async with storage.update(BOT, 1, now):
        await storage.set_state(key, "Filing:name")
    assert await states(db) == {1: "done", 2: "pending"}
    assert await storage.get_state(key) == "Filing:name"
    async with db.sessions() as session:
        kept = dict((await session.execute(select(INBOX.c.update_id, INBOX.c.payload))).all())
    assert kept == {1: {}, 2: {"update_id": 2, "n": 10}}, "a handled update's words are not kept"
    with pytest.raises(RuntimeError):
        async with storage.update(BOT, 2, now):
            await storage.set_state(key, "Filing:phone")
            raise RuntimeError("the handler failed (or the process died) here")
    assert await states(db) == {1: "done", 2: "pending"}, "no mark"
    assert await storage.get_state(key) == "Filing:name", "and no step"
    assert await inbox.claim("a", [BOT], now, now + LEASE, lanes=5) != [], "still to handle"


async def test_a_step_that_read_its_state_writes_it_with_the_done_mark(db: Database) -> None:
    """The usual step reads the chat's state, then moves it on, clears it, or leaves it: each
    is written with the update's done mark (on PostgreSQL as one statement), and a write the
    database refuses leaves both undone."""
    inbox = SqlInbox(db.sessions)
    now = datetime.now(UTC)
    await inbox.store(BOT, [incoming(u, 10) for u in (1, 2, 3, 4, 5)], now)
    storage = UpdateScopedStorage(SQLStorage(db.sessions), db.sessions)
    key = StorageKey(bot_id=BOT, chat_id=10, user_id=10)
    async with storage.update(BOT, 1, now):
        assert await storage.get_state(key) is None
        await storage.set_state(key, "Filing:name")
        await storage.set_data(key, {"topic": "آب"})
    async with storage.update(BOT, 2, now):
        assert await storage.get_state(key) == "Filing:name"  # read, left as it is
    assert await states(db) == {1: "done", 2: "done", 3: "pending", 4: "pending", 5: "pending"}
    assert (await storage.get_state(key), await storage.get_data(key)) == (
        "Filing:name", {"topic": "آب"}
    )  # fmt: skip
    if db.backend == "postgresql":  # SQLite does not hold a VARCHAR to its length
        with pytest.raises(Exception, match="too long"):
            async with storage.update(BOT, 3, now):
                await storage.get_state(key)
                await storage.set_state(key, "x" * 300)
        assert (await states(db))[3] == "pending", "no mark without the write"
        assert await storage.get_state(key) == "Filing:name", "and no write without the mark"
    async with storage.update(BOT, 4, now):
        await storage.get_data(key)
        await storage.set_data(key, {"topic": "آب", "county": "فردوس"})
    assert await storage.get_data(key) == {"topic": "آب", "county": "فردوس"}
    async with storage.update(BOT, 5, now):
        await storage.get_state(key)
        await storage.set_state(key, None)
        await storage.set_data(key, {})
    assert (await storage.get_state(key), await storage.get_data(key)) == (None, {})
    assert {u: s for u, s in (await states(db)).items() if u in (4, 5)} == {4: "done", 5: "done"}


async def test_done_rows_older_than_the_cutoff_are_purged(db: Database) -> None:
    inbox = SqlInbox(db.sessions)
    now = datetime.now(UTC)
    await inbox.store(BOT, [incoming(u, 10) for u in (1, 2, 3)], now)
    await inbox.finish(BOT, [1], now - timedelta(days=2))
    await inbox.finish(BOT, [2], now)
    assert await inbox.purge_before(now - timedelta(days=1)) == 1
    assert await states(db) == {2: "done", 3: "pending"}, "pending rows are never purged"


async def test_two_workers_never_hold_the_same_lane_at_once(db: Database) -> None:
    """Two consumers on one database claim, handle and let go, side by side: no lane is ever
    in both hands, every update is handled once, each chat's in order."""
    inbox = SqlInbox(db.sessions)
    rng = random.Random(3)
    now = datetime.now(UTC)
    chats = 12
    updates = [incoming(u, rng.randrange(chats)) for u in range(1, 241)]
    for start in range(0, len(updates), 40):
        await inbox.store(BOT, updates[start : start + 40], now)
    holding: dict[str, str] = {}
    handled: list[tuple[str, int, str]] = []

    async def worker(name: str) -> None:
        idle = 0
        while idle < 3:
            tick = datetime.now(UTC)
            rows = await inbox.claim(name, [BOT], tick, tick + LEASE, lanes=3)
            if not rows:
                idle += 1
                await asyncio.sleep(0.01)
                continue
            idle = 0
            lanes = {r.lane for r in rows}
            for lane in lanes:
                assert holding.setdefault(lane, name) == name, f"{lane} in two hands"
            for row in rows:
                await asyncio.sleep(0)
                handled.append((name, row.update_id, row.lane))
                await inbox.finish(BOT, [row.update_id], tick)
            for lane in lanes:
                del holding[lane]
            tick = datetime.now(UTC)
            await inbox.claim(name, [BOT], tick, tick + LEASE, lanes=0, let_go=lanes)

    await asyncio.gather(worker("a"), worker("b"))
    assert sorted(u for _, u, _ in handled) == list(range(1, 241)), "each once"
    for lane in {lane for _, _, lane in handled}:
        ids = [u for _, u, la in handled if la == lane]
        assert ids == sorted(ids), f"{lane} out of order"
    assert {name for name, _, _ in handled} == {"a", "b"}, "both worked"
    async with db.sessions() as session:
        pending = await session.execute(
            select(func.count()).select_from(INBOX).where(INBOX.c.state == "pending")
        )
        assert pending.scalar_one() == 0


def recording(handled: list[int]) -> Any:
    """A Dispatcher that only writes down, in order, the update ids handed to its handlers."""
    from aiogram import Bot, Dispatcher
    from aiogram.types import Update

    class Recording(Dispatcher):
        async def _process_update(
            self, bot: Bot, update: Update, call_answer: bool = True, **kwargs: Any
        ) -> bool:
            handled.append(update.update_id)
            return True

    return Recording()


def chat_update(update_id: int) -> Any:
    """A private message in chat 7, its text its update id."""
    from aiogram.types import Update

    chat = {"id": 7, "type": "private", "first_name": "x"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "text": str(update_id)}
    return Update.model_validate({"update_id": update_id, "message": message})


async def test_an_update_another_worker_stored_first_is_handled_first(db: Database) -> None:
    """Telegram posts a chat's next update only once the last was answered, but not always to
    the same worker: worker A holds the chat's lane, B stores update 2, then A receives 3. A must
    not hand 3 to the handlers ahead of 2 (a «انصراف» answered after the step sent after it)."""
    from aiogram import Bot

    from bot.runtime.polling import InboxConsumer, store_updates

    handled: list[int] = []
    bot = Bot("424242:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    inbox = SqlInbox(db.sessions)
    workers = [
        InboxConsumer(recording(handled), inbox, worker=name, max_in_flight=4, drain_seconds=1)
        for name in ("A", "B")
    ]
    a, b = workers
    a.poll_every = 30.0  # rounds only when woken: the test says when

    a.add(bot, {})
    try:
        await store_updates(inbox, a, bot.id, [chat_update(1)])
        for _ in range(200):
            if handled:
                break
            await asyncio.sleep(0.01)
        assert handled == [1]
        await store_updates(inbox, b, bot.id, [chat_update(2)])  # B holds no lane: it only stores
        await store_updates(inbox, a, bot.id, [chat_update(3)])
        for _ in range(300):
            if len(handled) == 3:
                break
            await asyncio.sleep(0.01)
        assert handled == [1, 2, 3]
    finally:
        for worker in workers:
            await worker.stop()
        await bot.session.close()


async def test_an_update_another_worker_stores_in_a_held_lane_is_handled_at_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nginx sends a chat's next update to any worker: the worker holding the chat's lane hears
    of it at once (PostgreSQL's LISTEN), not at its next claim round (a second; here 30 s);
    its own updates wake nobody; a cut listening connection is opened again and hears again."""
    if db.backend != "postgresql":
        pytest.skip("several workers share an inbox only on PostgreSQL")
    import asyncpg  # type: ignore[import-untyped]
    from aiogram import Bot

    from bot.runtime.polling import InboxConsumer, store_updates

    handled: list[int] = []
    listening: list[int] = []  # the server pid of each connection that began to listen
    real_listen = asyncpg.Connection.add_listener

    async def add_listener(self: Any, channel: str, callback: Any) -> None:
        await real_listen(self, channel, callback)
        listening.append(self.get_server_pid())

    monkeypatch.setattr(asyncpg.Connection, "add_listener", add_listener)
    told: list[list[str]] = []  # each wake the store sent, to whom
    real_tell = PgDirect._tell

    async def tell(self: Any, holders: list[str]) -> None:
        told.append(list(holders))
        await real_tell(self, holders)

    monkeypatch.setattr(PgDirect, "_tell", tell)

    async def until(done: Any, seconds: float) -> None:
        for _ in range(int(seconds * 100)):
            if done():
                return
            await asyncio.sleep(0.01)

    bot = Bot("424242:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    inbox = SqlInbox(db.sessions)
    tag = f"{os.getpid()}-{random.randrange(10**6)}"  # other test processes listen too
    a, b = (
        InboxConsumer(recording(handled), inbox, worker=f"{name}-{tag}", max_in_flight=4,
                      drain_seconds=1)
        for name in ("A", "B")
    )  # fmt: skip
    a.poll_every = 30.0  # rounds only when woken
    a.linger = 60.0  # its lane held throughout, however slow the machine
    a.add(bot, {})
    try:
        await until(lambda: listening, 5)
        await store_updates(inbox, a, bot.id, [chat_update(1)])
        await until(lambda: handled == [1], 2)
        assert handled == [1]
        rounds = a.rounds
        await store_updates(inbox, a, bot.id, [chat_update(2)])  # its own lane: queued, no round
        await until(lambda: handled == [1, 2], 2)
        assert handled == [1, 2] and a.rounds == rounds and told == []
        began = time.monotonic()
        await store_updates(inbox, b, bot.id, [chat_update(3)])  # B holds no lane: it only stores
        await until(lambda: len(handled) == 3, 5)
        assert handled == [1, 2, 3] and time.monotonic() - began < 2, "at once, not in 30 s"
        assert told == [[a.worker]]
        await store_updates(inbox, b, bot.id, [chat_update(3)])  # the platform sent it again
        assert told == [[a.worker]] and handled == [1, 2, 3], "nothing new: nobody woken"
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listening[-1]})
        await until(lambda: len(listening) == 2, 10)
        assert len(listening) == 2, "the listening connection is opened again"
        began = time.monotonic()
        await store_updates(inbox, b, bot.id, [chat_update(4)])
        await until(lambda: len(handled) == 4, 5)
        assert handled == [1, 2, 3, 4] and time.monotonic() - began < 2
    finally:
        for worker in (a, b):
            await worker.stop()
        await bot.session.close()
    await until(lambda: False, 0.1)
    async with db.engine.connect() as conn:
        left = await conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
            {"pids": listening},
        )
        assert left.scalar_one() == 0, "stopped, the worker listens no more"


async def test_the_direct_statements_write_what_sqlalchemy_writes(sqlite_db: Database) -> None:
    """On SQLite the store and the done mark go straight on aiosqlite (storage.sqlite_direct):
    the file holds the same text as SQLAlchemy's own statements write, so either reads both."""
    engine, now = sqlite_db.engine, datetime(2026, 12, 3, 10, 30, 15, 123456, tzinfo=UTC)
    await SqlInbox(sqlite_db.sessions).store(BOT, [incoming(1, 7)], now)
    async with engine.begin() as conn:  # the same row through SQLAlchemy, for another bot
        await conn.execute(
            hot("sqlite").store,
            [{"bot_id": BOT + 1, "update_id": 1, "lane": "x", "payload": {"update_id": 1, "n": 7},
              "received_at": now, "state": "pending"}],
        )  # fmt: skip
    raw = "SELECT bot_id, payload, received_at, typeof(received_at) FROM update_inbox"
    async with engine.connect() as conn:
        rows = {r[0]: r[1:] for r in (await conn.execute(text(raw + " ORDER BY bot_id"))).all()}
        assert rows[BOT] == rows[BOT + 1]
        assert rows[BOT][1:] == ("2026-12-03 10:30:15.123456", "text")
        found = await conn.execute(select(INBOX.c.received_at, INBOX.c.payload))
        assert [tuple(r) for r in found.all()] == [(now, {"update_id": 1, "n": 7})] * 2
    await SqlInbox(sqlite_db.sessions).finish(BOT + 1, [1], now)
    storage = SQLStorage(sqlite_db.sessions)
    await storage.write_and_mark({}, BOT, 1, now, {})
    async with engine.connect() as conn:
        done = await conn.execute(text("SELECT state, payload, handled_at FROM update_inbox"))
        assert len(set(done.all())) == 1, "the done marks alike"
    direct, through_sql = (StorageKey(BOT, chat, chat) for chat in (1, 2))
    draft = {"name": "علی", "n": [1, 2]}
    await storage.write_and_mark({direct: {"state": "s", "data": draft}}, BOT, 9, now,
                                 {direct: (None, {})})  # fmt: skip
    await storage.write_and_mark({through_sql: {"state": "s", "data": draft}}, BOT, 10, now)
    async with engine.connect() as conn:
        fsm = await conn.execute(text("SELECT data, typeof(updated_at) FROM fsm_states"))
        assert len(set(fsm.all())) == 1, "the conversation rows alike"
    assert await storage.read(direct) == await storage.read(through_sql) == ("s", draft)


async def test_a_step_cut_while_its_write_is_queued_commits_nothing_later(
    tmp_path: Any, migrated_sqlite: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler cancelled (a stop) while its write waits for the connection's thread: the
    write still runs there, after the caller is gone. The connection is not given back to the
    pool, so the next update's commit on it cannot commit that write without its done mark."""
    copy_migrated(migrated_sqlite, tmp_path / "cut.db")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cut.db'}", pool_size=1)
    direct, now = SqliteDirect(engine), datetime.now(UTC)
    real = aiosqlite.Connection.execute_fetchall
    queued: list[asyncio.Future[Any]] = []

    async def cut(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        if sql.startswith("INSERT INTO fsm_states"):
            queued.append(asyncio.ensure_future(real(self, sql, *args)))  # runs later
            raise asyncio.CancelledError
        return await real(self, sql, *args)

    try:
        await direct.store_seeing(BOT, [incoming(5, 7)], now)
        monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", cut)
        with pytest.raises(asyncio.CancelledError):
            await direct.write_and_done("k", "s", {}, bot_id=BOT, update_id=5, at=now)
        await asyncio.gather(*queued, return_exceptions=True)
        await direct.store_seeing(BOT, [incoming(6, 8)], now)  # a commit on the pool's connection
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT key FROM fsm_states"))).all()
            pending = await conn.execute(
                text("SELECT update_id FROM update_inbox WHERE state = 'pending'")
            )
            assert rows == [] and sorted(pending.scalars()) == [5, 6], "the step runs again"
    finally:
        await engine.dispose()
