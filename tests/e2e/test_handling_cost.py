"""What handling an update costs the process: no filter waits for a worker thread.

aiogram hands every filter that is not a coroutine (each `F.…` magic filter) to
`asyncio.to_thread`; `bot.runtime.routers.filters_on_the_loop` runs them on the event loop
instead. Here a citizen files a complaint and staff answer it with no hand-off to a thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desk.model import Platform
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to


async def test_no_filter_runs_in_a_worker_thread(
    front, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[Any] = []
    real = asyncio.to_thread

    async def counted(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        handed.append(function)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    citizen = front.bot(platform).private_chat(15801, "علی")
    code = await file_water_complaint(citizen, photo=True)
    card = await card_in(front, platform, WATER, code)
    mark = len(front.bot(platform).sent)
    await front.group(WATER, platform).send("پاسخ کارشناس به شکایت.", reply_to=card)
    await next_to(front, platform, citizen.chat_id, mark, "پاسخ کارشناس")
    assert handed == [], f"{len(handed)} calls went through a worker thread: {handed[:3]}"


async def test_each_update_reads_the_conversation_once(
    front, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiogram's FSM middleware runs inside the update's scope: a conversation's row is read
    once per update (state and draft together) and written with the done mark, not read again.
    Counted through SQLAlchemy and straight on aiosqlite (`storage.sqlite_direct`) alike."""
    import aiosqlite
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    real = aiosqlite.Connection.execute_fetchall

    async def direct(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        seen(None, None, sql)
        return await real(self, sql, *args)

    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", direct)
    engine = front.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        citizen = front.bot(platform).private_chat(15802, "علی")
        await file_water_complaint(citizen, photo=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    marks = [s for s in statements if s.startswith("UPDATE update_inbox SET")]
    reads = [s for s in statements if s.startswith("SELECT") and "FROM fsm_states" in s]
    assert len(marks) >= 8, f"only {len(marks)} updates handled"
    assert len(reads) <= len(marks), f"{len(reads)} conversation reads for {len(marks)} updates"
