"""The last step every filing conversation shares: hand the draft to the desk, show the receipt."""

from __future__ import annotations

import dataclasses
import logging
import uuid

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import keyboards, render
from bot.deps import Deps
from bot.middlewares import current_update_key
from bot.platforms import Renderer
from desk import services
from desk.model import NewRequest

log = logging.getLogger(__name__)


def filing_key() -> str:
    """The idempotency key of a filing: the update that confirmed it.

    At-least-once polling runs the confirm handler again when a crash cut it short; the same
    update brings the same key, and the desk returns the request it already filed instead of
    filing a second one. Pressing «تأیید» again is a new update, but by then the draft is gone."""
    return current_update_key() or uuid.uuid4().hex


async def submit(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, new: NewRequest
) -> None:
    """File the request and show the receipt; the draft is cleared only after both, so a crash
    in between ends in the same receipt for the same request when the update comes again."""
    new = dataclasses.replace(new, filing_key=filing_key())
    request = await services.file_request(new, uow=deps.uow, rules=deps.rules, clock=deps.clock)
    log.info("filed %s request %s to unit %s", request.kind.value, request.code, request.unit)
    deps.wake_delivery()
    await message.answer(
        render.receipt(ui, request, deps.rules), reply_markup=keyboards.main_menu()
    )
    await state.clear()
