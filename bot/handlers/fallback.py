"""Whatever no other handler took: a button press nobody expects (stale or forged)."""

from __future__ import annotations

import logging

from aiogram.types import CallbackQuery

from bot.runtime.platforms import PlatformBot
from bot.runtime.registry import Handlers
from bot.ui import texts

log = logging.getLogger(__name__)

router = Handlers("fallback")


@router.callback_query()
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
