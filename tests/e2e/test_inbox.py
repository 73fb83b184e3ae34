"""The update inbox end to end: a chat whose reply waits out a long `retry_after` holds up only
itself, on both platforms; updates stored before a crash are handled after it, once."""

from __future__ import annotations

import asyncio
import time

import pytest

from desk.model import Platform
from tests.e2e.conftest import TELEGRAM_TOKEN, Front, wait_until
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
    print(
        f"\nslow chat: 150 citizens answered in {everyone:.1f}s (max wait {max(waits):.2f}s), "
        f"the slow one after {took:.1f}s"
    )
