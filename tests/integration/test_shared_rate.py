"""Each platform's send rate is shared by every worker, in Redis (`storage.rate.RedisRate`).

Three workers (three clients, three connection pools) take send slots as fast as they can; the
slots are never closer than the rate allows, whichever worker took them, and the platforms do
not share one schedule. Against the machine's Redis (TEST_REDIS_URL), skipped without it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time

import pytest

from desk.model import Platform
from storage.rate import RedisRate


def _prefix() -> str:
    return f"test:rate:{os.getpid()}:{time.monotonic_ns()}:"


@pytest.mark.timing  # sends timed in wall time: beside busy workers it measures the machine
async def test_three_workers_never_send_faster_than_the_platform_allows(redis_url: str) -> None:
    prefix, per_second, each = _prefix(), 100.0, 30
    workers = [RedisRate(redis_url, prefix=prefix) for _ in range(3)]
    sent: list[tuple[float, int]] = []

    async def worker(n: int, rate: RedisRate) -> None:
        for _ in range(each):
            await asyncio.sleep(await rate.slot(Platform.TELEGRAM, per_second))
            sent.append((time.monotonic(), n))

    try:
        began = time.monotonic()
        await asyncio.gather(*(worker(n, r) for n, r in enumerate(workers)))
        took = time.monotonic() - began
        assert len(sent) == 3 * each and {n for _, n in sent} == {0, 1, 2}
        # 90 slots 10 ms apart: at least 0.89 s, whoever took them
        assert took >= (3 * each - 1) / per_second * 0.98
        times = sorted(t for t, _ in sent)
        for i, start in enumerate(times):  # no 100 ms window holds more than 10 (+1 for jitter)
            assert sum(1 for t in times[i:] if t < start + 0.1) <= 11
        # Bale has a schedule of its own: its first slot is free at once
        assert await workers[0].slot(Platform.BALE, per_second) == 0.0
    finally:
        for rate in workers:
            await rate.close()


async def test_a_free_platform_sends_at_once_and_slots_queue_in_order(redis_url: str) -> None:
    rate = RedisRate(redis_url, prefix=_prefix())
    try:
        waits = [await rate.slot(Platform.BALE, 5.0) for _ in range(4)]
        assert waits[0] == 0.0
        assert all(0.19 <= b - a <= 0.21 for a, b in itertools.pairwise(waits))
    finally:
        await rate.close()


async def test_each_bot_has_its_own_schedule_on_a_shared_redis(redis_url: str) -> None:
    # two provinces' deployments on one Redis: the platforms limit each bot, not the Redis
    prefix = _prefix()
    south = [RedisRate(redis_url, prefix=prefix, bots={Platform.BALE: 101}) for _ in range(2)]
    north = RedisRate(redis_url, prefix=prefix, bots={Platform.BALE: 202})
    try:
        assert await south[0].slot(Platform.BALE, 1.0) == 0.0
        assert await south[1].slot(Platform.BALE, 1.0) > 0.9, "one bot's workers share its rate"
        assert await north.slot(Platform.BALE, 1.0) == 0.0, "another bot's slots are its own"
    finally:
        for rate in (*south, north):
            await rate.close()
