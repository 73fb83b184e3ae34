"""aiogram FSM storage on SQL, so a conversation survives a restart of the bot; and the
update-scoped wrapper that writes a handler's FSM changes together with the mark that its
update is handled (its inbox row is done: `storage/inbox.py`)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import BindParameter, Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import insert_for
from storage.direct import direct_for
from storage.inbox import SqlInbox, done_params
from storage.inbox import hot as inbox_hot
from storage.tables import FsmRow

FSM: Table = FsmRow.__table__  # type: ignore[attr-defined]
F = FSM.c


def _after(
    before: tuple[str | None, dict[str, Any]], values: Mapping[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    return values.get("state", before[0]), values.get("data", before[1])


def _holds_nothing(state: str | None, data: dict[str, Any]) -> bool:
    """Nothing left to remember: the conversation has no row at all."""
    return state is None and not data


def _changed(before: tuple[str | None, dict[str, Any]], values: Mapping[str, Any]) -> bool:
    return _after(before, values) != before


@dataclass(frozen=True)
class _Hot:
    """A conversation's statements on SQLite, built once and kept (see `storage.inbox.Hot`),
    for the steps the driver's own (`storage.sqlite_direct`, `storage.pg_direct`) do not take:
    several conversations changed in one update, or one not read first."""

    read: Any  # :fsm_key
    upsert: Any  # :fsm_key, :fsm_state, :fsm_data, :fsm_at
    delete: Any  # :fsm_key


@functools.cache
def _hot(dialect: str) -> _Hot:
    key: BindParameter[str] = bindparam("fsm_key")
    values = insert_for(dialect, FSM).values(
        key=key, state=bindparam("fsm_state"), data=bindparam("fsm_data"),
        updated_at=bindparam("fsm_at"),
    )  # fmt: skip
    new = values.excluded
    upsert = values.on_conflict_do_update(
        index_elements=[F.key],
        set_={"state": new.state, "data": new.data, "updated_at": new.updated_at},
    )
    return _Hot(
        read=select(F.state, F.data).where(F.key == key),
        upsert=upsert,
        delete=delete(FSM).where(F.key == key),
    )


class SQLStorage(BaseStorage):
    """One row per chat and user: the state and the draft collected so far.

    Core statements built once (`_hot`) on plain connections, not ORM sessions: a step of a
    conversation reads its row once and writes it (with its update's done mark) once, and
    the ORM's identity map and session bookkeeping, with a statement and its cache key built
    for every call, cost more CPU than the statements themselves (py-spy, 2026-12-02)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._hot = _hot(self._engine.dialect.name)
        self._done = inbox_hot(self._engine.dialect.name).done
        # the read, and the usual step's write with its done mark, straight on the driver:
        # one statement each on asyncpg, one trip to its thread each on aiosqlite
        self._direct = direct_for(self._engine)
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        async with self._engine.begin() as conn:
            before = await self._read_in(conn, key)
            await self._write(conn, key, before, values)

    async def write_and_mark(
        self,
        changes: Mapping[StorageKey, dict[str, Any]],
        bot_id: int,
        update_id: int,
        at: datetime,
        known: Mapping[StorageKey, tuple[str | None, dict[str, Any]]] | None = None,
    ) -> None:
        """Apply buffered changes and mark the update's inbox row done, in one transaction.

        `known`: the rows as this update read them (state, data; (None, {}) for no row). A key
        read there is written without reading it again, and not at all when nothing changed;
        the chat's lane (one worker, one update at a time) keeps the read current. On
        PostgreSQL the usual step (one key read and changed, or none) is one statement: the
        write with the done mark in its WITH, atomic as a transaction, one round trip."""
        writes = [(key, (known or {}).get(key), values) for key, values in changes.items()]
        writes = [w for w in writes if w[1] is None or _changed(w[1], w[2])]
        if self._direct is not None and len(writes) <= 1 and all(w[1] is not None for w in writes):
            if not writes:
                await self._direct.done(bot_id, update_id, at)
                return
            key, before, values = writes[0]
            assert before is not None  # checked above
            state, data = _after(before, values)
            skey = self._keys.build(key)
            if _holds_nothing(state, data):
                await self._direct.delete_and_done(skey, bot_id=bot_id, update_id=update_id, at=at)
            else:
                await self._direct.write_and_done(
                    skey, state, data, bot_id=bot_id, update_id=update_id, at=at
                )
            return
        async with self._engine.begin() as conn:
            for key, seen, values in writes:
                before = seen if seen is not None else await self._read_in(conn, key)
                await self._write(conn, key, before, values)
            await conn.execute(self._done, done_params(bot_id, update_id, at))

    def _statement(
        self, key: StorageKey, before: tuple[str | None, dict[str, Any]], values: Mapping[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """The one statement that writes `values` over `before`, and its parameters."""
        state, data = _after(before, values)
        skey = self._keys.build(key)
        if _holds_nothing(state, data):
            return self._hot.delete, {"fsm_key": skey}
        params = {
            "fsm_key": skey,
            "fsm_state": state,
            "fsm_data": data,
            "fsm_at": datetime.now(UTC),
        }
        return self._hot.upsert, params

    async def _write(
        self,
        conn: AsyncConnection,
        key: StorageKey,
        before: tuple[str | None, dict[str, Any]],
        values: Mapping[str, Any],
    ) -> None:
        """One statement (or none) for a row whose current content is `before`."""
        if _changed(before, values):
            await conn.execute(*self._statement(key, before, values))

    async def read(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """State and draft in one query."""
        if self._direct is not None:
            return await self._direct.read(self._keys.build(key))
        async with self._engine.connect() as conn:
            return await self._read_in(conn, key)

    async def _read_in(
        self, conn: AsyncConnection, key: StorageKey
    ) -> tuple[str | None, dict[str, Any]]:
        found = await conn.execute(self._hot.read, {"fsm_key": self._keys.build(key)})
        row = found.first()
        return (row[0], dict(row[1])) if row else (None, {})

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Set or clear the conversation state."""
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        """The conversation state, or None."""
        return (await self.read(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the draft."""
        await self._upsert(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The draft collected so far."""
        return (await self.read(key))[1]

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""


# The FSM changes (and reads) of the update being handled; None outside an update.
@dataclass
class _Scope:
    changes: dict[StorageKey, dict[str, Any]] = field(default_factory=dict)
    loaded: dict[StorageKey, tuple[str | None, dict[str, Any]]] = field(default_factory=dict)


_SCOPE: ContextVar[_Scope | None] = ContextVar("fsm_scope", default=None)


class UpdateScopedStorage(BaseStorage):
    """FSM writes made while an update is handled are kept in memory (reads see them) and
    written when the handler has finished, in the same transaction as the mark that the update
    is handled (its inbox row done).

    So a crash can never leave a conversation moved on while its update is still unhandled:
    the update, still pending in the inbox, would otherwise meet the next step (a county button
    taken as the citizen's name). Cut before the end, the step simply runs again from its old
    state; the only trace is a question asked twice. The front keeps its state in the database
    (`SQLStorage`) for this; another store (a test's memory) is written first, then the mark,
    which only narrows the gap.
    Within an update a chat's state and draft are read from the store once.
    """

    def __init__(self, inner: BaseStorage, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.inner = inner
        self._inbox = SqlInbox(sessions)

    @contextlib.asynccontextmanager
    async def update(self, bot_id: int, update_id: int, at: datetime) -> AsyncIterator[None]:
        """Buffer FSM writes inside; on a normal exit write them and mark the update done."""
        scope = _Scope()
        token = _SCOPE.set(scope)
        try:
            yield
        finally:
            _SCOPE.reset(token)
        if isinstance(self.inner, SQLStorage):
            await self.inner.write_and_mark(scope.changes, bot_id, update_id, at, scope.loaded)
            return
        for key, values in scope.changes.items():
            if "data" in values:
                await self.inner.set_data(key, values["data"])
            if "state" in values:
                await self.inner.set_state(key, values["state"])
        await self._inbox.finish(bot_id, [update_id], at)

    async def _load(self, scope: _Scope, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        if key not in scope.loaded:
            if isinstance(self.inner, SQLStorage):
                scope.loaded[key] = await self.inner.read(key)
            else:
                scope.loaded[key] = (
                    await self.inner.get_state(key),
                    await self.inner.get_data(key),
                )
        return scope.loaded[key]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Set or clear the state (kept until the update is handled)."""
        scope = _SCOPE.get()
        if scope is None:
            await self.inner.set_state(key, state)
            return
        value = state.state if isinstance(state, State) else state
        scope.changes.setdefault(key, {})["state"] = value

    async def get_state(self, key: StorageKey) -> str | None:
        """The state, as this update has left it so far."""
        scope = _SCOPE.get()
        if scope is None:
            return await self.inner.get_state(key)
        if "state" in scope.changes.get(key, {}):
            return scope.changes[key]["state"]  # type: ignore[no-any-return]
        return (await self._load(scope, key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the draft (kept until the update is handled)."""
        scope = _SCOPE.get()
        if scope is None:
            await self.inner.set_data(key, data)
            return
        scope.changes.setdefault(key, {})["data"] = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The draft, as this update has left it so far."""
        scope = _SCOPE.get()
        if scope is None:
            return await self.inner.get_data(key)
        if "data" in scope.changes.get(key, {}):
            return dict(scope.changes[key]["data"])
        return dict((await self._load(scope, key))[1])

    async def close(self) -> None:
        """Close the store underneath."""
        await self.inner.close()
