"""The statements every update runs, on SQLite straight on aiosqlite.

SQLAlchemy's aiosqlite adapter takes four trips to the connection's thread for each statement
(open a cursor, execute, fetch, close), and a trip for each `BEGIN`'s commit: 38 trips per
update of a conversation in the end-to-end tests, each a hand-off between threads through the
event loop's self-pipe. Here each statement is one trip (`execute_fetchall`), and the store, the
read and the step's write with its done mark take 3, 1 and 3 trips, about 18 fewer per update.

Everything else stays SQLAlchemy's: the connection comes from the engine's pool (with its
PRAGMAs), the values are bound by the columns' own types (`bind_processor`: the same text in
the file as SQLAlchemy writes, `tests/integration/test_inbox.py`), and a connection given back
with a transaction still open is rolled back by the pool (`storage.db.rollback_if_open`). The
driver begins a transaction before the first write (sqlite3's default), so a store or a step's
write and its done mark are committed together or not at all, as in `storage.pg_direct`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from desk.inbox import Incoming
from storage.tables import FsmRow, InboxRow

INBOX: Table = InboxRow.__table__  # type: ignore[attr-defined]
FSM: Table = FsmRow.__table__  # type: ignore[attr-defined]

STORE_ROW = "(?, ?, ?, ?, ?, 'pending')"
STORE = (
    "INSERT INTO update_inbox (bot_id, update_id, lane, payload, received_at, state) "
    "VALUES {rows} ON CONFLICT DO NOTHING RETURNING update_id"
)
EARLIER = (
    "SELECT lane, update_id FROM update_inbox WHERE state = 'pending' AND bot_id = ? "
    "AND lane IN ({lanes}) AND update_id NOT IN ({batch})"
)
READ = 'SELECT state, data FROM fsm_states WHERE "key" = ?'
# the update's JSON goes (a citizen's words): the row stays only to recognise it if it comes again
DONE = (
    "UPDATE update_inbox SET state = 'done', handled_at = ?, payload = ? "
    "WHERE bot_id = ? AND update_id = ? AND state = 'pending'"
)
WRITE = (
    'INSERT INTO fsm_states ("key", state, data, updated_at) VALUES (?, ?, ?, ?) '
    'ON CONFLICT ("key") DO UPDATE SET state = excluded.state, data = excluded.data, '
    "updated_at = excluded.updated_at"
)
DELETE = 'DELETE FROM fsm_states WHERE "key" = ?'


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class SqliteDirect:
    """The hot statements on the engine's pooled aiosqlite connections (`storage.pg_direct`'s
    counterpart, with the same methods)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect

        def bind(table: Table, column: str) -> Any:
            processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
            return processor or (lambda value: value)

        self._at = bind(INBOX, "received_at")
        self._payload = bind(INBOX, "payload")
        self._data = bind(FSM, "data")
        self._updated = bind(FSM, "updated_at")
        loads: Any = FSM.c.data.type.dialect_impl(dialect).result_processor(dialect, None)
        self._loads: Any = loads or (lambda value: value)
        self._emptied = self._payload({})

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            try:
                yield raw.driver_connection
            except BaseException:
                # not back into the pool: a statement may still be queued for the connection's
                # thread (its caller cancelled), and would open a transaction there after the
                # pool's check that none is open; the next user's commit would then commit a
                # conversation's write without its done mark. Closed, nothing is committed.
                await conn.invalidate()
                raise

    async def store_seeing(
        self, bot_id: int, updates: Sequence[Incoming], at: datetime, *, worker: str = ""
    ) -> tuple[set[int], dict[str, set[int]]]:
        """`Inbox.store_seeing`: the INSERT and the read of its lanes' earlier updates, then
        the commit (`worker` unused: on SQLite one worker holds every lane)."""
        received = self._at(at)
        rows: list[Any] = []
        for u in updates:
            rows += (bot_id, u.update_id, u.lane, self._payload(u.payload), received)
        lanes = sorted({u.lane for u in updates})
        batch = sorted({u.update_id for u in updates})
        store = STORE.format(rows=", ".join([STORE_ROW] * len(updates)))
        earlier = EARLIER.format(lanes=_marks(len(lanes)), batch=_marks(len(batch)))
        async with self._connection() as db:
            fresh = {int(uid) for (uid,) in await db.execute_fetchall(store, rows)}
            seen = await db.execute_fetchall(earlier, [bot_id, *lanes, *batch])
            await db.commit()
        pending: dict[str, set[int]] = {}
        for lane, update_id in seen:
            pending.setdefault(str(lane), set()).add(int(update_id))
        return fresh, pending

    async def read(self, key: str) -> tuple[str | None, dict[str, Any]]:
        """A conversation's state and draft (None, {} for none)."""
        async with self._connection() as db:
            rows = list(await db.execute_fetchall(READ, (key,)))
        if not rows:
            return None, {}
        state, data = rows[0]
        return state, dict(self._loads(data))

    def _done(self, bot_id: int, update_id: int, at: datetime) -> tuple[Any, ...]:
        return (self._at(at), self._emptied, bot_id, update_id)

    async def done(self, bot_id: int, update_id: int, at: datetime) -> None:
        """The done mark alone (a step that changed nothing of its conversation)."""
        async with self._connection() as db:
            await db.execute_fetchall(DONE, self._done(bot_id, update_id, at))
            await db.commit()

    async def write_and_done(
        self, key: str, state: str | None, data: dict[str, Any], *, bot_id: int, update_id: int,
        at: datetime,
    ) -> None:  # fmt: skip
        """The conversation's row for `key` written, with the done mark, in one transaction."""
        row = (key, state, self._data(data), self._updated(datetime.now(UTC)))
        async with self._connection() as db:
            await db.execute_fetchall(WRITE, row)
            await db.execute_fetchall(DONE, self._done(bot_id, update_id, at))
            await db.commit()

    async def delete_and_done(self, key: str, *, bot_id: int, update_id: int, at: datetime) -> None:
        """The conversation's row for `key` deleted, with the done mark, in one transaction."""
        async with self._connection() as db:
            await db.execute_fetchall(DELETE, (key,))
            await db.execute_fetchall(DONE, self._done(bot_id, update_id, at))
            await db.commit()
