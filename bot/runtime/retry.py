"""Retry Bot API calls that fail for passing reasons, so a reply is delayed, never dropped.

What counts as passing is decided in one place, `bot.runtime.boundary.classify`, the same for
the outbox:
a rate limit (429 or 420 in any shape, Bale's `bot limit exceed` / `local_rate_limited`) waits
as long as the server says, or a growing guess when it says nothing; 5xx, HTML error pages,
timeouts and dropped connections back off exponentially. getUpdates is left to the polling
loop, which has its own backoff. The outbox worker adds durable retries on top.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.runtime.boundary import Outcome, classify

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)


class RetryRequests(BaseRequestMiddleware):
    """Retry transient API failures for up to `budget` seconds of waiting in all.

    The budget is time, not a count of attempts: a messenger that answers 429, 5xx or nothing
    for a minute costs a reply a minute's delay, not the reply. The backoff between attempts
    doubles from `base_delay` up to `max_delay`; a 429's `retry_after` is waited in full.
    Only the handler's own chat waits meanwhile (see `bot/runtime/polling.py`).
    """

    def __init__(
        self, budget: float = 120.0, base_delay: float = 0.5, max_delay: float = 8.0
    ) -> None:
        self.budget = budget
        self.base_delay = base_delay
        self.max_delay = max_delay

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Call the API, sleeping and retrying on transient errors."""
        if isinstance(method, GetUpdates):  # polling has its own backoff
            return await make_request(bot, method)  # type: ignore[arg-type]
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return await make_request(bot, method)
            except Exception as exc:
                verdict = classify(exc, group=False)
                if verdict.outcome is Outcome.RATE_LIMITED:
                    delay = verdict.wait
                elif verdict.outcome is Outcome.TRANSIENT:
                    delay = self._backoff(attempt)
                else:
                    raise
                error: Exception = exc
            if waited + delay > self.budget:
                log.error(
                    "%s failed %d times in %.0fs (%s); giving up",
                    type(method).__name__,
                    attempt,
                    waited,
                    type(error).__name__,
                )
                raise error
            log.warning(
                "%s failed (%s), retry %d in %.1fs",
                type(method).__name__,
                type(error).__name__,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
            waited += delay

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 16))
        return float(delay * (0.5 + random.random()))
