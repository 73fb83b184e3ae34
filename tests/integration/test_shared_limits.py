"""The flood limit and the refusal notices are one for every worker, in Redis
(`storage.limits.RedisLimits` behind `bot.runtime.limits.SharedOrLocal`).

Two `FloodLimit`s, each with its own client (two workers), share one Redis: a citizen gets
FLOOD_PER_MINUTE in all, not twice that, and the notice once; the window frees a minute after.
Redis's clock is replaced by one the test moves (passed to the scripts as `now`). A Redis that
does not answer is said once in the log and each worker counts alone. Against the machine's
Redis (TEST_REDIS_URL), skipped without it; keys under a prefix unique to the test.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.limits import OncePerGroupMember, SharedOrLocal
from bot.runtime.middlewares import FloodLimit
from desk.model import ChatRef, Platform
from desk.routing import RoutingRules, load_rules
from storage.limits import RedisLimits

TG, BALE = Platform.TELEGRAM, Platform.BALE
CITIZEN = 5_550_001
GROUP = ChatRef(TG, -100_777)
DOWN = "shared limits unavailable (ConnectionError); this worker counts alone meanwhile"


class Clock:
    """Seconds the test moves: the one clock of both workers (Redis's, in production)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def _prefix() -> str:
    return f"test:limits:{os.getpid()}:{uuid.uuid4().hex[:8]}:"


def _rules() -> RoutingRules:
    return load_rules(Path(__file__).parents[2] / "routing_rules.yaml")


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[tuple[Clock, list[RedisLimits]]]:
    clock, prefix = Clock(), _prefix()
    # timeouts far above the bot's (0.5 and 1 s): these tests count exactly, and on a busy
    # machine a slow answer would send a worker to its own count (what the bot should do, and
    # what the Redis-down tests below check), not test the shared one
    clients = [RedisLimits(redis_url, prefix=prefix, now=clock, timeout=10) for _ in range(2)]
    try:
        yield clock, clients
    finally:
        keys = await clients[0].redis.keys(prefix + "*")
        if keys:
            await clients[0].redis.delete(*keys)
        for client in clients:
            await client.close()


def _floods(clients: list[RedisLimits], per_minute: int) -> list[FloodLimit]:
    return [FloodLimit(per_minute, _rules(), shared=SharedOrLocal(c, timeout=10)) for c in clients]


async def test_two_workers_give_a_citizen_one_budget_and_one_notice(
    workers: tuple[Clock, list[RedisLimits]],
) -> None:
    clock, clients = workers
    a, b = _floods(clients, per_minute=30)
    verdicts = []
    for n in range(100):  # the citizen's messages land on either worker, as lanes move
        clock.t += 0.1
        verdicts.append(await (a if n % 2 else b).verdict(TG, CITIZEN))
    handled = [handle for handle, _ in verdicts]
    assert sum(handled) == 30 and handled[:30] == [True] * 30, "30 in all, not 30 each"
    notices = [n for n, (_, notice) in enumerate(verdicts) if notice]
    assert notices == [30], "the first one over the limit is told, once across both"
    # the other platform's chat of the same number is another chat
    assert await a.verdict(BALE, CITIZEN) == (True, False)
    # a minute after the first handled message its place frees, for either worker
    first = 1_800_000_000.0 + 0.1
    clock.t = first + 59.99
    assert await a.verdict(TG, CITIZEN) == (False, False), "not a moment before"
    clock.t = first + 60
    assert await b.verdict(TG, CITIZEN) == (True, False)
    assert await a.verdict(TG, CITIZEN) == (False, True), "full again: told again, once"
    assert await b.verdict(TG, CITIZEN) == (False, False)
    clock.t = first + 60.1
    assert await a.verdict(TG, CITIZEN) == (True, False), "the second place frees after it"


async def test_two_workers_never_both_take_the_last_place(
    workers: tuple[Clock, list[RedisLimits]],
) -> None:
    """Both workers at once at the same moment: the script is atomic, no place is given twice."""
    import asyncio

    _, clients = workers
    a, b = _floods(clients, per_minute=10)
    verdicts = await asyncio.gather(*(w.verdict(TG, CITIZEN + 1) for w in [a, b] * 20))
    assert sum(handle for handle, _ in verdicts) == 10
    assert sum(notice for _, notice in verdicts) == 1


async def test_the_keys_expire_and_name_no_phone_number(
    workers: tuple[Clock, list[RedisLimits]],
) -> None:
    _, clients = workers
    (a,) = _floods(clients[:1], per_minute=1)
    await a.verdict(TG, CITIZEN + 2)
    await a.verdict(TG, CITIZEN + 2)  # over: the notice mark too
    keys = sorted(k.decode() for k in await clients[0].redis.keys(clients[0].prefix + "*"))
    assert keys == sorted(clients[0].flood_keys(TG, CITIZEN + 2)), "the window and the mark"
    assert all(k.endswith((f"telegram:{CITIZEN + 2}}}", ":notice")) for k in keys)
    for key in keys:  # Redis forgets a quiet chat by itself, a minute on
        assert 0 < await clients[0].redis.pttl(key) <= 60_000


async def test_another_bot_on_the_same_redis_counts_its_own_citizens(redis_url: str) -> None:
    # two provinces' deployments share one Redis: a citizen writing to both bots (the same
    # chat id on the platform) has each bot's budget, not one between them
    clock, prefix = Clock(), _prefix()
    south = RedisLimits(redis_url, prefix=prefix, now=clock, bots={TG: 101})
    north = RedisLimits(redis_url, prefix=prefix, now=clock, bots={TG: 202})
    try:
        a, b = _floods([south, north], per_minute=2)
        assert [await a.verdict(TG, CITIZEN + 3) for _ in range(3)] == [
            (True, False),
            (True, False),
            (False, True),
        ]
        assert await b.verdict(TG, CITIZEN + 3) == (True, False), "the other bot's own count"
        assert all(f":101:{CITIZEN + 3}}}" in k for k in south.flood_keys(TG, CITIZEN + 3))
    finally:
        keys = await south.redis.keys(prefix + "*")
        if keys:
            await south.redis.delete(*keys)
        for client in (south, north):
            await client.close()


async def test_a_refused_member_is_told_once_in_ten_minutes_across_workers(
    workers: tuple[Clock, list[RedisLimits]],
) -> None:
    clock, clients = workers
    a, b = (OncePerGroupMember("refusal", 600.0, SharedOrLocal(c)) for c in clients)
    assert await a.due(GROUP, 2)
    assert not await b.due(GROUP, 2), "the other worker knows it was said"
    assert not any([await w.due(GROUP, 2) for w in (a, b) * 10])
    assert await b.due(GROUP, 3), "per person"
    assert await b.due(ChatRef(BALE, GROUP.chat_id), 2), "per group"
    clock.t += 601
    assert await b.due(GROUP, 2), "told again after ten minutes"
    assert not await a.due(GROUP, 2)


async def test_redis_down_each_worker_counts_alone_and_says_so_once(caplog: Any) -> None:
    """Nothing listens on the port: no message waits for Redis nor is dropped for it."""
    down = RedisLimits("redis://127.0.0.1:1/0", timeout=0.2)
    shared = SharedOrLocal(down, pause=0.0)  # ask Redis every time: it must fail every time
    flood = FloodLimit(3, _rules(), shared=shared)
    refusals = OncePerGroupMember("refusal", 600.0, shared)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.runtime.limits"):
            began = time.monotonic()
            verdicts = [await flood.verdict(TG, CITIZEN) for _ in range(5)]
            told = [await refusals.due(GROUP, 2) for _ in range(3)]
            took = time.monotonic() - began
    finally:
        await down.close()
    assert verdicts == [(True, False)] * 3 + [(False, True), (False, False)], "its own window"
    assert told == [True, False, False], "its own ten minutes"
    said = [r.getMessage() for r in caplog.records]
    assert said == [DOWN], "said once, not at every message"
    assert took < 5, f"eight checks took {took:.1f} s"


async def test_redis_back_is_used_again_and_said(redis_url: str, caplog: Any) -> None:
    """After the pause on its own count, a worker asks Redis again and says it answers."""
    now = [0.0]
    limits = RedisLimits(redis_url, prefix=_prefix())
    real = limits.flood
    calls = [0]

    async def flaky(*args: Any) -> tuple[bool, bool]:
        calls[0] += 1
        if calls[0] == 1:
            raise ConnectionError("redis is away")
        return await real(*args)

    limits.flood = flaky  # type: ignore[method-assign,assignment]
    shared = SharedOrLocal(limits, pause=5.0, now=lambda: now[0])
    flood = FloodLimit(30, _rules(), shared=shared)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.runtime.limits"):
            assert await flood.verdict(TG, CITIZEN) == (True, False)  # Redis fails: own count
            assert await flood.verdict(TG, CITIZEN) == (True, False)  # within the pause
            assert calls[0] == 1, "no Redis call during the pause"
            now[0] = 6.0
            assert await flood.verdict(TG, CITIZEN) == (True, False)
            assert calls[0] == 2, "asked again after the pause"
    finally:
        keys = await limits.redis.keys(limits.prefix + "*")
        if keys:
            await limits.redis.delete(*keys)
        await limits.close()
    said = [r.getMessage() for r in caplog.records]
    assert said == [DOWN, "shared limits available again"]
