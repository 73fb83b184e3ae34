"""The last line of defence: an unexpected error becomes a polite message, never a silence."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import ErrorEvent

from bot.deps import Deps
from bot.runtime.boundary import Outcome, classify
from bot.ui import texts
from desk.model import Platform

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent, bot: Bot | None = None, deps: Deps | None = None) -> bool:
    """Log the error (no message content) and ask the citizen to try again; the draft is kept.
    A staff or admin group that refuses the bot (kicked, gone) is held and the admin chats are
    told, as when the outbox finds it: nobody reads a reply the group did not take."""
    update = event.update
    message = update.message or (update.callback_query.message if update.callback_query else None)
    if update.callback_query is not None:  # the button stops spinning, whatever failed
        try:
            await update.callback_query.answer()
        except Exception:
            log.warning("could not answer callback of update %s", update.update_id)
    if await _group_refused(event, message, bot, deps):
        return True
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    if message is not None and message.chat.type == "private":
        try:
            await message.answer(texts.ERR_TRY_AGAIN)
        except Exception:
            log.warning("could not tell chat about failed update %s", update.update_id)
    return True


async def _group_refused(
    event: ErrorEvent, message: object, bot: Bot | None, deps: Deps | None
) -> bool:
    """Whether the error is a staff or admin group refusing the bot (then held and told)."""
    chat = getattr(message, "chat", None)
    if chat is None or chat.type == "private" or deps is None or deps.group_refused is None:
        return False
    platform = getattr(bot, "platform", None)
    if not isinstance(platform, Platform):
        return False
    # the refused call went to this group (not, say, to a citizen from a staff action)
    target = getattr(getattr(event.exception, "method", None), "chat_id", None)
    verdict = classify(event.exception, group=True)
    office = deps.rules.is_office_chat(platform, chat.id)
    if not office or target != chat.id or verdict.outcome is not Outcome.HELD:
        return False
    log.warning("update %s: %s group %s refuses the bot (%s)", event.update.update_id,
                platform.value, chat.id, verdict.reason)  # fmt: skip
    try:
        await deps.group_refused(platform, chat.id, verdict)
    except Exception:
        log.exception("could not hold %s group %s", platform.value, chat.id)
    return True


def router() -> Router:
    """The error handler, for every update of every router below the root."""
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
