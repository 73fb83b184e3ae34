"""Limits shared by every worker when Redis is there (`bot.ports.SharedLimits`), each process's
own memory when it is not.

Several webhook workers serve one bot, and one chat's updates move between them (a chat's inbox
lane is let go after two idle seconds): a limit each worker kept alone would give a citizen one
budget per worker. So the flood limit (`bot.runtime.middlewares.FloodLimit`) and the notice to a
refused group member (`OncePerGroupMember`) ask the shared limits first. Redis failing never
holds a message up nor drops it: the worker says so once in its log, keeps its own in-memory
count for `pause` seconds (no Redis call meanwhile, so a dead Redis costs nothing per message),
then asks Redis again, and says when it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.ports import SharedLimits
from desk.model import ChatRef
from desk.people import OncePerPerson

log = logging.getLogger(__name__)

T = TypeVar("T")


class SharedOrLocal:
    """The shared limits, or None (meaning: use your own) when absent or not answering."""

    def __init__(
        self,
        shared: SharedLimits | None,
        *,
        timeout: float = 1.0,
        pause: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = shared
        self.timeout = timeout  # the longest a message waits for Redis
        self.pause = pause  # seconds on the own count after a failure
        self.now = now
        self.failing = False
        self._skip_until = -1.0

    async def ask(self, call: Callable[[SharedLimits], Awaitable[T]]) -> T | None:
        """`call`'s answer; None without shared limits, or when they fail (logged once)."""
        if self.shared is None or self.now() < self._skip_until:
            return None
        try:
            async with asyncio.timeout(self.timeout):
                answer = await call(self.shared)
        except Exception as exc:  # connection refused, a timeout, a script error: all the same
            if not self.failing:
                log.warning(
                    "shared limits unavailable (%s); this worker counts alone meanwhile",
                    type(exc).__name__,
                )
            self.failing = True
            self._skip_until = self.now() + self.pause
            return None
        if self.failing:
            log.warning("shared limits available again")
            self.failing = False
        return answer

    async def close(self) -> None:
        """Release the shared limits' connection."""
        if self.shared is not None:
            await self.shared.close()


class OncePerGroupMember:
    """At most once per (group, person) in `gap` seconds, across every worker: `name` tells
    the marks apart in Redis. This process's own `OncePerPerson` while Redis does not answer."""

    def __init__(
        self,
        name: str,
        gap: float,
        shared: SharedOrLocal | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.gap = gap
        self.shared = shared or SharedOrLocal(None)
        self.local = OncePerPerson(gap, now)

    async def due(self, chat: ChatRef, user_id: int) -> bool:
        """Whether it may happen now for this person in this group (and remember that it did)."""
        shared = await self.shared.ask(lambda s: s.due(self.name, chat, user_id, self.gap))
        return self.local.due(chat, user_id) if shared is None else shared
