"""A citizen after filing: answering a staff question, rating an answer, reopening it."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.conversations.common import Flow, attachment_of, too_long
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer
from bot.runtime.routers import private_router
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import ClarifyData, RateData, ReopenData
from desk import staff, validation
from desk.model import Action, ChatRef, allows
from desk.services import DeskError, QuotaExceeded
from desk.text import normalize, to_persian_digits

log = logging.getLogger(__name__)


# the question's answer may be spoken, as a description may (issue 14, item 2)
ASK_CLARIFICATION = f"{texts.ASK_CLARIFICATION}\n{texts.VOICE_INVITE}"


class Clarify(StatesGroup):
    """Waiting for the citizen's answer to a staff question."""

    text = State()


class Reopen(StatesGroup):
    """Waiting for the note that reopens an answered request."""

    note = State()


async def ask_clarification(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The citizen's answer to a question."""
    return ASK_CLARIFICATION, keyboards.back_or_cancel()


async def ask_reopen_note(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Why the answer did not satisfy."""
    return texts.ASK_REOPEN_NOTE, keyboards.back_or_cancel()


async def _pressed_on_own_request(
    query: CallbackQuery, code: str, deps: Deps, bot: PlatformBot
) -> tuple[Message, Any] | None:
    """The message and the request of a «code» button; None (after saying why) when the
    request is not this chat's. A malformed code never unpacks (`malformed_button`)."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return None
    try:
        request = await staff.owned_request(
            deps.desk, code, chat=ChatRef(bot.platform, message.chat.id)
        )
    except DeskError:
        await message.answer(texts.NOT_YOUR_REQUEST)
        return None
    return message, request


async def reply_button(
    query: CallbackQuery,
    callback_data: ClarifyData,
    state: FSMContext,
    deps: Deps,
    bot: PlatformBot,
) -> None:
    """«پاسخ به این پرسش»: wait for the citizen's answer."""
    pressed = await _pressed_on_own_request(query, callback_data.code, deps, bot)
    if pressed is None:
        return
    message, request = pressed
    if not allows(request.status, Action.CLARIFY):
        await message.answer(texts.CLARIFICATION_NOT_NEEDED, reply_markup=keyboards.main_menu())
        return
    await state.set_state(Clarify.text)
    await state.set_data({"code": request.code})
    await message.answer(ASK_CLARIFICATION, reply_markup=keyboards.back_or_cancel())


async def _clarify(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    code: str,
    *,
    from_menu: bool = False,
) -> None:
    text = normalize(message.text or message.caption or "", digits=False)
    attachment = attachment_of(message)
    if not text and attachment is None:
        await message.answer(texts.ERR_EMPTY)
        return
    if not text and message.voice is not None:  # staff read that the answer is a voice note
        text = texts.VOICE_DESCRIPTION
    elif not text and attachment is not None:  # a photo, a file alone: staff read what it is
        text = texts.CLARIFICATION_FILE.format(what=texts.ATTACHMENT_NAMES[attachment.kind])
    if why := too_long(text, validation.DESCRIPTION_MAX):  # the unit's note must fit too
        await message.answer(why)
        return
    chat = ChatRef(bot.platform, message.chat.id)
    try:
        request = await staff.clarify(
            deps.desk, code, text, chat=chat, attachments=[attachment] if attachment else []
        )
    except staff.WrongStatus:
        await state.clear()
        await message.answer(texts.CLARIFICATION_NOT_NEEDED, reply_markup=keyboards.main_menu())
        return
    except QuotaExceeded as refused:
        # nothing reached the unit; the state stays, so sending it again later is enough
        log.info(
            "clarification quota on request %s: waits until %s", code, refused.retry_at.isoformat()
        )
        await message.answer(render.clarification_quota(ui, refused))
        return
    except DeskError:
        await state.clear()
        await message.answer(texts.NOT_YOUR_REQUEST, reply_markup=keyboards.main_menu())
        return
    deps.wake_delivery()
    await state.clear()
    unit = deps.rules.units[request.unit].name if request.unit else ""
    sent = (
        ui.fmt(texts.CLARIFICATION_SENT_FOR, code=render.code(ui, code), unit=unit)
        if from_menu
        else ui.fmt(texts.CLARIFICATION_SENT, unit=unit)
    )
    await message.answer(sent, reply_markup=keyboards.main_menu())


# every button label (reply and inline): a press on an old keyboard is not a citizen's words
_BUTTON_LABELS = frozenset(
    value
    for name, value in vars(texts).items()
    if name.startswith("BTN_") and isinstance(value, str)
)


def may_answer_in_menu(message: Message) -> bool:
    """Whether a message in the menu can be a citizen's answer to a question: words, or a file
    (photo, voice, document …), but no command and no button of an old keyboard."""
    if attachment_of(message) is not None:
        return True
    text = normalize(message.text or "")
    return bool(text) and not text.startswith("/") and text not in _BUTTON_LABELS


async def answer_in_menu(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> bool:
    """A plain message in the menu while a staff question waits: it answers the newest such
    question (True); False when no question waits or the message cannot be an answer."""
    if not may_answer_in_menu(message):
        return False
    waiting = await staff.awaiting_answer(deps.desk, ChatRef(bot.platform, message.chat.id))
    if waiting is None:
        return False
    await _clarify(message, state, deps, ui, bot, waiting.code, from_menu=True)
    return True


async def clarification(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """The citizen's answer, text and optionally one attachment."""
    code = str((await state.get_data()).get("code"))
    await _clarify(message, state, deps, ui, bot, code)


async def reply_to_question(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """A Reply to the bot's question message answers it, without pressing the button."""
    replied = message.reply_to_message
    assert replied is not None
    link = await deps.links.linked(bot.platform, message.chat.id, replied.message_id)
    if link is None or link[1] != "question":
        raise SkipHandler  # any other reply is an ordinary message for the citizen router
    await _clarify(message, state, deps, ui, bot, link[0])


async def rating(
    query: CallbackQuery, callback_data: RateData, deps: Deps, bot: PlatformBot
) -> None:
    """1-5 under an answer, once: the buttons give way to the score recorded; a second press
    (of the same message or an older copy) is told it is recorded and changes nothing; an
    unsatisfied citizen is offered to reopen."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    chat = ChatRef(bot.platform, message.chat.id)
    score = callback_data.score
    try:
        request, offer = await staff.rate(deps.desk, callback_data.code, score, chat=chat)
    except staff.AlreadyRated as done:
        await _show_rated(message, callback_data.code, done.score)
        await message.answer(texts.RATING_ALREADY.format(label=texts.RATE_LABELS[done.score - 1]))
        return
    except DeskError as exc:
        log.warning("rating refused for chat %s:%s: %s", chat.platform.value, chat.chat_id,
                    type(exc).__name__)  # fmt: skip
        await message.answer(texts.ACTION_DONE_ALREADY)
        return
    await _show_rated(message, request.code, score)
    await message.answer(texts.THANKS_FOR_RATING.format(label=texts.RATE_LABELS[score - 1]))
    if offer:
        await message.answer(texts.OFFER_REOPEN, reply_markup=keyboards.reopen(request.code))


async def _show_rated(message: Message, code: str, score: int) -> None:
    """The rating buttons under the answer give way to the score recorded (best effort: an
    answer too old to edit keeps its buttons, and the desk still keeps the first rating)."""
    try:
        await message.edit_reply_markup(reply_markup=keyboards.rated(code, score))
    except TelegramAPIError as exc:
        log.info("rating buttons not replaced in chat %s: %s", message.chat.id, exc)


async def reopen_button(
    query: CallbackQuery,
    callback_data: ReopenData,
    state: FSMContext,
    deps: Deps,
    bot: PlatformBot,
) -> None:
    """«بازگشایی درخواست»: ask for the note."""
    pressed = await _pressed_on_own_request(query, callback_data.code, deps, bot)
    if pressed is None:
        return
    message, request = pressed
    refusal = staff.reopen_refusal(request, deps.clock.now())
    if refusal is not None:
        await message.answer(texts.REOPEN_REFUSED[refusal], reply_markup=keyboards.main_menu())
        return
    await state.set_state(Reopen.note)
    await state.set_data({"code": request.code})
    await message.answer(texts.ASK_REOPEN_NOTE, reply_markup=keyboards.back_or_cancel())


async def reopen_note(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """The note; the request goes back to its unit."""
    note = normalize(message.text or "", digits=False)
    if not note:
        await message.answer(texts.ERR_TEXT_WANTED)
        return
    if why := too_long(note, validation.DESCRIPTION_MAX):
        await message.answer(why)
        return
    code = str((await state.get_data()).get("code"))
    chat = ChatRef(bot.platform, message.chat.id)
    try:
        request = await staff.reopen(deps.desk, code, note, chat=chat)
    except staff.ReopenRefused as exc:
        await state.clear()
        await message.answer(texts.REOPEN_REFUSED[exc.reason], reply_markup=keyboards.main_menu())
        return
    except DeskError:
        await state.clear()
        await message.answer(texts.NOT_YOUR_REQUEST, reply_markup=keyboards.main_menu())
        return
    deps.wake_delivery()
    await state.clear()
    unit = deps.rules.units[request.unit].name if request.unit else ""
    await message.answer(
        ui.fmt(texts.REOPENED, code=to_persian_digits(code), unit=unit),
        reply_markup=keyboards.main_menu(),
    )


async def malformed_button(query: CallbackQuery) -> None:
    """A follow-up button whose data does not unpack (forged): stop the spinner, nothing else."""
    await query.answer()


def flow() -> Flow:
    """A citizen's follow-ups (private chats): answering a question, rating, reopening."""
    router = private_router("followup")
    router.callback_query.register(reply_button, ClarifyData.filter())
    router.message.register(clarification, Clarify.text)
    router.message.register(reply_to_question, StateFilter(None), F.reply_to_message)
    router.callback_query.register(rating, RateData.filter(F.score.in_({1, 2, 3, 4, 5})))
    router.callback_query.register(reopen_button, ReopenData.filter())
    router.message.register(reopen_note, Reopen.note)
    router.callback_query.register(malformed_button, F.data.regexp(r"^(cl|rt|ro):"))
    return Flow(router, {Clarify.text: ask_clarification, Reopen.note: ask_reopen_note})
