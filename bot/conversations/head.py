"""Message to the head of the organisation: name, phone, text, attachments, confirm."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot import keyboards, texts
from bot.conversations import common
from bot.conversations.common import ask, prompt, take
from bot.deps import Deps
from bot.platforms import PlatformBot, Renderer
from bot.registry import Handlers
from desk import validation
from desk.model import Attachment, Contact, Kind, NewRequest
from desk.text import to_persian_digits

router = Handlers("head", private_only=True)


class HeadMessage(StatesGroup):
    """The steps of a message to the head."""

    name = State()
    phone = State()
    text = State()
    attachments = State()
    confirm = State()
    edit = State()


EDITABLE = {
    "name": HeadMessage.name,
    "phone": HeadMessage.phone,
    "text": HeadMessage.text,
    "attachments": HeadMessage.attachments,
}


@router.message(F.text == texts.BTN_HEAD)
async def begin(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Start a message to the head."""
    await state.set_data({"flow": "head"})
    await ask(HeadMessage.name, message, state, deps, ui)


@prompt(HeadMessage.name)
async def ask_name(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Name."""
    return texts.ASK_NAME, keyboards.cancel_only()


@router.message(HeadMessage.name)
async def got_name(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the name."""
    await take(
        message,
        state,
        deps,
        ui,
        field="name",
        parse=common.parse_name,
        nxt=HeadMessage.phone,
        summary=HeadMessage.confirm,
    )


@prompt(HeadMessage.phone)
async def ask_phone(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Phone."""
    return texts.ASK_PHONE.format(button=texts.BTN_SHARE_PHONE), keyboards.phone_request()


@router.message(HeadMessage.phone)
async def got_phone(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the phone."""
    await common.take_phone(
        message, state, deps, ui, nxt=HeadMessage.text, summary=HeadMessage.confirm
    )


@prompt(HeadMessage.text)
async def ask_text(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The message."""
    return texts.ASK_HEAD_TEXT.format(
        min=to_persian_digits(validation.DESCRIPTION_MIN),
        max=to_persian_digits(validation.DESCRIPTION_MAX),
    ), keyboards.cancel_only()


@router.message(HeadMessage.text)
async def got_text(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the message."""
    await take(
        message,
        state,
        deps,
        ui,
        field="text",
        parse=common.parse_long_text,
        nxt=HeadMessage.attachments,
        summary=HeadMessage.confirm,
    )


@prompt(HeadMessage.attachments)
async def ask_attachments(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Optional attachments."""
    return await common.attachments_prompt(state)


@router.message(HeadMessage.attachments)
async def got_attachment(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Collect an attachment or move on."""
    await common.take_attachment(message, state, deps, ui, bot, summary=HeadMessage.confirm)


@prompt(HeadMessage.confirm)
async def ask_confirm(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The summary."""
    data = await state.get_data()
    fields = [
        ("name", data.get("name")),
        ("phone", to_persian_digits(data.get("phone") or "") or None),
        ("attachments", common.attachments_line(data)),
    ]
    return common.summary_text(ui, fields, data.get("text")), keyboards.confirm()


@router.message(HeadMessage.confirm)
async def got_confirm(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Confirm and file, or edit."""

    def build(data: dict[str, Any]) -> NewRequest:
        return NewRequest(
            kind=Kind.HEAD,
            chat=common.chat_of(message, bot.platform),
            user_id=message.from_user.id if message.from_user else None,
            text=data["text"],
            contact=Contact(data["name"], data["phone"]),
            attachments=[Attachment.from_dict(a) for a in data.get("attachments") or []],
        )

    await common.take_confirm(message, state, deps, ui, edit=HeadMessage.edit, build=build)


@prompt(HeadMessage.edit)
async def ask_edit(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Which field to edit."""
    return common.edit_prompt(EDITABLE)


@router.message(HeadMessage.edit)
async def got_edit(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Jump to the chosen field."""
    await common.take_edit(message, state, deps, ui, EDITABLE)
