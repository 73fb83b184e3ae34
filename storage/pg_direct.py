"""The statements every update runs, on PostgreSQL straight on asyncpg.

An update stores itself in the inbox, reads its chat's conversation state and writes it back
with its done mark: three statements, each of them one round trip. Through SQLAlchemy each
cost about 0.7 ms of CPU (an execution context, result processing, a greenlet hop each way:
a third of a worker's CPU per update, py-spy, 2026-12-02); asyncpg alone costs a tenth of
that. The SQL is written here once, by hand; everything else about the connection stays
SQLAlchemy's: it comes from the engine's pool (checked when rested, `storage.db`), and one
that fails on its connection is invalidated so the pool does not hand it out again.

Outside a transaction each statement commits on its own, and each is all or nothing: the
step's write and its done mark are one statement (`WITH done AS (UPDATE …) INSERT …`), the
batch's INSERT and the read of its lanes' earlier updates one more. SQLite takes the same
steps straight on aiosqlite (`storage.sqlite_direct`), in transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from desk.inbox import Incoming
from storage.db import distrust_pool
from storage.locks import KEEPALIVE

log = logging.getLogger(__name__)

# a batch: stored where new (its update ids returned, lane NULL), and the other updates still
# pending in its lanes (stored earlier, perhaps by another worker); the main query does not see
# the rows its WITH inserts (one snapshot), and leaves the batch out anyway. Last, when
# something was stored, each other live worker ($6 is this one) holding one of its lanes, as
# (its name, NULL): `store_seeing` tells it on WAKE once this statement has committed.
WAKE = "jihad_inbox"
STORE = """
WITH batch AS (
    SELECT * FROM unnest($2::bigint[], $3::varchar[], $4::text[]) WITH ORDINALITY
        AS b(update_id, lane, payload, n)
), fresh AS (
    INSERT INTO update_inbox (bot_id, update_id, lane, payload, received_at, state)
    SELECT $1, update_id, lane, payload::json, $5, 'pending' FROM batch ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING update_id
)
SELECT NULL::varchar AS lane, update_id FROM fresh
UNION ALL
SELECT lane, update_id FROM update_inbox
WHERE state = 'pending' AND bot_id = $1 AND lane = ANY($3::varchar[])
    AND update_id <> ALL($2::bigint[])
UNION ALL
SELECT DISTINCT claimed_by, NULL::bigint FROM inbox_lanes
WHERE lane = ANY($3::varchar[]) AND claimed_by <> $6 AND claimed_until > $5
    AND EXISTS (SELECT 1 FROM fresh)
"""

# The holders told, in a transaction of its own: NOTIFY serialises the commits of the
# transactions that notify (a lock for the whole server, held through the commit's flush), so
# the store's own durable commit stays out of it; this one writes nothing but its commit
# record, which PostgreSQL does not wait to flush. A refusal here (the server's notification
# queue full) costs a wake, never the stored update.
TELL = "SELECT pg_notify($1, holder) FROM unnest($2::text[]) AS holder"

READ = "SELECT state, data FROM fsm_states WHERE key = $1"

# the done mark: $1 bot id, $2 update id, $3 when; the update's JSON goes (a citizen's words).
# With it, in the same statement, the conversation's row $4 written ($5 state, $6 draft, $7
# now) or, holding nothing, deleted.
DONE = """
UPDATE update_inbox SET state = 'done', handled_at = $3, payload = '{}'::json
WHERE bot_id = $1 AND update_id = $2 AND state = 'pending'
"""
WRITE_AND_DONE = """
WITH done AS (
    UPDATE update_inbox SET state = 'done', handled_at = $3, payload = '{}'::json
    WHERE bot_id = $1 AND update_id = $2 AND state = 'pending'
    RETURNING id
)
INSERT INTO fsm_states (key, state, data, updated_at) VALUES ($4, $5, $6::text::json, $7)
ON CONFLICT (key) DO UPDATE
    SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at
