"""Citizens in private chats: the menu, checking a request by its code, «درخواست‌های من»."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.conversations import complaint, suggestion
from bot.conversations.common import (
    KEPT_FILES,
    KEPT_KEY,
    KEPT_TEXT,
    Flow,
    Prompts,
    attachment_of,
    file_too_big,
    offer_kept_text,
    voice_description,
)
from bot.deps import Deps
from bot.handlers import followup
from bot.runtime.platforms import PlatformBot, Renderer
from bot.runtime.routers import private_router
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import KeptTextData
from desk import regulations, services, tracking, validation
from desk.model import ChatRef
from desk.text import normalize, to_persian_digits
from desk.validation import InvalidInput


class Tracking(StatesGroup):
    """«پیگیری درخواست»: waiting for a code, then optionally for a contact."""

    code = State()
    contact = State()


async def start(message: Message, deps: Deps, ui: Renderer, bot: PlatformBot) -> None:
    """Welcome and the main menu; a first-time citizen is offered news of draft regulations."""
    await message.answer(
        ui.fmt(texts.WELCOME, org=deps.rules.organisation), reply_markup=keyboards.main_menu()
    )
    chat = ChatRef(bot.platform, message.chat.id)
    sender = message.from_user.id if message.from_user else None
    if await regulations.first_visit(deps.desk, chat, sender):
        await message.answer(texts.OFFER_SUBSCRIPTION, reply_markup=keyboards.subscription(False))


async def ask_code(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The tracking code (also where «بازگشت» from the contact step lands)."""
    return texts.ASK_CODE, keyboards.back_or_cancel()


