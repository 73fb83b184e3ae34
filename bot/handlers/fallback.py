"""Whatever no other handler took: a button press nobody expects (stale or forged)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.runtime.platforms import PlatformBot
from bot.ui import texts

log = logging.getLogger(__name__)


async def unknown_button(query: CallbackQuery, bot: PlatformBot) -> None:
    """Stop the button spinning, change nothing, and log it: it may be a forgery."""
    chat = query.message.chat.id if query.message else None
    log.warning(
        "ignored callback %r from user %s in %s chat %s",
        (query.data or "")[:64],
        query.from_user.id,
        bot.platform.value,
        chat,
    )
    await query.answer(texts.ACTION_DONE_ALREADY)


def router() -> Router:
    """The last router: any press no other router took, in any chat."""
    router = Router(name="fallback")
    router.callback_query.register(unknown_button)
    return router
