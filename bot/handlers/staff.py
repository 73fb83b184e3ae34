"""Staff in their units' group chats: card buttons, answering by reply, questions, transfers,
the unit's ready answers (`/templates`, «پاسخ آماده») and `/find`.

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
import re
from typing import Any

from aiogram import F, Router
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User

from bot.conversations.common import attachment_of, name_of, too_long
from bot.deps import Deps
from bot.runtime.people import staff_or_notice
from bot.runtime.platforms import PlatformBot, Raw, Renderer, plain
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import (
    CardAgainData,
    CardData,
    CloseConfirmData,
    CloseData,
    SkipReasonData,
    TemplateData,
    TemplateSendData,
    TransferData,
    digest,
)
from desk import regulations, staff, tracking, validation
from desk.model import Action, Actor, AttachmentKind, ChatRef, DraftFile, Request, Status, allows
from desk.people import Person
from desk.routing import Template, Unit
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


# the link of a ready answer shown for a request (`message_links.role`): a reply to it is an
# answer, as a reply to any message of the thread is
TEMPLATE_ROLE = "template"


class StaffAsk(StatesGroup):
    """Waiting for the question a staff member wants to ask the citizen."""

    question = State()


class StaffTransfer(StatesGroup):
    """Waiting for the reason of a transfer."""

    reason = State()


async def _leave_half_done(state: FSMContext) -> None:
    """Another button pressed: the member changed their mind, so the question or the transfer
    reason they were about to write is no longer awaited (their next message is not taken
    for it). The state is the presser's own in this chat; a colleague's stays."""
    if await state.get_state() in (StaffAsk.question.state, StaffTransfer.reason.state):
        await state.clear()


class AwaitedInput(BaseFilter):
    """Passes a message a half-done action waits for (the question after «درخواست توضیح», a
    transfer's reason): a plain message, or a reply to anything but another thread. A reply to
    another request's card or message, or to a ready answer shown (an edited answer, as
    STAFF_TEMPLATE_SHOWN says), fails here and reaches `reply_in_thread`: it answers that
    request, and words meant for one citizen never go to another as a question."""

    async def __call__(
        self, message: Message, state: FSMContext, deps: Deps, bot: PlatformBot, staff_chat: ChatRef
    ) -> bool:
        """Compare the replied message's thread with the request the state is for."""
        link = await _thread_link(message, deps, bot, staff_chat)
        if link is None:
            return True
        code, role = link
        return role != TEMPLATE_ROLE and code == (await state.get_data()).get("code")


def _card_markup(request: Request, unit: Unit) -> InlineKeyboardMarkup:
    """The buttons of an open card, as the delivery worker draws them."""
    return keyboards.card_actions(
        request.code, claimed=request.claimed_by is not None,
        reachable=request.chat is not None, templates=bool(unit.templates),
    )  # fmt: skip


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
    unit: Unit,
) -> None:
    """A button on a card: claim, open the transfer or close menus, ask, ready answers, back."""
    action, code = callback_data.action, callback_data.code
    message = query.message
    if not isinstance(message, Message):
        await query.answer(texts.ACTION_DONE_ALREADY)
        return
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return
    actor = person.actor
    if action != "ask":
        await _leave_half_done(state)
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
        await message.edit_reply_markup(reply_markup=_card_markup(request, unit))
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
    elif action == "templates":
        if not allows(request.status, Action.ANSWER):
            await _refuse(query, staff.WrongStatus(request.status), staff_chat)
            return
        await query.answer()
        await _offer_templates(message, ui, unit, request, actor)
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
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
    unit: Unit,
) -> None:
    """A close reason picked (an unknown one does not unpack): ask once more, showing the
    sentence the citizen will read; the card gets its buttons back meanwhile."""
    await _leave_half_done(state)
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
    await message.edit_reply_markup(reply_markup=_card_markup(request, unit))
    who = person.actor.name or texts.STAFF_COLLEAGUE
    await message.reply(
        render.close_preview(ui, request, deps.rules, reason.value, who),
        reply_markup=keyboards.close_confirm(code, reason),
    )