async def ask_contact(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """After a status-only answer: the citizen's own number, to see the text and the answer."""
    return ui.fmt(texts.ASK_OWN_PHONE, button=texts.BTN_SHARE_PHONE), keyboards.share_phone_only()


async def track(message: Message, state: FSMContext) -> None:
    """Ask for a tracking code."""
    await state.set_state(Tracking.code)
    await message.answer(texts.ASK_CODE, reply_markup=keyboards.back_or_cancel())


async def mine(message: Message, deps: Deps, ui: Renderer, bot: PlatformBot) -> None:
    """The chat's own requests with their statuses."""
    requests = await services.my_requests(ChatRef(bot.platform, message.chat.id), uow=deps.uow)
    await message.answer(
        render.my_requests(ui, requests, deps.rules), reply_markup=keyboards.main_menu()
    )


async def _lookup(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    text: str,
    proof: services.Proof | None = None,
) -> None:
    """Answer a look-up; a polite reason for every way it can fail."""
    chat = ChatRef(bot.platform, message.chat.id)
    try:
        result = await services.lookup(
            text, chat=chat, uow=deps.uow, clock=deps.clock, proof=proof, watch=deps.lookup_watch
        )
    except services.Throttled as exc:
        await state.clear()
        reply = ui.fmt(texts.ERR_THROTTLED, time=render.jalali(exc.until))
        await message.answer(reply, reply_markup=keyboards.main_menu())
        return
    except services.DeskError as exc:
        deps.wake_delivery()  # a failure may have queued an alert to the admins
        await state.set_state(Tracking.code)
        await message.answer(_failure_text(ui, text, exc), reply_markup=keyboards.back_or_cancel())
        return
    request = result.request
    card = render.status_card(
        ui,
        request,
        deps.rules,
        full=result.full,
        contact_button=texts.BTN_SHARE_PHONE,
        offer_contact=not result.locked,
    )
    if result.proof_failed:
        deps.wake_delivery()
        if proof is not None and not proof.own:  # not the sender's own: they may try the button
            note = ui.fmt(texts.CONTACT_NOT_OWN, button=texts.BTN_SHARE_PHONE)
            await message.answer(f"{note}\n\n{card}", reply_markup=keyboards.share_phone_only())
            return
        await state.clear()
        reply = f"{texts.PHONE_MISMATCH}\n\n{card}"
        await message.answer(reply, reply_markup=keyboards.main_menu())
        return
    if result.locked and not result.full:
        await state.clear()
        reply = f"{texts.CODE_LOCKED}\n\n{card}"
        await message.answer(reply, reply_markup=keyboards.main_menu())
        return
    if not result.full and request.contact.phone and proof is None:
        await state.set_state(Tracking.contact)
        await state.update_data(code=request.code)
        await message.answer(card, reply_markup=keyboards.share_phone_only())
        return
    await state.clear()
    await message.answer(card, reply_markup=keyboards.main_menu())


def _failure_text(ui: Renderer, text: str, error: services.DeskError) -> str:
    """Why a typed code found nothing: not a code, a typo, or unknown."""
    if isinstance(error, services.BadCheckDigit):
        return ui.fmt(texts.ERR_CODE_CHECK, code=render.code(ui, tracking.clean(text)))
    if isinstance(error, services.NotFound):
        return ui.fmt(texts.ERR_CODE_UNKNOWN, code=render.code(ui, str(error)))
    return texts.ERR_CODE_FORMAT


async def got_code(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """A code typed after «پیگیری درخواست»."""
    if message.text is None:
        await message.answer(texts.ERR_CODE_FORMAT, reply_markup=keyboards.back_or_cancel())
        return
    await _lookup(message, state, deps, ui, bot, message.text)


async def got_contact(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """A shared contact that may prove the citizen owns the request."""
    contact = message.contact
    assert contact is not None
    sender = message.from_user
    code = (await state.get_data()).get("code", "")
    # only the sender's own account proves anything: a phone-book card has no user_id, and
    # another person's card has theirs (Bale documents user_id as optional, so it may be absent)
    own = contact.user_id is not None and sender is not None and contact.user_id == sender.id
    try:
        phone = validation.mobile_number(contact.phone_number)
    except InvalidInput:
        phone = ""
    await _lookup(message, state, deps, ui, bot, code, proof=services.Proof(phone, own))


async def contact_or_code(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """After a status-only answer: another code is looked up, anything else shows the menu."""
    if message.text and tracking.looks_like_code(message.text):
        await _lookup(message, state, deps, ui, bot, message.text)
        return
    await state.clear()
    await message.answer(texts.MENU_AGAIN, reply_markup=keyboards.main_menu())


async def code_sent(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """A message that is just a tracking code is a look-up."""
    assert message.text is not None
    await _lookup(message, state, deps, ui, bot, message.text)


async def lost(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Anything else outside a conversation. While a staff question waits, a text, photo or
    voice answers it; a sentence that reads like a request, a voice note, a photo or a file
    is kept and offered to be filed (`_kept_from`); anything else is told how to go on, with
    the menu."""
    if await followup.answer_in_menu(message, state, deps, ui, bot):
        return
    attachment = attachment_of(message)
    if attachment is not None and (too_big := file_too_big(bot, attachment)):
        await message.answer(too_big, reply_markup=keyboards.main_menu())
        return
    kept = _kept_from(message)
    if kept is not None:  # kept in the FSM data, with no state
        await offer_kept_text(message, state, *kept)
        return
    await message.answer(
        texts.LOST.replace("۱۰", to_persian_digits(tracking.LENGTH)),
        reply_markup=keyboards.main_menu(),
    )


def _kept_from(message: Message) -> tuple[str, list[dict[str, Any]]] | None:
    """What a message in the menu can be filed as: (description, files). A sentence that
    reads like a request; a voice note (the description itself, as at a description step);
    a photo or another file, kept, with its caption as the description when it reads like a
    request (else '': the description is asked when filing). None for anything else."""
    voice = voice_description(message)
    if voice is not None:
        text, spoken = voice
        return text, [spoken.to_dict()]
    if message.text is not None:
        text = normalize(message.text)
        return (text, []) if validation.looks_like_request(text) else None
    attachment = attachment_of(message)
    if attachment is None:
        return None
    attachment.message_id = message.message_id
    caption = normalize(message.caption or "")
    return (caption if validation.looks_like_request(caption) else ""), [attachment.to_dict()]


async def file_kept_text(
    query: CallbackQuery,
    callback_data: KeptTextData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """«ثبت به‌عنوان شکایت» / «… پیشنهاد یا انتقاد» under a kept sentence: the flow starts
    with it as the description."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    data = await state.get_data()
    text = data.get(KEPT_TEXT)
    if (
        await state.get_state() is not None
        or not isinstance(text, str)
        or data.get(KEPT_KEY) != callback_data.token
    ):
        await message.answer(texts.KEPT_TEXT_GONE)
        return
    begin = complaint.begin_with_text if callback_data.flow == "c" else suggestion.begin_with_text
    files = [f for f in data.get(KEPT_FILES) or [] if isinstance(f, dict)]
    await begin(message, state, deps, ui, prompts, bot, query.from_user.id, text, files)


def flow() -> Flow:
    """Citizens outside a conversation (private chats): after every flow, the menu's last word;
    the look-up's questions (code, then the contact)."""
    router = private_router("citizen")
    router.message.register(start, CommandStart(), StateFilter(None))
    router.message.register(track, StateFilter(None), F.text == texts.BTN_TRACK)
    router.message.register(mine, StateFilter(None), F.text == texts.BTN_MINE)
    router.message.register(got_code, Tracking.code)
    router.message.register(got_contact, Tracking.contact, F.contact)
    router.message.register(contact_or_code, Tracking.contact)
    router.message.register(
        code_sent, StateFilter(None), F.text, F.text.func(tracking.looks_like_code)
    )  # a photo (no text) goes on to `lost`
    router.message.register(lost, StateFilter(None))
    router.callback_query.register(file_kept_text, KeptTextData.filter())
    return Flow(router, {Tracking.code: ask_code, Tracking.contact: ask_contact})
