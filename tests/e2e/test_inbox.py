"""The update inbox end to end: a chat whose reply waits out a long `retry_after` holds up only
itself, on both platforms; handled updates leave the inbox after a day. (Crashes: test_control,
test_faults, test_soak; the claims: tests/integration/test_inbox.py.)"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.runtime.polling import LaneDispatcher
from desk.model import Platform
from storage.inbox import SqlInbox
from tests.e2e.conftest import TELEGRAM_TOKEN, Front, MovableClock, wait_until
from tests.e2e.helpers import said

RETRY_AFTER = 20


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_slow_chat_holds_up_only_itself(front: Front) -> None:
    """One citizen's reply meets a 429 with a 20 s `retry_after` (Telegram's answer to a bot
    writing too fast to one chat); meanwhile 150 others send /start on both platforms."""
    slow = front.telegram.private_chat(9_000, "شهروند")
    front.api.fail(
        "sendMessage", "429", times=1, retry_after=RETRY_AFTER, token=TELEGRAM_TOKEN,
        chat_id=slow.chat_id,
    )  # fmt: skip
    began = time.monotonic()
    slow_reply = asyncio.create_task(slow.send("/start", timeout=RETRY_AFTER + 30))
    await wait_until(lambda: front.api.injected["429"] == 1, what="the slow reply's 429")

    async def citizen(n: int) -> float:
        fake = front.telegram if n % 2 else front.bale
        start = time.monotonic()
        replies = await fake.private_chat(10_000 + n, "شهروند").send("/start", timeout=15)
        assert "میز خدمت" in said(replies), "welcomed"
        return time.monotonic() - start

    waits = await asyncio.gather(*(citizen(n) for n in range(150)))
    everyone = time.monotonic() - began
    assert not slow_reply.done(), "the slow chat is still waiting out its retry_after"
    assert max(waits) < 10, f"the others waited up to {max(waits):.1f}s"
    assert everyone < RETRY_AFTER / 2, f"all 150 answered after {everyone:.1f}s"
    replies = await slow_reply
    took = time.monotonic() - began
    assert "میز خدمت" in said(replies), "the slow citizen is answered after the wait"
    assert took >= RETRY_AFTER - 1
    for platform in Platform:
        answered = {m.chat_id for m in front.bot(platform).sent if m.chat_id >= 10_000}
        assert len(answered) == 75, f"{platform.value}: every citizen answered"
    assert front.app is not None and front.app.dispatcher.consumer is not None
    peak = front.app.dispatcher.consumer.peak
    assert 1 < peak <= LaneDispatcher.max_in_flight, f"{peak} handled at once"
    print(
        f"\nslow chat: 150 citizens answered in {everyone:.1f}s (max wait {max(waits):.2f}s), "
        f"the slow one after {took:.1f}s"
    )


async def test_handled_updates_leave_the_inbox_after_a_day(api, tmp_path) -> None:
    """The scheduler's housekeeping purges done rows a day old; nothing else."""
    clock = MovableClock()
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", clock=clock)
    await front.start()
    try:
        assert front.app is not None
        inbox = SqlInbox(front.app.sessions)
        for platform in Platform:
            await front.bot(platform).private_chat(9_100, "شهروند").send("/start")
        assert (await inbox.counts())["done"] == 2
        job = front.app.scheduler.get_job("purge")
        await job.func()
        assert (await inbox.counts())["done"] == 2, "handled today: kept"
        clock.advance(days=1, minutes=1)
        await job.func()
        assert (await inbox.counts())["done"] == 0, "a day old: purged"
        replies = await front.bale.private_chat(9_100, "شهروند").send("/start")
        assert "میز خدمت" in said(replies), "and the bot goes on"
    finally:
        await front.stop()
