"""Staff in their units' group chats: card buttons, answering by reply, questions, transfers.

Only a configured unit chat reaches these handlers (`StaffChat`, the router's filter, which
hands each handler `unit` and `staff_chat`); in it, only staff act: the
group's administrators and the members they granted (`bot.runtime.people.staff_or_notice`,
deciding with
`desk.people.Roster`). Anyone else's press or reply changes nothing and gets a short notice. The
desk checks that the request belongs to that chat's unit, so a press or a reply from anywhere
else changes nothing either.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.filters import BaseFilter, Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User

from bot.conversations.common import attachment_of, name_of, too_long
from bot.deps import Deps
from bot.runtime.people import staff_or_notice
from bot.runtime.platforms import PlatformBot, Renderer, plain
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import CardData, CloseConfirmData, CloseData, SkipReasonData, TransferData
from desk import regulations, staff, tracking, validation
from desk.model import Actor, ChatRef, DraftFile, Status
from desk.routing import Unit
from desk.services import ChangedMeanwhile, DeskError
from desk.text import normalize, to_persian_digits

log = logging.getLogger(__name__)


class StaffChat(BaseFilter):
    """Passes group messages and presses from a configured unit chat; injects `unit`."""

    async def __call__(
        self, event: Message | CallbackQuery, bot: PlatformBot, deps: Deps
    ) -> bool | dict[str, Any]:
        """Check the chat against routing_rules.yaml."""
        message = event.message if isinstance(event, CallbackQuery) else event
        if not isinstance(message, Message) or message.chat.type not in ("group", "supergroup"):
            return False
        unit = deps.rules.unit_for_chat(bot.platform, message.chat.id)
        if unit is None:
            if message.chat.id in deps.rules.admins.get(bot.platform, ()):
                return False  # the admins' chat, served by bot/handlers/admin.py and its publish
            log.info(
                "message from unknown group chat %s:%s (add it to routing_rules.yaml to use it)",
                bot.platform.value,
                message.chat.id,
            )
            return False
        return {"unit": unit, "staff_chat": ChatRef(bot.platform, message.chat.id)}


class StaffAsk(StatesGroup):
    """Waiting for the question a staff member wants to ask the citizen."""

    question = State()


class StaffTransfer(StatesGroup):
    """Waiting for the reason of a transfer."""

    reason = State()


def actor_of(user: User | None, bot: PlatformBot) -> Actor:
    """Who acts, for the audit trail."""
    if user is None:
        return Actor(bot.platform, 0, "")
    return Actor(bot.platform, user.id, name_of(user))


def _refusal(error: DeskError) -> str:
    """Why a staff action changed nothing, in the bot's own words only (no value anyone typed):
    shown as a press's pop-up notice or as a short message."""
    if isinstance(error, staff.NotYourRequest):
        return texts.STAFF_NOT_YOURS
    if isinstance(error, staff.WrongStatus):
        return texts.STAFF_WRONG_STATUS.format(status=texts.STAFF_STATUS_NAMES[error.status])
    if isinstance(error, staff.NotOwner):
        return texts.STAFF_NO_OWNER
    if isinstance(error, ChangedMeanwhile):  # two staff at the same moment: say what it is now
        name = texts.STAFF_STATUS_NAMES.get(Status(error.status), error.status)
        return plain(texts.STAFF_CHANGED_MEANWHILE, status=name.split(" — ")[0])
    return texts.ACTION_DONE_ALREADY


async def _refuse(query: CallbackQuery, error: DeskError, staff_chat: ChatRef) -> None:
    log.warning(
        "staff action refused in %s:%s by user %s: %s",
        staff_chat.platform.value,
        staff_chat.chat_id,
        query.from_user.id,
        type(error).__name__,
    )
    await query.answer(_refusal(error), show_alert=True)


