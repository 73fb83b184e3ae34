"""With REDIS_URL the flood limit is not the process's own: a restarted front office (as a second
worker would) still counts the messages the first one handled, and does not tell twice."""

from __future__ import annotations

import os
import uuid

import pytest
from redis.asyncio import Redis

from bot.ui import texts
from tests.e2e.conftest import Front


async def test_the_flood_limit_outlives_the_process_with_redis(api, tmp_path) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set: the shared flood limit is not tested")
    chat_id = 10**9 + uuid.uuid4().int % 10**8  # this test's own keys in the shared Redis
    front = Front(
        api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", redis_url=url, flood_per_minute=3
    )
    await front.start()
    try:
        citizen = front.telegram.private_chat(chat_id, "مریم")
        assert all([bool(await citizen.send("/start")) for _ in range(3)]), "3 are answered"
        await front.restart()  # another process: its memory knows nothing of the three
        fourth = [m.current_text() for m in await citizen.send("/start")]
        assert fourth == [texts.FLOOD_SLOW_DOWN], "the fourth is over the limit, across processes"
        await front.restart()
        assert not await citizen.send("/start"), "the fifth: nothing, not even the notice"
        notices = [m for m in citizen.messages() if m.current_text() == texts.FLOOD_SLOW_DOWN]
        assert len(notices) == 1, "told once, whichever process"
    finally:
        await front.stop()
        redis = Redis.from_url(url)
        keys = await redis.keys(f"*{chat_id}*")
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