"""
DELETE_AND_DONE = """
WITH done AS (
    UPDATE update_inbox SET state = 'done', handled_at = $3, payload = '{}'::json
    WHERE bot_id = $1 AND update_id = $2 AND state = 'pending'
    RETURNING id
)
DELETE FROM fsm_states WHERE key = $4
"""


def _dumps(value: Any) -> str:
    return json.dumps(value)  # as SQLAlchemy's JSON type writes it


class PgDirect:
    """The hot statements on the engine's pooled asyncpg connections."""

    check_every = 30.0  # seconds between two checks of the listening connection (`watch`)

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._telling = True  # the last wake sent went out (a failure is logged once)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            try:
                yield pg
            except BaseException as exc:
                if _connection_lost(exc, pg):
                    # not back into the pool; and the others, given back before now, are
                    # checked before their next use, as after a rest (the database may have
                    # restarted under all of them: one failure, not one per connection)
                    await conn.invalidate()
                    distrust_pool(self._engine)
                raise

    async def store_seeing(
        self, bot_id: int, updates: Sequence[Incoming], at: datetime, *, worker: str = ""
    ) -> tuple[set[int], dict[str, set[int]]]:
        """`Inbox.store_seeing` in one statement, the other holders of its lanes woken."""
        ids, lanes = [u.update_id for u in updates], [u.lane for u in updates]
        payloads = [_dumps(u.payload) for u in updates]  # before a connection is taken
        async with self._connection() as pg:
            rows = await pg.fetch(STORE, bot_id, ids, lanes, payloads, _aware(at), worker)
        fresh: set[int] = set()
        pending: dict[str, set[int]] = {}
        holders: list[str] = []
        for lane, update_id in rows:
            if update_id is None:
                holders.append(str(lane))
            elif lane is None:
                fresh.add(int(update_id))
            else:
                pending.setdefault(str(lane), set()).add(int(update_id))
        if holders:
            await self._tell(holders)
        return fresh, pending

    async def _tell(self, holders: list[str]) -> None:
        """Wake these workers (`watch`); stored already, so a failure is only logged: their
        claim rounds find the updates within a second anyway."""
        try:
            async with self._connection() as pg:
                await pg.execute(TELL, WAKE, holders)
        except Exception as exc:
            if self._telling:
                log.warning("inbox: other workers not woken (%s); they find the updates "
                            "within a second", type(exc).__name__)  # fmt: skip
            self._telling = False
        else:
            self._telling = True

    async def read(self, key: str) -> tuple[str | None, dict[str, Any]]:
        """A conversation's state and draft (None, {} for none)."""
        async with self._connection() as pg:
            row = await pg.fetchrow(READ, key)
        return (row[0], dict(row[1])) if row is not None else (None, {})

    async def done(self, bot_id: int, update_id: int, at: datetime) -> None:
        """The done mark alone (a step that changed nothing of its conversation)."""
        await self._execute(DONE, bot_id, update_id, _aware(at))

    async def write_and_done(
        self, key: str, state: str | None, data: dict[str, Any], *, bot_id: int, update_id: int,
        at: datetime,
    ) -> None:  # fmt: skip
        """The conversation's row for `key` written, with the done mark, in one statement."""
        draft = _dumps(data)  # before a connection is taken
        await self._execute(
            WRITE_AND_DONE, bot_id, update_id, _aware(at), key, state, draft, datetime.now(UTC)
        )

    async def delete_and_done(self, key: str, *, bot_id: int, update_id: int, at: datetime) -> None:
        """The conversation's row for `key` deleted, with the done mark, in one statement."""
        await self._execute(DELETE_AND_DONE, bot_id, update_id, _aware(at), key)

    async def _execute(self, statement: str, *args: Any) -> None:
        async with self._connection() as pg:
            await pg.execute(statement, *args)

    async def watch(self, worker: str, wake: Callable[[], None]) -> None:
        """Call `wake` each time another worker stores an update in a lane `worker` holds,
        until cancelled: `LISTEN` on one connection of the pool, kept out of it meanwhile and
        closed after, with the server's keepalives set (`storage.locks.KEEPALIVE`) and a
        `SELECT 1` on it every `check_every` seconds, since a connection that only listens
        would never notice a silent drop. A lost connection is opened again after a pause
        (1 s, doubling to 30 s), logged once, with a wake at each new start for what came
        meanwhile; until then the claim rounds' own pace (a second) is all there is."""

        def heard(_pg: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload == worker:
                wake()

        pause = 1.0
        said = False
        while True:
            try:
                async with self._engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    pg: Any = raw.driver_connection
                    lost = asyncio.Event()
                    try:
                        pg.add_termination_listener(lambda _pg, lost=lost: lost.set())
                        for setting in KEEPALIVE:
                            await pg.execute(setting)
                        await pg.add_listener(WAKE, heard)
                        if said:
                            log.info("inbox: listening for other workers' updates again")
                        pause, said = 1.0, False
                        wake()
                        while not lost.is_set():
                            with contextlib.suppress(TimeoutError):  # (not wait_for: 3.11)
                                async with asyncio.timeout(self.check_every):
                                    await lost.wait()
                            if not lost.is_set():
                                await pg.fetchval("SELECT 1", timeout=5)
                    finally:  # never back into the pool with a LISTEN on it
                        await conn.invalidate()
            except Exception as exc:
                why = type(exc).__name__
            else:
                why = "its connection was lost"
            distrust_pool(self._engine)  # the database may have gone under all of them
            if not said:
                log.warning("inbox: not listening for other workers' updates (%s); claim "
                            "rounds each second meanwhile", why)  # fmt: skip
                said = True
            await asyncio.sleep(pause)
            pause = min(30.0, pause * 2)


def _aware(at: datetime) -> datetime:
    """As `storage.tables.UTCDateTime` binds it: asyncpg would take a naive time as local."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return at.astimezone(UTC)


def _connection_lost(exc: BaseException, pg: Any) -> bool:
    """Whether the connection is not to be trusted again: closed, or cut in the middle of a
    statement (a cancel, a timeout, asyncpg's own protocol errors), or the server going away;
    not when the server refused the statement itself (a value too long, a constraint)."""
    import asyncpg  # type: ignore[import-untyped]  # PostgreSQL only: not where SQLite is

    if pg.is_closed():
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return isinstance(
            exc,
            asyncpg.PostgresConnectionError
            | asyncpg.AdminShutdownError
            | asyncpg.CrashShutdownError
            | asyncpg.CannotConnectNowError
            | asyncpg.IdleSessionTimeoutError
            | asyncpg.IdleInTransactionSessionTimeoutError,
        )
    if isinstance(exc, OSError | TimeoutError | asyncio.CancelledError):
        return True
    return type(exc).__module__.startswith("asyncpg")  # its client side: protocol state
