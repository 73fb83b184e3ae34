"""The update inbox on SQL (`update_inbox`, `inbox_lanes`): store what is fetched, claim chat
lanes, mark updates handled.

Every batch is one `INSERT … ON CONFLICT DO NOTHING` (a redelivered update is not stored twice,
on SQLite and PostgreSQL alike). A worker claims a lane by inserting its row in `inbox_lanes`
(the lane is the primary key, so of several workers exactly one inserts it); it holds the lane
until it deletes the row, or until `claimed_until` passes (a dead worker's lanes are taken over
after the lease). Only the holder reads a lane's pending updates, so one chat is handled by one
worker at a time, in order. The "done" mark (`Hot.done`) is written with the handler's FSM
changes, in one transaction (`storage.fsm`); `finish` writes it alone. The store, and the done
mark with the FSM changes, run straight on the driver (`storage.pg_direct` on asyncpg,
`storage.sqlite_direct` on aiosqlite); these statements serve the rest."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, bindparam, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk.inbox import Claimed, Incoming
from storage.db import dialect_insert, insert_for
from storage.direct import direct_for
from storage.pg_direct import PgDirect
from storage.tables import InboxLaneRow, InboxRow, UTCDateTime

PENDING, DONE = "pending", "done"
# Core tables, not the ORM classes: the statements skip the ORM's bulk machinery
INBOX: Table = InboxRow.__table__  # type: ignore[attr-defined]
LANES: Table = InboxLaneRow.__table__  # type: ignore[attr-defined]
I, L = INBOX.c, LANES.c  # noqa: E741 - the inbox and lane columns


def _insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that ignores rows whose key exists, in the session's dialect."""
    return dialect_insert(session, table).on_conflict_do_nothing()


@dataclass(frozen=True)
class Hot:
    """The statements every update runs, built once per dialect and kept: building a statement
    and its cache key cost more CPU than the statement's round trip (about a tenth of a
    worker's time per update, py-spy, 2026-12-02). The values are bound at execution. The
    store and a handler's done mark run straight on the driver instead (`direct_for`)."""

    store: Any  # INSERT … ON CONFLICT DO NOTHING RETURNING update_id; rows as parameters
    earlier: Any  # a batch's lanes' other pending updates: :bot_id, :lanes, :batch
    # the done mark: :done_bot, :done_update, :done_at. The update's JSON goes (a citizen's
    # words, phone, national code): the row stays only to recognise it if it comes again
    done: Any


@functools.cache
def hot(dialect: str) -> Hot:
    """The kept statements for `dialect` ("sqlite" or "postgresql")."""
    return Hot(
        store=insert_for(dialect, INBOX).on_conflict_do_nothing().returning(I.update_id),
        earlier=select(I.lane, I.update_id).where(
            (I.state == PENDING)
            & I.lane.in_(bindparam("lanes", expanding=True))
            & (I.bot_id == bindparam("bot_id"))
            & I.update_id.not_in(bindparam("batch", expanding=True))
        ),
        done=update(INBOX)
        .where(
            (I.bot_id == bindparam("done_bot"))
            & (I.update_id == bindparam("done_update"))
            & (I.state == PENDING)
        )
        .values(state=DONE, handled_at=bindparam("done_at"), payload={}),  # content not kept
    )


def done_params(bot_id: int, update_id: int, at: datetime) -> dict[str, Any]:
    """The values of `Hot.done`."""
    return {"done_bot": bot_id, "done_update": update_id, "done_at": at}


