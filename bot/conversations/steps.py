"""Steps: what a conversation's state asks, and the handler of its answer, declared together.

A step is a prompt (what to ask, with which keyboard) plus a handler (validate, store, move on
or ask again). The factories here build the steps several conversations share, so each flow's
factory is a readable list of its steps, with only what is particular to it (the summary and
the request it files) written out. `add` registers the handlers on the flow's router, in the
order given, and returns the prompts by state for the flow's `Flow`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message, ReplyKeyboardMarkup

from bot.conversations import common
from bot.conversations.common import Prompt, Prompts
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer
from bot.ui import keyboards, texts
from desk import validation
from desk.routing import Choice
from desk.text import to_persian_digits

LONG_TEXT_BOUNDS = {
    "min": to_persian_digits(validation.DESCRIPTION_MIN),
    "max": to_persian_digits(validation.DESCRIPTION_MAX),
    "words": to_persian_digits(common.about_words(validation.DESCRIPTION_MAX)),
}


@dataclass(frozen=True)
class Step:
    """A state, the question it asks, and the message handler of its answer."""

    state: State
    ask: Prompt
    take: Callable[..., Awaitable[None]]


def add(router: Router, *steps: Step) -> dict[State, Prompt]:
    """Register each step's handler on `router`, in this order; their prompts by state."""
    for step in steps:
        router.message.register(step.take, step.state)
    return {step.state: step.ask for step in steps}


def text(
    state_: State,
    *,
    question: str,
    field: str,
    parse: Callable[[Message], object],
    nxt: State,
    summary: State,
    keyboard: Callable[[], ReplyKeyboardMarkup] = keyboards.back_or_cancel,
    returning: State | None = None,
) -> Step:
    """A typed answer, validated by `parse`, stored under `field`; then `nxt`, or `returning`
    when given and the citizen took «همان قبلی» (they know the steps it skips)."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The question and its keyboard."""
        return question, keyboard()

    async def take(
        message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
    ) -> None:
        """Validate, store, move on."""
        then = nxt
        if returning is not None and (await state.get_data()).get("returning"):
            then = returning
        await common.take(
            message, state, deps, ui, prompts, field=field, parse=parse, nxt=then, summary=summary
        )

    return Step(state_, ask, take)


def description(
    state_: State,
    *,
    question: str,
    wanted: str,
    nxt: State,
    summary: State,
    after_voice: State | None = None,
    returning: State | None = None,
) -> Step:
    """The description: typed, or one voice note (then `after_voice`, by default `nxt`); a
    photo or file sent here is kept and the question asked again (`common.take_description`).
    `returning`, when given, follows a typed description after «همان قبلی» (as `text`)."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The question, and that a voice note will do."""
        return f"{question}\n{texts.VOICE_INVITE}", keyboards.back_or_cancel()

    async def take(
        message: Message,
        state: FSMContext,
        deps: Deps,
        ui: Renderer,
        prompts: Prompts,
        bot: PlatformBot,
    ) -> None:
        """Text, a voice note, or a file kept."""
        then = nxt
        if returning is not None and (await state.get_data()).get("returning"):
            then = returning
        await common.take_description(
            message, state, deps, ui, prompts, bot, wanted=wanted,
            nxt=then, after_voice=after_voice or then, summary=summary,
        )  # fmt: skip

    return Step(state_, ask, take)


def name(
    state_: State, *, nxt: State, same: State, summary: State, national_code: bool = False
) -> Step:
    """The citizen's name; a returning citizen is offered «همان قبلی: name، phone», which fills
    the name and phone (and the national code, with `national_code`, as given last time) and
    goes on to `same`, past the steps it filled. Typing a name goes on to `nxt` as always."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The question, with the button when something is remembered."""
        details = await common.remembered(message, ui, deps)
        if details is None:
            return texts.ASK_NAME, keyboards.back_or_cancel()
        label = common.same_as_before_label(details)
        return texts.ASK_NAME_OR_SAME, keyboards.same_as_before(label)

    async def take(
        message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
    ) -> None:
        """«همان قبلی», or a typed name."""
        details = await common.remembered(message, ui, deps)
        if details is not None and common.pressed_same_as_before(message, details):
            values: dict[str, Any] = {
                "name": details.name, "phone": details.phone, "returning": True
            }  # fmt: skip
            if national_code:
                values["national_code"] = details.national_code
            await state.update_data(values)
            await common.advance(message, state, deps, ui, prompts, nxt=same, summary=summary)
            return
        await common.take(
            message, state, deps, ui, prompts,
            field="name", parse=common.parse_name, nxt=nxt, summary=summary,
        )  # fmt: skip

    return Step(state_, ask, take)


def choice(
    state_: State,
    *,
    question: str,
    field: str,
    options: Callable[[Deps], tuple[Choice, ...]],
    nxt: State,
    summary: State,
    columns: int = 2,
) -> Step:
    """One button of a list from the routing rules (topics, counties); the key is stored."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The options as buttons."""
        return question, keyboards.choices([o.name for o in options(deps)], columns=columns)

    async def take(
        message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
    ) -> None:
        """The pressed (or typed) option."""
        await common.take(
            message, state, deps, ui, prompts, field=field,
            parse=lambda m: common.pick(m, options(deps)).key, nxt=nxt, summary=summary,
        )  # fmt: skip

    return Step(state_, ask, take)


def phone(state_: State, *, nxt: State, summary: State) -> Step:
    """The citizen's mobile: the contact button, or typed and validated."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The question with the contact button."""
        return texts.ASK_PHONE.format(button=texts.BTN_SHARE_PHONE), keyboards.phone_request()

    async def take(
        message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
    ) -> None:
        """A shared contact or a typed number."""
        await common.take_phone(message, state, deps, ui, prompts, nxt=nxt, summary=summary)

    return Step(state_, ask, take)


def attachments(state_: State, *, summary: State) -> Step:
    """Up to five photos, voices, documents, videos or locations."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """The invitation to attach, with the right first button."""
        return await common.attachments_prompt(state)

    async def take(
        message: Message,
        state: FSMContext,
        deps: Deps,
        ui: Renderer,
        prompts: Prompts,
        bot: PlatformBot,
    ) -> None:
        """One attachment, or the end of them."""
        await common.take_attachment(message, state, deps, ui, prompts, bot, summary=summary)

    return Step(state_, ask, take)


def edit(state_: State, editable: dict[str, State]) -> Step:
    """«ویرایش» on a summary: which field to change."""

    async def ask(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> Any:
        """One button per editable field."""
        return common.edit_prompt(editable)

    async def take(
        message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
    ) -> None:
        """Jump to the chosen field; the summary comes back after it."""
        await common.take_edit(message, state, deps, ui, prompts, editable)

    return Step(state_, ask, take)
