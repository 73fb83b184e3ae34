"""Message to the head of the organisation: name, phone, text, attachments, confirm."""

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
DONE = HeadMessage.confirm


async def begin(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """Start a message to the head, unless this account has used its filing quota."""
    await filing.start(
        message, state, deps, ui, prompts, bot, "head", HeadMessage.name,
        user_id=common.user_id_of(message),
    )  # fmt: skip


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
    """Confirm and file, or edit."""

    def build(data: dict[str, Any]) -> NewRequest:
        return NewRequest(
            kind=Kind.HEAD,
            chat=common.chat_of(message, bot.platform),
            user_id=message.from_user.id if message.from_user else None,
            text=data["text"],
            contact=Contact(data["name"], data["phone"]),
            attachments=[Attachment.from_dict(a) for a in data.get("attachments") or []],
            remember=data.get("remember", True),
        )

    if common.attachment_of(message) is not None:  # a file sent at the summary: kept
        await common.attach_at_summary(message, state, deps, ui, prompts, bot)
        return
    await filing.take_confirm(message, state, deps, ui, prompts, edit=HeadMessage.edit, build=build)


def flow() -> Flow:
    """The message to the head: its router (private chats) and its questions, in order."""
    router = private_router("head")
    router.message.register(begin, F.text == texts.BTN_HEAD)
    prompts = steps.add(
        router,
        steps.name(
            HeadMessage.name,
            nxt=HeadMessage.phone,
            same=HeadMessage.text,
            summary=DONE,
        ),
        steps.phone(HeadMessage.phone, nxt=HeadMessage.text, summary=DONE),
        # a voice note goes straight to the summary: one action fewer than «بدون پیوست»,
        # and a file can still be sent there (the summary says so)
        steps.description(
            HeadMessage.text,
            question=texts.ASK_HEAD_TEXT.format(**steps.LONG_TEXT_BOUNDS),
            wanted="head",
            nxt=HeadMessage.attachments,
            summary=DONE,
            after_voice=DONE,
            returning=DONE,
        ),
        steps.attachments(HeadMessage.attachments, summary=DONE),
        steps.Step(HeadMessage.confirm, ask_confirm, got_confirm),
        steps.edit(HeadMessage.edit, EDITABLE),
    )
    return Flow(router, prompts)
