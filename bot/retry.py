"""Retry Bot API calls that fail for passing reasons, so a reply is delayed, never dropped.

429 (and Bale's `bot limit exceed` / `local_rate_limited`) wait as long as the server says;
5xx, timeouts and dropped connections back off exponentially. getUpdates is left to aiogram's
polling loop, which has its own backoff. The outbox worker adds durable retries on top.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

BALE_RATE_LIMIT_MARKERS = ("bot limit exceed", "local_rate_limited", "too many requests")


def is_rate_limited(error: Exception) -> bool:
    """Bale reports rate limits as ordinary errors with these words."""
    text = str(getattr(error, "message", error)).lower()
    return isinstance(error, TelegramBadRequest) and any(m in text for m in BALE_RATE_LIMIT_MARKERS)


class RetryRequests(BaseRequestMiddleware):
    """Retry transient API failures up to `attempts` times, at most `max_wait` seconds in all."""

    def __init__(self, attempts: int = 6, base_delay: float = 0.5, max_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_wait = max_wait

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
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                delay: float = exc.retry_after
                error: Exception = exc
            except (TelegramServerError, TelegramNetworkError) as exc:
                delay, error = self._backoff(attempt), exc
            except TelegramBadRequest as exc:
                if not is_rate_limited(exc):
                    raise
                delay, error = max(self._backoff(attempt), 1.0), exc
            if attempt == self.attempts or waited + delay > self.max_wait:
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
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return float(self.base_delay * 2 ** (attempt - 1) * (0.5 + random.random()))
