"""Each platform's send rate shared by every worker process, in Redis.

One key per platform holds the next free send slot (GCRA: the "theoretical arrival time").
A worker about to send reserves the next slot in one atomic script and sleeps until it comes:
slots are `1/per_second` apart across all workers together, on Redis's clock (`TIME`), so the
workers' own clocks never matter. A reserved slot a worker does not use (it died) is simply
lost: the rate only ever errs on the slow side. The key expires a second after its last slot.
"""

from __future__ import annotations

from typing import Any

from desk.model import Platform

# KEYS[1]: the platform's key; ARGV[1]: seconds between two sends. Returns the seconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
local ttl = math.ceil((start + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', start + interval), 'PX', ttl)
return string.format('%.6f', start - now)
"""


class RedisRate:
    """`bot.ports.SharedRate` in Redis (REDIS_URL): one schedule of send slots per platform."""

    def __init__(self, url: str, *, prefix: str = "jihad:rate:") -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.prefix = prefix
        self._script: Any = self.redis.register_script(_RESERVE)

    async def slot(self, platform: Platform, per_second: float) -> float:
        """Reserve the platform's next send slot; the seconds until it comes."""
        wait = await self._script(keys=[self.prefix + platform.value], args=[1 / per_second])
        return max(0.0, float(wait))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()