async def close_confirmed(
    query: CallbackQuery,
    callback_data: CloseConfirmData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
    staff_chat: ChatRef,
) -> None:
    """«بله، بسته شود»: close; «بازگشت»: keep it open. Either way the question loses its
    buttons, so it cannot be pressed twice."""
    await _leave_half_done(state)
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
    attachment = attachment_of(message)
    if not question and attachment is None:
        await message.reply(texts.STAFF_EMPTY_QUESTION)  # the state stays: a question still asks
        return
    if not question and attachment is not None:  # asked by voice (or a photo): the citizen reads so
        if attachment.kind is AttachmentKind.VOICE:
            question = texts.VOICE_QUESTION
        else:
            question = texts.FILE_QUESTION.format(what=texts.ATTACHMENT_NAMES[attachment.kind])
    if why := too_long(question, validation.STAFF_TEXT_MAX, texts.STAFF_TEXT_TOO_LONG):
        await message.reply(why)
        return
    code = str((await state.get_data()).get("code"))
    await state.clear()
    try:
        await staff.ask(
            deps.desk, code, question, chat=staff_chat, actor=person.actor,
            attachments=[attachment] if attachment else [],
        )  # fmt: skip
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
    link = await _thread_link(message, deps, bot, staff_chat)
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
    if not text and attachment is not None:  # the citizen reads what the answer is
        if attachment.kind is AttachmentKind.VOICE:
            text = texts.VOICE_ANSWER
        else:
            text = texts.FILE_ANSWER.format(what=texts.ATTACHMENT_NAMES[attachment.kind])
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
    await _drop_send_button(replied, role, bot)
    await message.reply(ui.fmt(_answer_done(answered), code=to_persian_digits(code)))


# --- ready answers: /templates, «پاسخ آماده» -------------------------------------------------


async def _thread_code(message: Message, deps: Deps, bot: PlatformBot, chat: ChatRef) -> str | None:
    """The request whose thread the message replies to (a card, a later message of it), or
    None: not a reply, a reply to staff talk, or to a draft's digest."""
    link = await _thread_link(message, deps, bot, chat)
    if link is None or link[1] == "digest":
        return None
    return link[0]


async def _thread_link(
    message: Message, deps: Deps, bot: PlatformBot, chat: ChatRef
) -> tuple[str, str] | None:
    """The thread a message replies to, as (code, role) of the replied message's link (a card,
    a later message of its thread, a ready answer shown, a draft's digest), or None: not a
    reply, or a reply to anything else (staff talk, the bot's other words)."""
    replied = message.reply_to_message
    if replied is None:
        return None
    link = await deps.links.linked(chat.platform, chat.chat_id, replied.message_id)
    return link if link is not None else _card_without_link(replied, bot)


async def _offer_templates(
    message: Message, ui: Renderer, unit: Unit, request: Request, actor: Actor
) -> None:
    """The unit's ready answers for a request as buttons, replying to `message`."""
    if not unit.templates:
        await message.reply(texts.STAFF_TEMPLATES_NONE)
        return
    who = actor.name or texts.STAFF_COLLEAGUE
    await message.reply(
        ui.fmt(texts.STAFF_TEMPLATES_PICK, who=who, code=to_persian_digits(request.code)),
        reply_markup=keyboards.template_titles(request.code, [t.title for t in unit.templates]),
    )


async def templates_command(
    message: Message, deps: Deps, ui: Renderer, bot: PlatformBot, staff_chat: ChatRef, unit: Unit
) -> None:
    """`/templates` replying to a card (or its thread): the unit's ready answers for that
    request; without a reply, how to use them and their titles."""
    person = await staff_or_notice(message, staff_chat, deps)
    if person is None:
        return
    code = await _thread_code(message, deps, bot, staff_chat)
    if code is None:
        if not unit.templates:
            await message.reply(texts.STAFF_TEMPLATES_NONE)
            return
        lines = [ui.fmt(texts.STAFF_TEMPLATES_LINE, title=t.title) for t in unit.templates]
        how = ui.fmt(
            texts.STAFF_TEMPLATES_HOW,
            command=Raw(ui.code("/templates")),
            button=texts.BTN_TEMPLATES,
            titles=Raw("\n".join(lines)),
        )
        await message.reply(how)
        return
    try:
        request = await staff.unit_request(deps.desk, code, chat=staff_chat)
        if not allows(request.status, Action.ANSWER):
            raise staff.WrongStatus(request.status)
    except DeskError as exc:
        await message.reply(_refusal(exc))
        return
    await _offer_templates(message, ui, unit, request, person.actor)


async def _template_for(
    query: CallbackQuery,
    deps: Deps,
    staff_chat: ChatRef,
    unit: Unit,
    code: str,
    index: int,
    text: str | None = None,
) -> tuple[Person, Request, Template] | None:
    """Who presses, the request and the ready answer a template button names, or None once the
    press is answered with why nothing happens (not staff, another unit's request, a status
    that takes no answer, a template no longer in the rules).
    With `text` (the `digest` of the text shown), only that text: at its place, or wherever it
    is now in the list (the operator reordered the templates and restarted); reworded or
    removed, it is gone."""
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return None
    try:
        request = await staff.unit_request(deps.desk, code, chat=staff_chat)
        if not allows(request.status, Action.ANSWER):
            raise staff.WrongStatus(request.status)
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return None
    places = [index, *range(len(unit.templates))] if text is not None else [index]
    for place in places:
        if place < len(unit.templates):
            template = unit.templates[place]
            if text is None or digest(template.text) == text:
                return person, request, template
    await query.answer(texts.STAFF_TEMPLATE_GONE, show_alert=True)
    return None


