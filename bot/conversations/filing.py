"""The last step every filing conversation shares: confirm, hand the draft to the desk, show the
receipt; and the filing quota checked when a filing starts."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from bot.conversations.common import KEPT_FILES, Prompts
from bot.deps import Deps
from bot.runtime.middlewares import current_update_key
from bot.runtime.platforms import PlatformBot, Renderer
from bot.ui import keyboards, render, texts
from desk import services
from desk.model import NewRequest

log = logging.getLogger(__name__)


def draft_data(flow: str, **values: Any) -> dict[str, Any]:
    """A new draft's FSM data: its flow and its idempotency key, drawn once for the draft, so
    every confirm of this draft (the first, and one after a lost receipt) files it once."""
    return {"flow": flow, "filing_key": uuid.uuid4().hex, **values}


def filing_key() -> str:
    """The idempotency key of a filing: the update that confirmed it.

    At-least-once polling runs the confirm handler again when a crash cut it short; the same
    update brings the same key, and the desk returns the request it already filed instead of
    filing a second one. Pressing «تأیید» again is a new update, but by then the draft is gone."""
    return current_update_key() or uuid.uuid4().hex


async def quota_refuses(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    user_id: int | None,
) -> bool:
    """At the start of a filing: True, after saying kindly until when, when this account has
    used its share already, so nobody types a whole filing only to be refused at the end.
    A conversation in hand is left as it was, and its step asked again (else the menu)."""
    try:
        await services.filing_quota(
            bot.platform, user_id, uow=deps.uow, clock=deps.clock, quotas=deps.quotas
        )
    except services.QuotaExceeded as refused:
        await prompts.reask(
            message, state, deps, ui, render.quota(ui, refused, texts.QUOTA_START_LATER)
        )
        return True
    return False


async def start(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    flow: str,
    first: State,
    *,
    user_id: int | None,
    kept: str | None = None,
    files: list[dict[str, Any]] | None = None,
    skip: dict[State, State] | None = None,
) -> None:
    """Start a filing flow at its first step, unless this account has used its filing quota.
    `kept`: a message the citizen sent in the menu, the draft's description from the start;
    `skip` maps the steps it answers to the step asked instead; `files`: the voice or photo
    that message was, the draft's attachments (a file alone: no `kept`, nothing skipped)."""
    if await quota_refuses(message, state, deps, ui, prompts, bot, user_id):
        return
    passed = {str(step.state): str(instead.state) for step, instead in (skip or {}).items()}
    extra: dict[str, Any] = {"text": kept, "skip": passed} if kept else {}
    if files:
        extra |= {"attachments": list(files), KEPT_FILES: list(files)}
    await state.set_data(draft_data(flow, **extra))
    if kept:
        await message.answer(texts.KEPT_TEXT_USED)
    elif files:
        await message.answer(texts.KEPT_FILE_USED)
    await prompts.ask(first, message, state, deps, ui)


async def submit(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    new: NewRequest,
    *,
    later: str = texts.QUOTA_CONFIRM_LATER,
) -> None:
    """File the request and show the receipt; the draft is cleared only after both, so a crash
    in between ends in the same receipt for the same request when the update comes again.

    Over the filing quota, the draft stays and the step is asked again after `later` (when
    they may send it): for a summary, pressing «تأیید و ارسال» then files it."""
    # The draft's own key (`draft_data`): when a receipt was lost (the platform refused it, or
    # was down past the retry budget) and the citizen confirms again, the desk returns the
    # request already filed and the same receipt goes out, not a second filing.
    key = (await state.get_data()).get("filing_key") or filing_key()
    new = dataclasses.replace(new, filing_key=str(key))
    try:
        request = await services.file_request(
            new, uow=deps.uow, rules=deps.rules, clock=deps.clock, quotas=deps.quotas
        )
    except services.QuotaExceeded as refused:
        log.info("filing quota: %s:%s waits until %s", new.chat.platform.value,
                 new.chat.chat_id, refused.retry_at.isoformat())  # fmt: skip
        await prompts.reask(
            message, state, deps, ui, render.quota(ui, refused, later, confirm=texts.BTN_CONFIRM)
        )
        return
    log.info("filed %s request %s to unit %s", request.kind.value, request.code, request.unit)
    deps.wake_delivery()
    await message.answer(
        render.receipt(ui, request, deps.rules), reply_markup=keyboards.main_menu()
    )
    await state.clear()


async def take_confirm(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    *,
    edit: State,
    build: Callable[[dict[str, Any]], NewRequest],
) -> None:
    """«تأیید و ارسال» files the request built from the draft; «ویرایش» asks which field."""
    if message.text == texts.BTN_EDIT:
        await prompts.ask(edit, message, state, deps, ui)
        return
    if message.text != texts.BTN_CONFIRM:
        await prompts.reask(message, state, deps, ui, texts.ERR_PICK_BUTTON)
        return
    await submit(message, state, deps, ui, prompts, build(await state.get_data()))
