"""What one chat or one person may make the bot do, counted for every worker together, in Redis.

Two limits live here (the `bot.ports.SharedLimits` port):
- the **flood limit** of a citizen's private chat: a sorted set per chat of the moments its
  handled messages came, the last `window` seconds of them; a message finding `limit` there is
  not handled, and the first such one (a mark beside the set, gone when one is handled again)
  gets the notice. So the chat has `limit` a minute across all workers, told once.
- **once in a while** per person and group (a refused member is told at most once in ten
  minutes): one key per (what, group, person) holding when it last happened.

Each check is one Lua script (atomic: two workers never both take the last place). The clock is
Redis's own (`TIME`) unless a `now` is given (the tests move theirs). Every key expires once its
window is over, so Redis holds only recent senders; the keys name the platform, its bot (two
deployments may share one Redis) and the chat or user id, never a phone number. The client
gives up quickly (`timeout`, no retries): the caller (`bot.runtime.limits.SharedOrLocal`) falls
back to its own memory rather than keep a citizen waiting for Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import uuid4

from desk.model import ChatRef, Platform
from storage.rate import scoped

_NOW = """
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# KEYS[1]: the chat's handled moments (a sorted set), KEYS[2]: its notice mark.
# ARGV: now ('' for Redis's clock), the window (s), the limit, a member unique to this call.
# Returns 1: handle it; 2: over the limit, the first time (tell the citizen); 0: over, quietly.
_FLOOD = (
    _NOW
    + """
local window = tonumber(ARGV[2])
local ttl = math.ceil(window * 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('DEL', KEYS[2])
  return 1
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ttl) then
  return 2
end
return 0
"""
)

# KEYS[1]: when it last happened. ARGV: now ('' for Redis's clock), the gap (s).
# Returns 1 (and remembers now) when it may happen; 0 within the gap.
_ONCE = (
    _NOW
    + """
local gap = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '')
if last ~= nil and now - last < gap then
  return 0
end
redis.call('SET', KEYS[1], string.format('%.6f', now), 'PX', math.ceil(gap * 1000))
return 1
"""
)


class RedisLimits:
    """`bot.ports.SharedLimits` in Redis (REDIS_URL): the flood limit and once-in-a-while marks."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "jihad:",
        now: Callable[[], float] | None = None,
        timeout: float = 0.5,
        bots: Mapping[Platform, int] | None = None,
    ) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.redis: Any = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.prefix = prefix
        self.now = now
        self.bots = dict(bots or {})  # each platform's bot id: one bot's counts, not another's
        self._flood: Any = self.redis.register_script(_FLOOD)
        self._once: Any = self.redis.register_script(_ONCE)

    def _now(self) -> str:
        return "" if self.now is None else f"{self.now():.6f}"

    def flood_keys(self, platform: Platform, chat_id: int) -> list[str]:
        """The chat's two keys (one hash slot: `{platform:bot:chat}`)."""
        window = f"{self.prefix}flood:{{{scoped(platform, self.bots)}:{chat_id}}}"
        return [window, window + ":notice"]

    async def flood(
        self, platform: Platform, chat_id: int, limit: int, window: float
    ) -> tuple[bool, bool]:
        """Count a message of this chat: whether to handle it, and (if not) whether to say so."""
        verdict = int(
            await self._flood(
                keys=self.flood_keys(platform, chat_id),
                args=[self._now(), window, limit, uuid4().hex],
            )
        )
        return verdict == 1, verdict == 2

    async def due(self, name: str, chat: ChatRef, user_id: int, gap: float) -> bool:
        """Whether `name` may happen now for this person in this group (remembered if so)."""
        where = scoped(chat.platform, self.bots)
        key = f"{self.prefix}once:{name}:{where}:{chat.chat_id}:{user_id}"
        return int(await self._once(keys=[key], args=[self._now(), gap])) == 1

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()
