"""Dispatcher middlewares: platform context for handlers, and skipping redelivered updates."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.platforms import PlatformBot
from desk.ports import Clock
from storage.repositories import SqlHandledUpdates

log = logging.getLogger(__name__)

NextHandler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PlatformContext(BaseMiddleware):
    """Gives every handler `ui`, the renderer of the platform the update came from."""

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Inject `ui`."""
        bot = data["bot"]
        assert isinstance(bot, PlatformBot)
        data["ui"] = bot.ui
        return await handler(event, data)


class SkipHandledUpdates(BaseMiddleware):
    """At-least-once polling redelivers an update whose handling a crash cut short;
    one whose handling had finished is remembered here and skipped."""

    def __init__(self, handled: SqlHandledUpdates, clock: Clock) -> None:
        self.handled = handled
        self.clock = clock

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Skip a handled update; mark it handled once the handler returns."""
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        try:
            event.event_type  # noqa: B018 - raises for an update we could not parse
        except UpdateTypeLookupError:
            log.warning("update %s has no content we understand; skipped", event.update_id)
            return None
        if await self.handled.seen(bot_id, event.update_id):
            log.info("update %s of bot %s was handled before; skipped", event.update_id, bot_id)
            return None
        result = await handler(event, data)
        await self.handled.mark(bot_id, event.update_id, self.clock.now())
        return result
