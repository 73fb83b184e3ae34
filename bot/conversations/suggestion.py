"""Suggestion or criticism: topic, text, named, anonymous or unnamed-but-answered, confirm."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.conversations import common, filing, steps
from bot.conversations.common import Flow, Prompts
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer
from bot.runtime.routers import private_router
from bot.ui import keyboards, texts
from desk.model import Attachment, Contact, Kind, NewRequest
from desk.text import to_persian_digits
from desk.validation import InvalidInput


class Suggestion(StatesGroup):
    """The steps of a suggestion or criticism."""

    topic = State()
    text = State()
    anonymous = State()
    confirm = State()
    edit = State()


EDITABLE = {
    "topic": Suggestion.topic,
    "text": Suggestion.text,
    "anonymous": Suggestion.anonymous,
}


async def begin(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """Start a suggestion, unless this account has used its filing quota."""
    await filing.start(
        message, state, deps, ui, prompts, bot, "suggestion", Suggestion.topic,
        user_id=common.user_id_of(message),
    )  # fmt: skip


async def begin_with_text(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    user_id: int | None,
    text: str,
    files: list[dict[str, Any]] | None = None,
) -> None:
    """Start a suggestion whose description is the sentence the citizen typed in the menu: its
    step is passed over, the others are asked as usual."""
    await filing.start(
        message, state, deps, ui, prompts, bot, "suggestion", Suggestion.topic,
        user_id=user_id, kept=text or None, files=files,
        skip={Suggestion.text: Suggestion.anonymous},
    )  # fmt: skip


async def ask_anonymous(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Named or anonymous, saying plainly what anonymity costs; a returning citizen is offered
    «همان قبلی: name، phone» too, so an answer can also reach them by phone."""
    details = await common.remembered(message, ui, deps)
    label = common.same_as_before_label(details) if details is not None else None
    return texts.ASK_ANONYMOUS, keyboards.anonymity(label)


def _parse_anonymous(message: Message) -> tuple[bool, bool]:
    """(anonymous, unnamed): anonymous keeps no chat; unnamed keeps it for the answer only."""
    value = common.text_of(message)
    if value == texts.BTN_ANONYMOUS:
        return True, False
    if value == texts.BTN_UNNAMED_REPLY:
        return False, True
    if value == texts.BTN_WITH_NAME:
        return False, False
    raise InvalidInput("pick")


async def got_anonymous(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """Take the choice; an anonymous citizen is told no answer can reach them, an unnamed one
    that staff will not see who they are but the answer comes here."""
    details = await common.remembered(message, ui, deps)
    if details is not None and common.pressed_same_as_before(message, details):
        await state.update_data(
            anonymous=False, unnamed=False, name=details.name, phone=details.phone, editing=False
        )
        await prompts.ask(Suggestion.confirm, message, state, deps, ui)
        return
    try:
        anonymous, unnamed = _parse_anonymous(message)
    except InvalidInput as exc:
        await prompts.reask(message, state, deps, ui, common.error_text(ui, exc))
        return
    await state.update_data(
        anonymous=anonymous, unnamed=unnamed, name=None, phone=None, editing=False
    )
    if anonymous:
        await message.answer(texts.ANONYMOUS_NOTE)
    elif unnamed:
        await message.answer(texts.UNNAMED_NOTE)
    await prompts.ask(Suggestion.confirm, message, state, deps, ui)


async def ask_confirm(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The summary."""
    data = await state.get_data()
    if data.get("anonymous"):
        naming = texts.ANONYMOUS_NAME
    elif data.get("unnamed"):
        naming = texts.UNNAMED_NAME
    else:
        naming = texts.BTN_WITH_NAME
    fields = [("topic", deps.rules.topic(data["topic"]).name), ("anonymous", naming)]
    if data.get("name"):  # «همان قبلی»
        fields += [("name", data["name"]), ("phone", to_persian_digits(data.get("phone") or ""))]
    if common.extra_files(list(data.get("attachments") or [])):  # a photo sent with the text
        fields.append(("attachments", common.attachments_line(data)))
    return common.summary_text(ui, fields, data.get("text")), keyboards.confirm()


async def got_confirm(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """Confirm and file, or edit."""

    def build(data: dict[str, Any]) -> NewRequest:
        anonymous = bool(data.get("anonymous"))
        unnamed = not anonymous and bool(data.get("unnamed"))
        sender = message.from_user
        return NewRequest(
            kind=Kind.SUGGESTION,
            chat=common.chat_of(message, bot.platform),
            user_id=sender.id if sender else None,
            text=data["text"],
            topic=data["topic"],
            contact=(
                Contact(name=None)
                if anonymous or unnamed
                else Contact(data["name"], data.get("phone"))
                if data.get("name")
                else Contact(name=common.name_of(sender) or None)
            ),
            attachments=[Attachment.from_dict(a) for a in data.get("attachments") or []],
            anonymous=anonymous,
            unnamed=unnamed,
            remember=data.get("remember", True),
        )

    await filing.take_confirm(message, state, deps, ui, prompts, edit=Suggestion.edit, build=build)


def flow() -> Flow:
    """The suggestion's router (private chats) and its questions, in the order they are asked."""
    router = private_router("suggestion")
    router.message.register(begin, F.text == texts.BTN_SUGGESTION)
    prompts = steps.add(
        router,
        steps.choice(
            Suggestion.topic,
            question=texts.ASK_TOPIC,
            field="topic",
            options=lambda deps: deps.rules.topics,
            nxt=Suggestion.text,
            summary=Suggestion.confirm,
        ),
        steps.description(
            Suggestion.text,
            question=texts.ASK_SUGGESTION_TEXT.format(**steps.LONG_TEXT_BOUNDS),
            wanted="suggestion",
            nxt=Suggestion.anonymous,
            summary=Suggestion.confirm,
        ),
        steps.Step(Suggestion.anonymous, ask_anonymous, got_anonymous),
        steps.Step(Suggestion.confirm, ask_confirm, got_confirm),
        steps.edit(Suggestion.edit, EDITABLE),
    )
    return Flow(router, prompts)
