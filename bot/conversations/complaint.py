"""Complaint: topic, county, name, phone, national code, description, attachments, confirm."""

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

router = Handlers("complaint", private_only=True)


class Complaint(StatesGroup):
    """The steps of a complaint."""

    topic = State()
    county = State()
    name = State()
    phone = State()
    national_code = State()
    text = State()
    attachments = State()
    confirm = State()
    edit = State()


EDITABLE = {
    "topic": Complaint.topic,
    "county": Complaint.county,
    "name": Complaint.name,
    "phone": Complaint.phone,
    "national_code": Complaint.national_code,
    "text": Complaint.text,
    "attachments": Complaint.attachments,
}


@router.message(F.text == texts.BTN_COMPLAINT)
async def begin(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Start a complaint."""
    await state.set_data({"flow": "complaint"})
    await ask(Complaint.topic, message, state, deps, ui)


@prompt(Complaint.topic)
async def ask_topic(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Topic buttons from routing_rules.yaml."""
    return texts.ASK_TOPIC, keyboards.choices([t.name for t in deps.rules.topics])


@router.message(Complaint.topic)
async def got_topic(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the topic."""
    await take(
        message,
        state,
        deps,
        ui,
        field="topic",
        parse=lambda m: common.pick(m, deps.rules.topics).key,
        nxt=Complaint.county,
        summary=Complaint.confirm,
    )


@prompt(Complaint.county)
async def ask_county(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """County buttons."""
    return texts.ASK_COUNTY, keyboards.choices([c.name for c in deps.rules.counties], columns=3)


@router.message(Complaint.county)
async def got_county(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the county."""
    await take(
        message,
        state,
        deps,
        ui,
        field="county",
        parse=lambda m: common.pick(m, deps.rules.counties).key,
        nxt=Complaint.name,
        summary=Complaint.confirm,
    )


@prompt(Complaint.name)
async def ask_name(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Name."""
    return texts.ASK_NAME, keyboards.cancel_only()


@router.message(Complaint.name)
async def got_name(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the name."""
    await take(
        message,
        state,
        deps,
        ui,
        field="name",
        parse=common.parse_name,
        nxt=Complaint.phone,
        summary=Complaint.confirm,
    )


@prompt(Complaint.phone)
async def ask_phone(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Phone, with the contact button."""
    return texts.ASK_PHONE.format(button=texts.BTN_SHARE_PHONE), keyboards.phone_request()


@router.message(Complaint.phone)
async def got_phone(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the phone."""
    await common.take_phone(
        message, state, deps, ui, nxt=Complaint.national_code, summary=Complaint.confirm
    )


@prompt(Complaint.national_code)
async def ask_national_code(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Optional national code."""
    return texts.ASK_NATIONAL_CODE.format(skip=texts.BTN_SKIP), keyboards.skip_or_cancel()


@router.message(Complaint.national_code)
async def got_national_code(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take or skip the national code."""
    await take(
        message,
        state,
        deps,
        ui,
        field="national_code",
        parse=common.parse_national_code,
        nxt=Complaint.text,
        summary=Complaint.confirm,
    )


@prompt(Complaint.text)
async def ask_text(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Description."""
    return texts.ASK_DESCRIPTION.format(
        min=to_persian_digits(validation.DESCRIPTION_MIN),
        max=to_persian_digits(validation.DESCRIPTION_MAX),
    ), keyboards.cancel_only()


@router.message(Complaint.text)
async def got_text(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the description."""
    await take(
        message,
        state,
        deps,
        ui,
        field="text",
        parse=common.parse_long_text,
        nxt=Complaint.attachments,
        summary=Complaint.confirm,
    )


@prompt(Complaint.attachments)
async def ask_attachments(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Optional attachments."""
    return await common.attachments_prompt(state)


@router.message(Complaint.attachments)
async def got_attachment(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Collect an attachment or move on."""
    await common.take_attachment(message, state, deps, ui, bot, summary=Complaint.confirm)


@prompt(Complaint.confirm)
async def ask_confirm(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The summary."""
    data = await state.get_data()
    fields = [
        ("topic", deps.rules.topic(data["topic"]).name),
        ("county", deps.rules.county(data["county"]).name),
        ("name", data.get("name")),
        ("phone", to_persian_digits(data.get("phone") or "") or None),
        ("national_code", to_persian_digits(data.get("national_code") or "") or None),
        ("attachments", common.attachments_line(data)),
    ]
    return common.summary_text(ui, fields, data.get("text")), keyboards.confirm()


@router.message(Complaint.confirm)
async def got_confirm(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Confirm and file, or go edit a field."""

    def build(data: dict[str, Any]) -> NewRequest:
        return NewRequest(
            kind=Kind.COMPLAINT,
            chat=common.chat_of(message, bot.platform),
            user_id=message.from_user.id if message.from_user else None,
            text=data["text"],
            topic=data["topic"],
            county=data["county"],
            contact=Contact(data["name"], data["phone"], data.get("national_code")),
            attachments=[Attachment.from_dict(a) for a in data.get("attachments") or []],
        )

    await common.take_confirm(message, state, deps, ui, edit=Complaint.edit, build=build)


@prompt(Complaint.edit)
async def ask_edit(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Which field to edit."""
    return common.edit_prompt(EDITABLE)


@router.message(Complaint.edit)
async def got_edit(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Jump to the chosen field; the summary comes back after it."""
    await common.take_edit(message, state, deps, ui, EDITABLE)
