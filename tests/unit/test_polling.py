"""Lanes: chats concurrently, one chat in order, the offset held at the lowest update in hand."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.methods import GetUpdates
from aiogram.types import Update

from bot.runtime.polling import LanePolling, lane_of


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
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_lane_of_groups_by_chat() -> None:
    assert lane_of(message(1, 42)) == lane_of(message(2, 42)) == ("chat", 42)
    assert lane_of(message(3, 43)) != lane_of(message(1, 42))
    assert lane_of(Update(update_id=9)) == ("update", 9)


async def test_chats_run_side_by_side_one_chat_in_order_offset_waits_for_the_lowest() -> None:
    handlers = Handlers()
    # chat 1 sends 10 then 12; chat 2 sends 11
    script = Script([[message(10, 1), message(11, 2), message(12, 1)]])
    poller = LanePolling(
        handlers,  # type: ignore[arg-type]
        script,  # type: ignore[arg-type]
        max_in_flight=8,
        busy_poll=0.01,
        drain_seconds=0,
        context={},
    )
    task = asyncio.create_task(poller.run(1, None, poller_backoff()))
    await until(lambda: handlers.started == [10, 11])  # 12 waits behind 10, 11 does not
    handlers.gate(11).set()
    await until(lambda: 11 in handlers.finished)
    await asyncio.sleep(0.05)
    assert script.offsets[-1] == 10, "11 is done but 10 is not: nothing is confirmed"
    assert 12 not in handlers.started, "a chat's updates keep their order"
    handlers.gate(10).set()
    await until(lambda: 12 in handlers.started)
    await until(lambda: script.offsets[-1] == 12)  # 10 and 11 confirmed, 12 in hand
    handlers.gate(12).set()
    await until(lambda: script.offsets[-1] == 13)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert handlers.finished == [11, 10, 12]


def poller_backoff() -> Any:
    from aiogram.utils.backoff import BackoffConfig

    return BackoffConfig(min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0)
