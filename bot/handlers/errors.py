"""The last line of defence: an unexpected error becomes a polite message, never a silence."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.ui import texts

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    """Log the error (no message content) and ask the citizen to try again; the draft is kept."""
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    message = update.message or (update.callback_query.message if update.callback_query else None)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except Exception:
            log.warning("could not answer callback of update %s", update.update_id)
    if message is not None and message.chat.type == "private":
        try:
            await message.answer(texts.ERR_TRY_AGAIN)
        except Exception:
            log.warning("could not tell chat about failed update %s", update.update_id)
    return True


def router() -> Router:
    """The error handler, for every update of every router below the root."""
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
