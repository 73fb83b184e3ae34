"""Polling into the inbox and handling from it: each batch confirmed at once, chats side by side,
one chat in order, never more than `max_in_flight` at once, a crash loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import BackoffConfig

from bot.runtime.polling import InboxConsumer, InboxPolling, lane_key, lane_of
from storage.db import make_engine, session_factory
from storage.inbox import SqlInbox
from tests.conftest import copy_migrated

BOT = 111_111
BACKOFF = BackoffConfig(min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0)


def message(update_id: int, chat_id: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "text": f"u{update_id}",
            },
        }
    )


class Script:
    """A messenger that hands out the given batches of updates, and records the offsets."""

    id = BOT

    def __init__(self, batches: list[list[Update]]) -> None:
        self.batches = batches
        self.offsets: list[int | None] = []
        self.session = type("S", (), {"timeout": None})()

    async def __call__(self, request: GetUpdates, **_: Any) -> list[Update]:
        self.offsets.append(request.offset)
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(0.01)
        return []


class Handlers:
    """`_process_update` of a dispatcher: each update waits for its own gate."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}

    def gate(self, update_id: int) -> asyncio.Event:
        return self.gates.setdefault(update_id, asyncio.Event())

    async def _process_update(self, bot: Any, update: Update, **_: Any) -> bool:
        self.started.append(update.update_id)
        await self.gate(update.update_id).wait()
        self.finished.append(update.update_id)
        return True


async def until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


@pytest.fixture
async def inbox(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[SqlInbox]:
    copy_migrated(migrated_sqlite, tmp_path / "inbox.db")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
    try:
        yield SqlInbox(session_factory(engine))
    finally:
        await engine.dispose()


class Running:
    """A consumer and the polling loop of one scripted bot."""

    def __init__(self, inbox: SqlInbox, script: Script, *, max_in_flight: int = 8) -> None:
        self.handlers = Handlers()
        self.consumer = InboxConsumer(
            self.handlers,  # type: ignore[arg-type]
            inbox,
            worker="test",
            max_in_flight=max_in_flight,
            drain_seconds=0,
        )
        self.consumer.add(script, {})  # type: ignore[arg-type]
        poller = InboxPolling(script, inbox, self.consumer)  # type: ignore[arg-type]
        self.task = asyncio.create_task(poller.run(1, None, BACKOFF))

    async def crash(self) -> None:
        """Cut everything off, as a kill would, and wait until the cut tasks are gone: the
        database is closed after the test, and a task still closing its session on it then
        would never finish (the event loop's teardown waits for it)."""
        self.task.cancel()
        cut = [*self.consumer.runners.values(), *filter(None, [self.consumer._task])]
        self.consumer.abandon()
        await asyncio.gather(self.task, *cut, return_exceptions=True)
        await asyncio.sleep(0)


def test_lane_of_groups_by_chat() -> None:
    assert lane_of(message(1, 42)) == lane_of(message(2, 42)) == ("chat", 42)
    assert lane_of(message(3, 43)) != lane_of(message(1, 42))
    assert lane_of(Update(update_id=9)) == ("update", 9)
    assert lane_key(BOT, message(1, 42)) == f"{BOT}:chat:42"


async def test_a_batch_is_confirmed_at_once_chats_side_by_side_one_chat_in_order(
    inbox: SqlInbox,
) -> None:
    # chat 1 sends 10 then 12; chat 2 sends 11
    script = Script([[message(10, 1), message(11, 2), message(12, 1)]])
    run = Running(inbox, script)
    handlers = run.handlers
    await until(lambda: handlers.started == [10, 11])  # 12 waits behind 10, 11 does not
    await until(lambda: script.offsets[-1] == 13)
    assert handlers.finished == [], "confirmed before anything is handled: it is stored"
    handlers.gate(11).set()
    await until(lambda: 11 in handlers.finished)
    await asyncio.sleep(0.05)
    assert 12 not in handlers.started, "a chat's updates keep their order"
    handlers.gate(10).set()
    await until(lambda: 12 in handlers.started)
    handlers.gate(12).set()
    await until(lambda: handlers.finished == [11, 10, 12])
    await until(lambda: not run.consumer.taken)
    assert (await inbox.counts())["pending"] == 0
    await run.crash()


async def test_never_more_updates_handled_at_once_than_max_in_flight(inbox: SqlInbox) -> None:
    script = Script([[message(first + n, n) for n in range(40)] for first in (100, 200)])
    run = Running(inbox, script, max_in_flight=5)
    handlers = run.handlers
    await until(lambda: len(handlers.started) == 5)
    await asyncio.sleep(0.1)
    assert len(handlers.started) == 5, "five at once, the rest wait"
    for n in range(40):
        handlers.gate(100 + n).set()
        handlers.gate(200 + n).set()
    await until(lambda: len(handlers.finished) == 80)
    assert run.consumer.peak == 5
    for n in range(40):  # and each chat in order
        assert handlers.finished.index(100 + n) < handlers.finished.index(200 + n)
    await run.crash()


async def test_a_crash_loses_nothing_and_does_nothing_twice(inbox: SqlInbox) -> None:
    script = Script([[message(1, 1), message(2, 2), message(3, 1)]])
    run = Running(inbox, script)
    run.handlers.gate(2).set()
    await until(lambda: (BOT, 2) in run.consumer.done and 1 in run.handlers.started)
    await run.crash()  # 2 was done, 1 was being handled, 3 waited behind it
    assert script.offsets[-1] == 4, "the messenger has forgotten all three"
    again = Running(inbox, Script([]))
    for update_id in (1, 2, 3):
        again.handlers.gate(update_id).set()
    await until(lambda: again.handlers.finished == [1, 3])
    await asyncio.sleep(0.1)
    assert again.handlers.started == [1, 3], "2 was done: not again; 1 and 3 in order"
    await again.crash()


def test_an_update_reads_back_from_the_json_stored_in_the_inbox() -> None:
    """After a restart an update is handled from its stored JSON, not the parsed object."""
    import json

    from bot.runtime.polling import stored_json

    sender = {"id": 7, "is_bot": False, "first_name": "نرگس", "username": "n"}
    chat = {"id": 7, "type": "private", "first_name": "نرگس"}
    for raw in (
        {"update_id": 5, "message": {"message_id": 9, "date": 1764600000, "chat": chat,
         "from": sender, "text": "/start", "entities": [{"type": "bot_command", "offset": 0,
         "length": 6}], "contact": {"phone_number": "+98915", "first_name": "ن"}}},
        {"update_id": 6, "callback_query": {"id": "q1", "from": sender, "chat_instance": "7",
         "data": "abandon:yes", "message": {"message_id": 3, "date": 1764600000,
         "chat": chat, "text": "؟"}}},
    ):  # fmt: skip
        update = Update.model_validate(raw)
        again = Update.model_validate(json.loads(json.dumps(stored_json(update))))
        assert again == update
        assert stored_json(again) == raw
