"""Complaint: topic, county, name, phone, national code, description, attachments, confirm."""

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
DONE = Complaint.confirm


async def begin(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """Start a complaint, unless this account has used its filing quota."""
    await filing.start(
        message, state, deps, ui, prompts, bot, "complaint", Complaint.topic,
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
    """Start a complaint whose description is the sentence the citizen typed in the menu: its
    step is passed over, the others are asked as usual."""
    await filing.start(
        message, state, deps, ui, prompts, bot, "complaint", Complaint.topic,
        user_id=user_id, kept=text or None, files=files,
        skip={Complaint.text: Complaint.attachments},
    )  # fmt: skip


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
    hint = bool(data.get("returning")) or common.described_by_voice(data)
    text = common.summary_text(ui, fields, data.get("text"), attach_hint=hint)
    return text, keyboards.confirm()


async def got_confirm(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
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
            remember=data.get("remember", True),
        )

    if common.attachment_of(message) is not None:  # a file sent at the summary: kept
        await common.attach_at_summary(message, state, deps, ui, prompts, bot)
        return
    await filing.take_confirm(message, state, deps, ui, prompts, edit=Complaint.edit, build=build)


def flow() -> Flow:
    """The complaint's router (private chats) and its questions, in the order they are asked."""
    router = private_router("complaint")
    router.message.register(begin, F.text == texts.BTN_COMPLAINT)
    prompts = steps.add(
        router,
        steps.choice(
            Complaint.topic,
            question=texts.ASK_TOPIC,
            field="topic",
            options=lambda deps: deps.rules.topics,
            nxt=Complaint.county,
            summary=DONE,
        ),
        steps.choice(
            Complaint.county,
            question=texts.ASK_COUNTY,
            field="county",
            options=lambda deps: deps.rules.counties,
            nxt=Complaint.name,
            summary=DONE,
            columns=3,
        ),
        steps.name(
            Complaint.name,
            nxt=Complaint.phone,
            same=Complaint.text,
            summary=DONE,
            national_code=True,
        ),
        steps.phone(Complaint.phone, nxt=Complaint.national_code, summary=DONE),
        steps.text(
            Complaint.national_code,
            question=texts.ASK_NATIONAL_CODE.format(skip=texts.BTN_NO_NATIONAL_CODE),
            field="national_code",
            parse=common.parse_national_code,
            nxt=Complaint.text,
            summary=DONE,
            keyboard=keyboards.skip_or_cancel,
        ),
        # a voice note goes straight to the summary: one action fewer than «بدون پیوست»,
        # and a file can still be sent there (the summary says so)
        steps.description(
            Complaint.text,
            question=texts.ASK_DESCRIPTION.format(**steps.LONG_TEXT_BOUNDS),
            wanted="complaint",
            nxt=Complaint.attachments,
            summary=DONE,
            after_voice=DONE,
            returning=DONE,
        ),
        steps.attachments(Complaint.attachments, summary=DONE),
        steps.Step(Complaint.confirm, ask_confirm, got_confirm),
        steps.edit(Complaint.edit, EDITABLE),
    )
    return Flow(router, prompts)