def _answer_now(request: Request) -> str:
    """The request's answer as «ارسال همین متن» remembers it when shown: when and what (empty
    before any). Any answer that goes out after (typed, edited, another ready answer) makes
    it another."""
    if request.answered_at is None:
        return ""
    return f"{request.answered_at.isoformat()}\n{request.answer or ''}"


async def template_picked(
    query: CallbackQuery,
    callback_data: TemplateData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    staff_chat: ChatRef,
    unit: Unit,
) -> None:
    """A ready answer picked: its text is shown, to send as it is or to reply to, edited."""
    await _leave_half_done(state)
    code, index = callback_data.code, callback_data.index
    picked = await _template_for(query, deps, staff_chat, unit, code, index)
    if picked is None:
        return
    _, request, template = picked
    await query.answer()
    if not isinstance(query.message, Message):
        return
    text = ui.fmt(
        texts.STAFF_TEMPLATE_SHOWN,
        title=template.title,
        code=to_persian_digits(code),
        send=texts.BTN_SEND_TEMPLATE,
        text=template.text,
    )
    markup = keyboards.template_send(code, index, template.text, _answer_now(request))
    shown = await query.message.reply(text, reply_markup=markup)
    # a reply to it answers the request, as a reply to the card would
    await deps.links.link(
        staff_chat.platform, staff_chat.chat_id, shown.message_id, code, TEMPLATE_ROLE,
        deps.clock.now(),
    )  # fmt: skip


async def template_send(
    query: CallbackQuery,
    callback_data: TemplateSendData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    staff_chat: ChatRef,
    unit: Unit,
) -> None:
    """«ارسال همین متن»: the ready answer shown goes to the citizen as a typed answer would;
    not another text (the rules changed since it was shown), and not once another answer went
    out after it was shown (that answer stays the answer; the button goes)."""
    await _leave_half_done(state)
    code, index = callback_data.code, callback_data.index
    picked = await _template_for(query, deps, staff_chat, unit, code, index, callback_data.text)
    if picked is None:
        return
    person, request, template = picked
    if request.status is Status.ANSWERED and request.answer == template.text:
        await query.answer(texts.ACTION_DONE_ALREADY, show_alert=True)  # pressed twice
        return
    if digest(_answer_now(request)) != callback_data.answer:
        await query.answer(texts.STAFF_TEMPLATE_ANSWERED_SINCE, show_alert=True)
        if isinstance(query.message, Message):
            try:  # it can never send now
                await query.message.edit_reply_markup(reply_markup=None)
            except Exception as exc:  # nothing was sent; a button left behind is only untidy
                log.warning("could not remove a ready answer's button: %s", type(exc).__name__)
        return
    try:
        answered = await staff.answer(
            deps.desk, code, template.text, chat=staff_chat, actor=person.actor
        )
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return
    deps.wake_delivery()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.reply(ui.fmt(_answer_done(answered), code=to_persian_digits(code)))


def _answer_done(answered: Request) -> str:
    return texts.STAFF_DONE_ANSWER if answered.chat is not None else texts.STAFF_DONE_ANSWER_NOBODY


async def _drop_send_button(replied: Message, role: str, bot: PlatformBot) -> None:
    """After an edited ready answer went out as a reply to it, its «ارسال همین متن» goes, so
    the unedited text cannot follow by a later press. The message is known by its link (or,
    were the link lost, by the button the platform shows on it)."""
    markup = replied.reply_markup
    data = [b.callback_data or "" for row in markup.inline_keyboard for b in row] if markup else []
    has_button = any(d.startswith(f"{TemplateSendData.__prefix__}:") for d in data)
    if role != TEMPLATE_ROLE and not has_button:
        return
    try:
        await bot.edit_message_reply_markup(
            chat_id=replied.chat.id, message_id=replied.message_id, reply_markup=None
        )
    except Exception as exc:  # the answer went out; a button left behind is only untidy
        log.warning("could not remove a ready answer's button: %s", type(exc).__name__)


# --- /find: the unit's own requests --------------------------------------------------------------


