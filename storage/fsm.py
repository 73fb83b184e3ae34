"""aiogram FSM storage on SQL, so a conversation survives a restart of the bot."""

from __future__ import annotations

from collections.abc import Mapping
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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.tables import FsmRow


class SQLStorage(BaseStorage):
    """One row per chat and user: the state and the draft collected so far."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._sessions = sessions
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
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
