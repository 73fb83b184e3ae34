"""Citizens and draft regulations: the list, reading, commenting, the subscription."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.conversations.common import (
    MAX_ATTACHMENTS,
    Flow,
    Prompts,
    about_words,
    attachment_of,
    error_text,
    extra_files,
    file_too_big,
    name_of,
    voice_description,
)
from bot.conversations.filing import filing_key, quota_refuses
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer, plain
from bot.runtime.routers import private_router
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import (
    DraftCommentData,
    DraftReadData,
    DraftSectionData,
    SubscriptionData,
)
from desk import regulations, validation
from desk.model import Attachment, ChatRef
from desk.services import QuotaExceeded
from desk.text import normalize, to_persian_digits
from desk.validation import InvalidInput

log = logging.getLogger(__name__)


class DraftComment(StatesGroup):
    """Who the citizen comments as (optional), then the comment (the draft's id, the section
    and the role are in the FSM data)."""

    role = State()
    text = State()


ROLE_OF_BUTTON = {name: key for key, name in texts.COMMENTER_ROLES.items()}


async def ask_role(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """«به‌عنوان»: farmer, expert, official or other; or not saying."""
    return ui.fmt(texts.DRAFT_ASK_ROLE, skip=texts.BTN_ROLE_SKIP), keyboards.commenter_roles()


async def ask_comment(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The comment itself."""
    data = await state.get_data()
    return _ask_text(ui, int(data.get("section") or 0)), keyboards.back_or_cancel()


def _ask_text(ui: Renderer, section: int) -> str:
    part = (
        texts.DRAFT_WHOLE
        if section == 0
        else plain(texts.BTN_SECTION, n=to_persian_digits(section))
    )
    asked = ui.fmt(
        texts.DRAFT_ASK_COMMENT,
        part=part,
        words=to_persian_digits(about_words(validation.DESCRIPTION_MAX)),
    )
    return f"{asked}\n{ui.esc(texts.VOICE_INVITE)}"


async def drafts_menu(message: Message, deps: Deps, ui: Renderer, bot: PlatformBot) -> None:
    """«پیش‌نویس مقررات»: open drafts, and the subscription toggle."""
    chat = ChatRef(bot.platform, message.chat.id)
    drafts = await regulations.open_drafts(deps.desk)
    subscribed = await regulations.is_subscribed(deps.desk, chat)
    await message.answer(
        render.drafts_list(ui, drafts, subscribed),
        reply_markup=keyboards.open_drafts([(d.id or 0, d.title) for d in drafts], subscribed),
    )


async def toggle_subscription(
    query: CallbackQuery, callback_data: SubscriptionData, deps: Deps, bot: PlatformBot
) -> None:
    """Subscribe to, or stop, news of drafts."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    on = callback_data.on
    await regulations.subscribe(deps.desk, ChatRef(bot.platform, message.chat.id), on)
    text = (
        texts.SUBSCRIBED.format(off=texts.BTN_UNSUBSCRIBE)
        if on
        else texts.UNSUBSCRIBED.format(on=texts.BTN_SUBSCRIBE)
    )
    await message.answer(text, reply_markup=keyboards.subscription(on))


async def _draft_or_say(message: Message, deps: Deps, draft_id: int) -> Any:
    try:
        return await regulations.public(deps.desk, draft_id)
    except regulations.DraftError as exc:
        await message.answer(_not_public(exc))
        return None


def _not_public(error: regulations.DraftError) -> str:
    """Why a draft cannot be read or commented: withdrawn, or (not yet) known at all."""
    return texts.DRAFT_WITHDRAWN if error.reason == "withdrawn" else texts.DRAFT_UNKNOWN


async def read(
    query: CallbackQuery, callback_data: DraftReadData, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Send the draft's document and its summary in sections."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    draft = await _draft_or_say(message, deps, callback_data.draft)
    if draft is None:
        return
    assert draft.id is not None
    worker = deps.delivery
    document = await worker.document(bot, draft.id, "document") if worker else None
    if document is not None:
        # the caption is parsed like any message: the title goes through the renderer
        sent = await message.answer_document(document, caption=ui.esc(draft.title[:200]))
        if worker is not None:
            await worker.remember(bot, draft.id, "document", document, sent)
    await message.answer(
        render.draft_sections(ui, draft), reply_markup=keyboards.draft_actions(draft.id)
    )


async def _commentable(
    query: CallbackQuery, draft_id: int, deps: Deps, ui: Renderer
) -> tuple[Message, Any] | None:
    """The message and the open draft of a comment button; None after saying why."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return None
    draft = await _draft_or_say(message, deps, draft_id)
    if draft is None:
        return None
    if not draft.is_open_at(deps.clock.now()):
        await _closed(message, ui, draft)
        return None
    return message, draft


