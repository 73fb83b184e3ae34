"""The last step every filing conversation shares: hand the draft to the desk, show the receipt."""

from __future__ import annotations

import logging

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import keyboards, render
from bot.deps import Deps
from bot.platforms import Renderer
from desk import services
from desk.model import NewRequest

log = logging.getLogger(__name__)


async def submit(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, new: NewRequest
) -> None:
    """File the request; the draft is cleared only once the desk has stored it."""
    request = await services.file_request(new, uow=deps.uow, rules=deps.rules, clock=deps.clock)
    log.info("filed %s request %s to unit %s", request.kind.value, request.code, request.unit)
    deps.wake_delivery()
    await state.clear()
    await message.answer(
        render.receipt(ui, request, deps.rules), reply_markup=keyboards.main_menu()
    )
