"""Step factories: the steps several conversations share, registered in one line each.

A step is a prompt (what to ask, with which keyboard) plus a handler (validate, store, move on
or ask again). Declaring the shared ones here keeps each flow's module a readable list of its
steps, with only what is particular to it (the summary and the request it files) written out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message, ReplyKeyboardMarkup

from bot.conversations import common
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer
from bot.runtime.registry import Handlers
from bot.ui import keyboards, texts
from desk import validation
from desk.routing import Choice
from desk.text import to_persian_digits

LONG_TEXT_BOUNDS = {
    "min": to_persian_digits(validation.DESCRIPTION_MIN),
    "max": to_persian_digits(validation.DESCRIPTION_MAX),
}


def text_step(
    router: Handlers,
    state_: State,
    *,
    question: str,
    field: str,
    parse: Callable[[Message], object],
    nxt: State,
    summary: State,
    keyboard: Callable[[], ReplyKeyboardMarkup] = keyboards.cancel_only,
) -> None:
    """A typed answer, validated by `parse`, stored under `field`."""

    @common.prompt(state_)
    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The question and its keyboard."""
        return question, keyboard()

    @router.message(state_)
    async def take(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
        """Validate, store, move on."""
        await common.take(
            message, state, deps, ui, field=field, parse=parse, nxt=nxt, summary=summary
        )


def choice_step(
    router: Handlers,
    state_: State,
    *,
    question: str,
    field: str,
    options: Callable[[Deps], tuple[Choice, ...]],
    nxt: State,
    summary: State,
    columns: int = 2,
) -> None:
    """One button of a list from the routing rules (topics, counties); the key is stored."""

    @common.prompt(state_)
    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The options as buttons."""
        return question, keyboards.choices([o.name for o in options(deps)], columns=columns)

    @router.message(state_)
    async def take(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
        """The pressed (or typed) option."""
        await common.take(
            message, state, deps, ui, field=field,
            parse=lambda m: common.pick(m, options(deps)).key, nxt=nxt, summary=summary,
        )  # fmt: skip


def phone_step(router: Handlers, state_: State, *, nxt: State, summary: State) -> None:
    """The citizen's mobile: the contact button, or typed and validated."""

    @common.prompt(state_)
    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The question with the contact button."""
        return texts.ASK_PHONE.format(button=texts.BTN_SHARE_PHONE), keyboards.phone_request()

    @router.message(state_)
    async def take(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
        """A shared contact or a typed number."""
        await common.take_phone(message, state, deps, ui, nxt=nxt, summary=summary)


def attachments_step(router: Handlers, state_: State, *, summary: State) -> None:
    """Up to five photos, voices, documents, videos or locations."""

    @common.prompt(state_)
    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The invitation to attach, with the right first button."""
        return await common.attachments_prompt(state)

    @router.message(state_)
    async def take(
        message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
    ) -> None:
        """One attachment, or the end of them."""
        await common.take_attachment(message, state, deps, ui, bot, summary=summary)


def edit_step(router: Handlers, state_: State, editable: dict[str, State]) -> None:
    """«ویرایش» on a summary: which field to change."""

    @common.prompt(state_)
    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """One button per editable field."""
        return common.edit_prompt(editable)

    @router.message(state_)
    async def take(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
        """Jump to the chosen field; the summary comes back after it."""
        await common.take_edit(message, state, deps, ui, editable)