async def comment(
    query: CallbackQuery,
    callback_data: DraftCommentData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """«ثبت نظر»: pick a section when there are several, then write (within the quota)."""
    found = await _commentable(query, callback_data.draft, deps, ui)
    if found is None:
        return
    message, draft = found
    if await quota_refuses(message, state, deps, ui, prompts, bot, query.from_user.id):
        return
    sections = draft.sections()
    if len(sections) > 1:
        await message.answer(
            f"{texts.DRAFT_PICK_SECTION}\n\n{render.draft_sections(ui, draft)}",
            reply_markup=keyboards.draft_sections(draft.id, len(sections)),
        )
        return
    await _start(message, state, ui, draft.id, 0)


async def _closed(message: Message, ui: Renderer, draft: Any) -> None:
    await message.answer(
        ui.fmt(texts.DRAFT_CLOSED, title=draft.title,
               closed=render.jalali(draft.closed_at or draft.closes_at)),
        reply_markup=keyboards.main_menu(),
    )  # fmt: skip


async def _start(
    message: Message, state: FSMContext, ui: Renderer, draft_id: int, section: int
) -> None:
    await state.set_state(DraftComment.role)
    await state.set_data({"flow": "draft_comment", "draft": draft_id, "section": section})
    await message.answer(
        ui.fmt(texts.DRAFT_ASK_ROLE, skip=texts.BTN_ROLE_SKIP),
        reply_markup=keyboards.commenter_roles(),
    )


async def role_picked(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """A role (or «ادامه بدون معرفی») tapped: now the comment. Anything else sent here is
    the comment itself, filed without a role: nothing the citizen writes is lost."""
    await state.set_state(DraftComment.text)
    picked = message.text if message.text in ROLE_OF_BUTTON or (
        message.text == texts.BTN_ROLE_SKIP) else None  # fmt: skip
    if picked is None:
        await comment_text(message, state, deps, ui, prompts, bot)
        return
    await state.update_data(role=ROLE_OF_BUTTON.get(picked))
    await prompts.reask(message, state, deps, ui)


async def section_picked(
    query: CallbackQuery,
    callback_data: DraftSectionData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
) -> None:
    """A section (or the whole draft) picked."""
    found = await _commentable(query, callback_data.draft, deps, ui)
    if found is None:
        return
    message, draft = found
    section = callback_data.section
    if 0 <= section <= len(draft.sections()):
        await _start(message, state, ui, callback_data.draft, section)


async def malformed_button(query: CallbackQuery) -> None:
    """A draft button whose data does not unpack (forged): stop the spinner, nothing else."""
    await query.answer()


async def comment_text(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """The comment: 10 to 3,000 characters, or one voice note (the comment itself); a photo
    or file is kept, its caption taken as the comment, or the comment asked again."""
    files = await _comment_files(message, state, deps, ui, prompts, bot)
    if files is None:
        return
    text, attachments = files
    await _file_comment(message, state, deps, ui, prompts, bot, text, attachments)


async def _comment_files(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> tuple[str, list[Attachment]] | None:
    """(the comment, its files), or None after asking again (the file sent, if any, kept)."""
    kept = [Attachment.from_dict(a) for a in (await state.get_data()).get("attachments") or []]
    voice = voice_description(message)
    attachment = voice[1] if voice is not None else attachment_of(message)
    if attachment is not None:
        refused = (
            texts.ATTACHMENTS_FULL.format(max=to_persian_digits(MAX_ATTACHMENTS))
            if len(extra_files([a.to_dict() for a in kept])) >= MAX_ATTACHMENTS
            else file_too_big(bot, attachment)
        )
        if refused:
            await prompts.reask(message, state, deps, ui, refused)
            return None
        attachment.message_id = message.message_id
    if voice is not None:
        return voice[0], [voice[1], *kept]
    raw = message.text if message.text is not None else message.caption
    said = ""  # that a file sent now was kept, before any other reason to ask again
    if attachment is not None:
        kept.append(attachment)
        await state.update_data(attachments=[a.to_dict() for a in kept])
        said = texts.ATTACHMENT_KEPT.format(
            what=texts.ATTACHMENT_NAMES[attachment.kind], then=texts.STILL_WANTED["comment"]
        )
    if raw is None:
        await prompts.reask(message, state, deps, ui, said or texts.ERR_DESCRIPTION_WANTED)
        return None
    try:
        text = validation.description(normalize(raw, digits=False))
    except InvalidInput as exc:
        why = error_text(ui, exc)
        await prompts.reask(message, state, deps, ui, f"{said}\n{why}" if said else why)
        return None
    return text, kept


async def _file_comment(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    text: str,
    attachments: list[Attachment],
) -> None:
    """Hand the comment to the desk and show the receipt (or why it was not taken)."""
    data = await state.get_data()
    sender = message.from_user
    try:
        request = await regulations.comment(
            deps.desk,
            int(data["draft"]),
            section=int(data.get("section") or 0),
            text=text,
            chat=ChatRef(bot.platform, message.chat.id),
            user_id=sender.id if sender else None,
            name=name_of(sender) or None,
            attachments=attachments,
            filing_key=filing_key(),
            commenter_role=data.get("role"),
        )
    except regulations.DraftClosed as exc:
        await state.clear()
        await _closed(message, ui, exc.draft)
        return
    except regulations.DraftError as exc:  # withdrawn while the citizen was writing
        await state.clear()
        await message.answer(_not_public(exc), reply_markup=keyboards.main_menu())
        return
    except QuotaExceeded as refused:  # the comment stays in the chat; the step waits for it
        await prompts.reask(
            message, state, deps, ui, render.quota(ui, refused, texts.QUOTA_COMMENT_LATER)
        )
        return
    deps.wake_delivery()
    draft = await regulations.get(deps.desk, int(data["draft"]))  # its title, in the receipt
    await message.answer(
        render.receipt(ui, request, deps.rules, draft), reply_markup=keyboards.main_menu()
    )
    await state.clear()


def flow() -> Flow:
    """Draft regulations for citizens (private chats): the list, reading, commenting."""
    router = private_router("drafts")
    router.message.register(drafts_menu, StateFilter(None), F.text == texts.BTN_DRAFTS)
    router.callback_query.register(toggle_subscription, SubscriptionData.filter())
    router.callback_query.register(read, DraftReadData.filter())
    router.callback_query.register(comment, DraftCommentData.filter())
    router.callback_query.register(section_picked, DraftSectionData.filter())
    router.callback_query.register(malformed_button, F.data.regexp(r"^d[rcx]:"))
    router.message.register(role_picked, DraftComment.role)
    router.message.register(comment_text, DraftComment.text)
    return Flow(router, {DraftComment.role: ask_role, DraftComment.text: ask_comment})