async def card_button(
    query: CallbackQuery,
    callback_data: CardData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """A button on a card: claim, open the transfer or close menus, ask, back."""
    action, code = callback_data.action, callback_data.code
    message = query.message
    if not isinstance(message, Message):
        await query.answer(texts.ACTION_DONE_ALREADY)
        return
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return
    actor = person.actor
    try:
        request = await staff.unit_request(deps.desk, code, chat=staff_chat)
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return
    if action == "claim":
        try:
            await staff.claim(deps.desk, code, chat=staff_chat, actor=actor)
        except DeskError as exc:
            await _refuse(query, exc, staff_chat)
            return
        deps.wake_delivery()
        shown = to_persian_digits(code)
        await query.answer(plain(texts.STAFF_DONE_CLAIM, who=actor.name, code=shown))  # a pop-up
    elif action == "transfer":
        units = [(u.key, u.name) for u in deps.rules.units.values() if u.key != request.unit]
        await query.answer()
        await message.edit_reply_markup(reply_markup=keyboards.transfer_targets(code, units))
    elif action == "close":
        await query.answer()
        await message.edit_reply_markup(reply_markup=keyboards.close_reasons(code))
    elif action == "back":
        await query.answer()
        claimed = request.claimed_by is not None
        markup = keyboards.card_actions(code, claimed=claimed, reachable=request.chat is not None)
        await message.edit_reply_markup(reply_markup=markup)
    elif action == "ask":
        if request.chat is None:
            await query.answer(texts.STAFF_NO_OWNER, show_alert=True)
            return
        await state.set_state(StaffAsk.question)
        await state.update_data(code=code)
        await query.answer()
        await message.reply(
            ui.fmt(texts.STAFF_ASK_QUESTION, who=actor.name or texts.STAFF_COLLEAGUE)
        )
    else:
        await query.answer(texts.ACTION_DONE_ALREADY)


async def transfer_target(
    query: CallbackQuery,
    callback_data: TransferData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """A unit picked for a transfer: now the reason."""
    code, unit_key = callback_data.code, callback_data.unit
    message = query.message
    if not isinstance(message, Message) or unit_key not in deps.rules.units:
        await query.answer(texts.ACTION_DONE_ALREADY)
        return
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return
    try:
        await staff.unit_request(deps.desk, code, chat=staff_chat)
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return
    await state.set_state(StaffTransfer.reason)
    await state.update_data(code=code, unit=unit_key)
    await query.answer()
    who = person.actor.name or texts.STAFF_COLLEAGUE
    await message.reply(
        ui.fmt(
            texts.STAFF_ASK_TRANSFER_REASON,
            who=who,
            unit=deps.rules.units[unit_key].name,
            skip=texts.BTN_NO_REASON,
        ),
        reply_markup=keyboards.no_reason(code),
    )


async def _transfer(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    actor: Actor,
    staff_chat: ChatRef,
    reason: str | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    code, unit_key = str(data.get("code")), str(data.get("unit"))
    try:
        await staff.transfer(deps.desk, code, unit_key, chat=staff_chat, actor=actor, reason=reason)
    except DeskError as exc:
        await message.answer(_refusal(exc))
        return
    deps.wake_delivery()
    await message.answer(
        ui.fmt(
            texts.STAFF_DONE_TRANSFER,
            code=to_persian_digits(code),
            who=actor.name,
            unit=deps.rules.units[unit_key].name,
        )
    )


async def transfer_without_reason(
    query: CallbackQuery,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """«بدون توضیح»: transfer now."""
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        await state.clear()
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _transfer(query.message, state, deps, ui, person.actor, staff_chat, None)


async def close_reason(
    query: CallbackQuery,
    callback_data: CloseData,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """A close reason picked (an unknown one does not unpack): ask once more, showing the
    sentence the citizen will read; the card gets its buttons back meanwhile."""
    code, reason = callback_data.code, callback_data.reason
    message = query.message
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return
    try:
        request = await staff.unit_request(deps.desk, code, chat=staff_chat)
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return
    await query.answer()
    if not isinstance(message, Message):
        return
    claimed, reachable = request.claimed_by is not None, request.chat is not None
    markup = keyboards.card_actions(code, claimed=claimed, reachable=reachable)
    await message.edit_reply_markup(reply_markup=markup)
    who = person.actor.name or texts.STAFF_COLLEAGUE
    await message.reply(
        render.close_preview(ui, request, deps.rules, reason.value, who),
        reply_markup=keyboards.close_confirm(code, reason),
    )


async def close_confirmed(
    query: CallbackQuery,
    callback_data: CloseConfirmData,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """«بله، بسته شود»: close; «بازگشت»: keep it open. Either way the question loses its
    buttons, so it cannot be pressed twice."""
    code, reason = callback_data.code, callback_data.reason
    message = query.message
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return
    shown = to_persian_digits(code)
    if not callback_data.go:
        await query.answer()
        if isinstance(message, Message):
            await message.edit_text(ui.fmt(texts.STAFF_CLOSE_KEPT, code=shown))
        return
    try:
        await staff.close(deps.desk, code, reason, chat=staff_chat, actor=person.actor)
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return
    deps.wake_delivery()
    await query.answer()
    if isinstance(message, Message):
        await message.edit_text(
            ui.fmt(texts.STAFF_DONE_CLOSE, code=shown, reason=texts.CLOSE_REASONS[reason.value])
        )


async def staff_cancel(message: Message, state: FSMContext) -> None:
    """Drop a half-done staff action."""
    if await state.get_state() is not None:
        await state.clear()
        await message.reply(texts.STAFF_CANCELLED)


async def transfer_reason(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """The reason for a transfer, typed by the member who picked the unit."""
    person = await staff_or_notice(message, staff_chat, deps)
    if person is None:  # no longer staff since the press
        await state.clear()
        return
    reason = normalize(message.text or message.caption or "", digits=False) or None
    if reason and (why := too_long(reason, validation.STAFF_NOTE_MAX, texts.STAFF_NOTE_TOO_LONG)):
        await message.reply(why)  # the state stays: a shorter reason still transfers
        return
    await _transfer(message, state, deps, ui, person.actor, staff_chat, reason)


async def question_for_citizen(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """The question a staff member asks the citizen."""
    person = await staff_or_notice(message, staff_chat, deps)
    if person is None:  # no longer staff since the press
        await state.clear()
        return
    question = normalize(message.text or message.caption or "", digits=False)
    if not question:
        await message.reply(texts.STAFF_EMPTY_ANSWER)
        return
    if why := too_long(question, validation.STAFF_TEXT_MAX, texts.STAFF_TEXT_TOO_LONG):
        await message.reply(why)
        return
    code = str((await state.get_data()).get("code"))
    await state.clear()
    try:
        await staff.ask(deps.desk, code, question, chat=staff_chat, actor=person.actor)
    except DeskError as exc:
        await message.reply(_refusal(exc))
        return
    deps.wake_delivery()
    await message.reply(ui.fmt(texts.STAFF_DONE_ASK, code=to_persian_digits(code)))


async def reply_in_thread(
    message: Message,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
    unit: Unit,
) -> None:
    """A reply to a card or any later message of its thread is the answer to the citizen."""
    replied = message.reply_to_message
    assert replied is not None
    link = await deps.links.linked(staff_chat.platform, staff_chat.chat_id, replied.message_id)
    if link is None:
        link = _card_without_link(replied, bot)
    if link is None:
        return  # a conversation among staff, not an answer
    person = await staff_or_notice(message, staff_chat, deps)
    if person is None:
        return
    code, role = link
    if role == "digest":
        await _publish_final(message, deps, ui, bot, int(code[1:]), person.actor)
        return
    text = normalize(message.text or message.caption or "", digits=False)
    attachment = attachment_of(message)
    if not text and attachment is None:
        await message.reply(texts.STAFF_EMPTY_ANSWER)
        return
    if not text and message.voice is not None:  # the citizen reads that the answer is a voice
        text = texts.VOICE_ANSWER
    if why := too_long(text, validation.STAFF_TEXT_MAX, texts.STAFF_TEXT_TOO_LONG):
        await message.reply(why)
        return
    try:
        answered = await staff.answer(
            deps.desk,
            code,
            text,
            chat=staff_chat,
            actor=person.actor,
            attachments=[attachment] if attachment else [],
        )
    except DeskError as exc:
        log.warning(
            "answer refused in %s:%s (unit %s): %s",
            staff_chat.platform.value,
            staff_chat.chat_id,
            unit.key,
            type(exc).__name__,
        )
        await message.reply(_refusal(exc))
        return
    deps.wake_delivery()
    done = texts.STAFF_DONE_ANSWER if answered.chat is not None else texts.STAFF_DONE_ANSWER_NOBODY
    await message.reply(ui.fmt(done, code=to_persian_digits(code)))


def _card_without_link(replied: Message, bot: PlatformBot) -> tuple[str, str] | None:
    """A card of this bot whose link was never stored (the bot was killed between the send
    and the record; the card was then sent again): its tracking code is on it. Only the
    bot's own messages count; the unit check in the desk still applies."""
    if replied.from_user is None or replied.from_user.id != bot.id:
        return None
    code = tracking.find_in(replied.text or replied.caption or "")
    return (code, "card") if code else None


async def _publish_final(
    message: Message, deps: Deps, ui: Renderer, bot: PlatformBot, draft_id: int, actor: Actor
) -> None:
    """A reply to a draft's digest with the final file and a note publishes the outcome."""
    note = normalize(message.caption or message.text or "", digits=False)
    document = message.document
    if not note:
        await message.reply(texts.DRAFT_FINAL_NEEDS_NOTE)
        return
    if why := too_long(note, validation.STAFF_NOTE_MAX, texts.STAFF_NOTE_TOO_LONG):
        await message.reply(why)
        return
    final = None
    if document is not None:
        data = await bot.download(document.file_id)
        if data is None:  # pragma: no cover - download without a destination returns BytesIO
            return
        final = DraftFile(
            document.file_name or "final", data.read(), document.mime_type or "application/pdf"
        )
    who = actor.label
    try:
        draft, told = await regulations.finalize(
            deps.desk, draft_id, note=note, final=final, by=who
        )
    except regulations.DraftError as exc:
        await message.reply(texts.ADMIN_DRAFT_ERROR.get(exc.reason, texts.ACTION_DONE_ALREADY))
        return
    deps.wake_delivery()
    await message.reply(
        ui.fmt(texts.DRAFT_FINAL_DONE, title=draft.title, count=to_persian_digits(told))
    )


def router() -> Router:
    """The units' staff groups: `StaffChat` set once on the router, for messages and presses."""
    router = Router(name="staff")
    router.message.filter(StaffChat())
    router.callback_query.filter(StaffChat())
    router.callback_query.register(card_button, CardData.filter())
    router.callback_query.register(transfer_target, TransferData.filter())
    router.callback_query.register(
        transfer_without_reason, SkipReasonData.filter(), StaffTransfer.reason
    )
    router.callback_query.register(close_reason, CloseData.filter())
    router.callback_query.register(close_confirmed, CloseConfirmData.filter())
    router.message.register(staff_cancel, Command("cancel"))
    router.message.register(transfer_reason, StaffTransfer.reason)
    router.message.register(question_for_citizen, StaffAsk.question)
    router.message.register(reply_in_thread, F.reply_to_message)
    return router