async def find_command(
    message: Message,
    command: CommandObject,
    deps: Deps,
    ui: Renderer,
    staff_chat: ChatRef,
    unit: Unit,
) -> None:
    """`/find <code, name or phone>`: a short list of the unit's own matching requests; the
    text searched is never logged (it may be a phone number)."""
    person = await staff_or_notice(message, staff_chat, deps)
    if person is None:
        return
    search = staff.search_terms(command.args or "")
    if search is None:
        how = ui.fmt(
            texts.STAFF_FIND_HOW,
            command=Raw(ui.code("/find")),
            example=Raw(ui.code(texts.STAFF_FIND_EXAMPLE)),
        )
        await message.reply(how)
        return
    try:
        found = await staff.find(deps.desk, search, chat=staff_chat)
    except DeskError as exc:  # pragma: no cover - StaffChat lets only units' chats in
        await message.reply(_refusal(exc))
        return
    log.info("find in %s:%s (unit %s): %d found%s", staff_chat.platform.value,
             staff_chat.chat_id, unit.key, len(found.requests),
             " and more" if found.more else "")  # fmt: skip
    if not found.requests:
        await message.reply(texts.STAFF_FIND_NONE)
        return
    now = deps.clock.now()
    lines = [texts.STAFF_FIND_TITLE]
    for request in found.requests:
        status = texts.STAFF_STATUS_NAMES[request.status].split(" — ")[0]
        if request.is_overdue(now):
            status += f"، {texts.CARD_OVERDUE}"
        lines.append(
            ui.fmt(
                texts.STAFF_FIND_LINE,
                code=Raw(ui.code(to_persian_digits(request.code))),
                status=status,
                date=render.jalali(request.created_at, with_time=False),
                name=request.contact.name or texts.CARD_ANONYMOUS,
            )
        )
    if found.more:
        lines += ["", ui.fmt(texts.STAFF_FIND_MORE, limit=to_persian_digits(staff.FIND_LIMIT))]
    markup = None
    if len(found.requests) == 1:
        lines += ["", ui.fmt(texts.STAFF_FIND_ONE, button=texts.BTN_CARD_AGAIN)]
        markup = keyboards.card_again(found.requests[0].code)
    else:
        lines += ["", ui.fmt(texts.STAFF_FIND_MANY, command=Raw(ui.code("/find")))]
    await message.reply("\n".join(lines), reply_markup=markup)


async def card_again(
    query: CallbackQuery,
    callback_data: CardAgainData,
    state: FSMContext,
    deps: Deps,
    staff_chat: ChatRef,
) -> None:
    """«نمایش دوباره کارت»: the request's card is posted again at the bottom of the group."""
    await _leave_half_done(state)
    person = await staff_or_notice(query, staff_chat, deps)
    if person is None:
        return
    code = callback_data.code
    try:
        await staff.post_card_again(deps.desk, code, chat=staff_chat)
    except DeskError as exc:
        await _refuse(query, exc, staff_chat)
        return
    deps.wake_delivery()
    await query.answer(plain(texts.STAFF_CARD_AGAIN_DONE, code=to_persian_digits(code)))


# a card's first line, «{kind} | کد رهگیری {code}» (texts.CARD): what tells a card from the bot's
# other messages that name a code (a /find list, «کدام پاسخ آماده برای درخواست …», «پاسخ
# درخواست … فرستاده شد»)
_CARD_HEAD = re.compile(
    re.escape(texts.CARD.split("\n", 1)[0])
    .replace(re.escape("{kind}"), "[^\n|]+")
    .replace(re.escape("{code}"), "(\\S+)")
)


def _card_without_link(replied: Message, bot: PlatformBot) -> tuple[str, str] | None:
    """A card of this bot whose link was never stored (the bot was killed between the send
    and the record; the card was then sent again): its tracking code is in its head line.
    Only the bot's own messages count, and of them only a card; the unit check in the desk
    still applies."""
    if replied.from_user is None or replied.from_user.id != bot.id:
        return None
    first_line = (replied.text or replied.caption or "").split("\n", 1)[0].strip()
    head = _CARD_HEAD.fullmatch(first_line)
    code = tracking.find_in(head.group(1)) if head else None
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
    router.callback_query.register(template_picked, TemplateData.filter())
    router.callback_query.register(template_send, TemplateSendData.filter())
    router.callback_query.register(card_again, CardAgainData.filter())
    router.message.register(staff_cancel, Command("cancel"))
    # before the states and the replies: `/templates` replying to a card is not its answer
    router.message.register(templates_command, Command("templates"))
    router.message.register(find_command, Command("find"))
    # a reply answering another thread is no question or reason (AwaitedInput): a reply below
    router.message.register(transfer_reason, StaffTransfer.reason, AwaitedInput())
    router.message.register(question_for_citizen, StaffAsk.question, AwaitedInput())
    router.message.register(reply_in_thread, F.reply_to_message)
    return router