class SqlInbox:
    """Each call is its own short transaction, committed before it returns."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        engine: AsyncEngine = sessions.kw["bind"]
        self._engine = engine
        self._hot = hot(engine.dialect.name)
        # a batch stored straight on the driver: one statement on asyncpg, two on aiosqlite
        self._direct = direct_for(engine)

    async def store(self, bot_id: int, updates: Sequence[Incoming], at: datetime) -> set[int]:
        """Store a batch in one INSERT; returns the ids stored now (not known before)."""
        return (await self.store_seeing(bot_id, updates, at))[0]

    async def store_seeing(
        self, bot_id: int, updates: Sequence[Incoming], at: datetime, *, worker: str = ""
    ) -> tuple[set[int], dict[str, set[int]]]:
        """Store a batch in one INSERT; returns the ids stored now, and per lane of the batch
        the other updates still pending there (stored earlier, perhaps by another worker: they
        come first). On PostgreSQL every other worker than `worker` holding one of the lanes
        is woken (`watch`)."""
        if not updates:
            return set(), {}
        if self._direct is not None:
            return await self._direct.store_seeing(bot_id, updates, at, worker=worker)
        rows = [
            {"bot_id": bot_id, "update_id": u.update_id, "lane": u.lane, "payload": u.payload,
             "received_at": at, "state": PENDING}
            for u in updates
        ]  # fmt: skip
        lanes = sorted({u.lane for u in updates})
        batch = sorted({u.update_id for u in updates})
        async with self._engine.begin() as conn:
            # the rows as parameters (one statement, "insertmanyvalues"), not in `.values()`: a
            # statement holding its values has no cache key and was compiled anew every time
            fresh = {int(uid) for uid in (await conn.execute(self._hot.store, rows)).scalars()}
            earlier = await conn.execute(
                self._hot.earlier, {"lanes": lanes, "bot_id": bot_id, "batch": batch}
            )
            pending: dict[str, set[int]] = {}
            for lane, update_id in earlier.all():
                pending.setdefault(str(lane), set()).add(int(update_id))
            return fresh, pending

    async def claim(
        self,
        worker: str,
        bot_ids: Collection[int],
        now: datetime,
        until: datetime,
        *,
        lanes: int,
        let_go: Collection[str] = (),
        renew: bool = False,
        expire: bool = True,
        taken: Collection[tuple[int, int]] = (),
    ) -> list[Claimed]:
        """One round, one transaction: let the lanes in `let_go` go, extend this worker's
        leases (`renew`), drop expired leases (`expire`), claim up to `lanes` more lanes with
        pending updates (oldest first, one INSERT … SELECT), and return the pending updates of
        every lane this worker holds whose inbox ids are not in `taken` (those it has in hand),
        oldest first, without their payload (`payloads`)."""
        async with self._sessions() as session, session.begin():
            if let_go:
                await session.execute(
                    delete(LANES).where((L.claimed_by == worker) & L.lane.in_(list(let_go)))
                )
            if renew:
                await session.execute(
                    update(LANES).where(L.claimed_by == worker).values(claimed_until=until)
                )
            if expire:
                await session.execute(delete(LANES).where(L.claimed_until <= now))
            if lanes > 0:
                held = select(L.lane).where(L.lane == I.lane)
                free = (
                    select(
                        I.lane,
                        literal(worker, String()),
                        literal(until, UTCDateTime()),
                    )
                    .where((I.state == PENDING) & I.bot_id.in_(list(bot_ids)) & ~held.exists())
                    .group_by(I.lane)
                    .order_by(func.min(I.id))
                    .limit(lanes)
                )
                await session.execute(
                    _insert(session, LANES).from_select(
                        ["lane", "claimed_by", "claimed_until"], free
                    )
                )
            mine = await session.execute(
                select(I.id, I.bot_id, I.update_id, I.lane)
                .join(LANES, L.lane == I.lane)
                .where((L.claimed_by == worker) & (I.state == PENDING))
                .order_by(I.bot_id, I.update_id)  # a lane's updates in the messenger's order
            )
            known = set(taken)
            rows = [r for r in mine.all() if (r[1], r[2]) not in known]
            return [Claimed(int(i), int(b), int(u), str(lane), None) for i, b, u, lane in rows]

    async def payloads(self, ids: Collection[int]) -> dict[int, dict[str, Any]]:
        """The stored JSON of these inbox rows."""
        if not ids:
            return {}
        async with self._sessions() as session:
            found = await session.execute(select(I.id, I.payload).where(I.id.in_(list(ids))))
            return {int(i): dict(p) for i, p in found.all()}

    async def finish(self, bot_id: int, update_ids: Collection[int], at: datetime) -> None:
        """Mark updates handled outside a handler's transaction (one that failed or was not
        handled at all)."""
        async with self._engine.begin() as conn:
            for update_id in update_ids:
                await conn.execute(self._hot.done, done_params(bot_id, update_id, at))

    async def watch(self, worker: str, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another worker stores an update in a lane `worker` holds, until
        cancelled (PostgreSQL's LISTEN, `PgDirect.watch`). Elsewhere one worker holds every
        lane: nothing to hear, and this returns at once."""
        if isinstance(self._direct, PgDirect):
            await self._direct.watch(worker, wake)

    async def release(self, worker: str) -> int:
        """Let every lane of this worker go (at a stop, or at a start after a crash)."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(delete(LANES).where(L.claimed_by == worker))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge_before(self, before: datetime) -> int:
        """Delete updates handled before `before`; returns how many."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(INBOX).where((I.state == DONE) & (I.handled_at < before))
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        """Rows per state (pending, done) and lanes claimed."""
        async with self._sessions() as session:
            found = await session.execute(select(I.state, func.count()).group_by(I.state))
            out = {PENDING: 0, DONE: 0} | {str(s): int(n) for s, n in found.all()}
            lanes = await session.execute(select(func.count()).select_from(LANES))
            out["lanes"] = int(lanes.scalar_one())
            return out
