"""Each platform's send rate shared by every worker process, in Redis.

One key per platform's bot (`jihad:rate:<platform>:<bot id>`: the platforms limit each bot, and
provinces may share one Redis) holds the next free send slot (GCRA: the "theoretical arrival time").
A worker about to send reserves the next slot in one atomic script and sleeps until it comes:
slots are `1/per_second` apart across all workers together, on Redis's clock (`TIME`), so the
workers' own clocks never matter. A reserved slot a worker does not use (it died) is simply
lost: the rate only ever errs on the slow side. The key expires a second after its last slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desk.model import Platform


def scoped(platform: Platform, bots: Mapping[Platform, int]) -> str:
    """A platform's part of a Redis key: `<platform>:<bot id>` (the bot's own limits, apart
    from another deployment's bot on the same Redis), or the platform alone when not known."""
    bot_id = bots.get(platform)
    return platform.value if bot_id is None else f"{platform.value}:{bot_id}"


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

    def __init__(
        self, url: str, *, prefix: str = "jihad:rate:", bots: Mapping[Platform, int] | None = None
    ) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.prefix = prefix
        self.bots = dict(bots or {})  # each platform's bot id: a key per bot
        self._script: Any = self.redis.register_script(_RESERVE)

    async def slot(self, platform: Platform, per_second: float) -> float:
        """Reserve the platform's next send slot; the seconds until it comes."""
        key = self.prefix + scoped(platform, self.bots)
        wait = await self._script(keys=[key], args=[1 / per_second])
        return max(0.0, float(wait))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()
