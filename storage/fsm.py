"""aiogram FSM storage on SQL, so a conversation survives a restart of the bot; and the
update-scoped wrapper that writes a handler's FSM changes together with the mark that its
update is handled (its inbox row is done: `storage/inbox.py`)."""

from __future__ import annotations

import contextlib
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
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from storage.db import dialect_insert, read_sessions
from storage.inbox import SqlInbox
from storage.tables import FsmRow


class SQLStorage(BaseStorage):
    """One row per chat and user: the state and the draft collected so far."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._sessions = sessions
        self._reads = read_sessions(sessions)  # a conversation's read: one SELECT, no BEGIN
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await self._upsert_in(session, key, **values)

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
        the chat's lane (one worker, one update at a time) keeps the read current."""
        async with self._sessions() as session, session.begin():
            for key, values in changes.items():
                before = known.get(key) if known is not None else None
                if before is None:
                    await self._upsert_in(session, key, **values)
                else:
                    await self._write_known(session, key, before, values)
            await SqlInbox.mark_done_in(session, bot_id, update_id, at)

    async def _write_known(
        self,
        session: AsyncSession,
        key: StorageKey,
        before: tuple[str | None, dict[str, Any]],
        values: Mapping[str, Any],
    ) -> None:
        """One statement (or none) for a row whose current content this update has read."""
        state = values.get("state", before[0])
        data = values.get("data", before[1])
        if (state, data) == before:
            return
        skey = self._keys.build(key)
        if state is None and not data:  # nothing left to remember: no row at all
            await session.execute(delete(FsmRow).where(col(FsmRow.key) == skey))
            return
        now = datetime.now(UTC)
        upsert = dialect_insert(session, FsmRow).values(
            key=skey, state=state, data=data, updated_at=now
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=[FsmRow.key], set_={"state": state, "data": data, "updated_at": now}
            )
        )

    async def read(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """State and draft in one query."""
        async with self._reads() as session:
            row = await session.get(FsmRow, self._keys.build(key))
            return (row.state, dict(row.data)) if row else (None, {})

    async def _upsert_in(self, session: AsyncSession, key: StorageKey, **values: Any) -> None:
        skey = self._keys.build(key)
        row = await session.get(FsmRow, skey)
        state = values.get("state", row.state if row else None)
        data = values.get("data", row.data if row else {})
        if state is None and not data:
            # nothing left to remember: no row at all
            if row is not None:
                await session.delete(row)
            return
        if row is None:
            session.add(FsmRow(key=skey, state=state, data=data, updated_at=datetime.now(UTC)))
            return
        row.state, row.data, row.updated_at = state, data, datetime.now(UTC)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Set or clear the conversation state."""
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        """The conversation state, or None."""
        async with self._sessions() as session:
            row = await session.get(FsmRow, self._keys.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the draft."""
        await self._upsert(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The draft collected so far."""
        async with self._sessions() as session:
            row = await session.get(FsmRow, self._keys.build(key))
            return dict(row.data) if row else {}

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
