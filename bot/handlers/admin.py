"""Admins in their chats (routing_rules.yaml `admins`): publish, list, close and finalise drafts;
reports (/report) and the list of overdue requests (/overdue).

Only a configured admin chat reaches these handlers (`AdminChat`), and only a group: a private
chat listed under `admins` is ignored (logged once). In it only staff act, as in a unit's group:
the chat's administrators and the members they granted (`/staff`); anyone else's command or press
gets a short notice and changes nothing (`outsider_command`, `outsider_press`). Anything there
that is not one of the commands below, or a step of an admin's own /publish, is left alone.
The /publish conversation keeps the document's file id in FSM data, not its bytes: the file is
fetched from the messenger when the admin confirms, so a 20 MB draft never sits in the
conversation storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import re
from datetime import timedelta
from io import BytesIO
from typing import Any

from aiogram import F
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import BaseFilter, Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Document,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import ClientError

from bot.conversations.common import error_text, too_long
from bot.deps import Deps
from bot.handlers.staff import actor_of
from bot.runtime.people import staff_or_notice, standing_of
from bot.runtime.platforms import PlatformBot, Raw, Renderer
from bot.runtime.registry import Handlers
from bot.ui import exports, render, report_text, texts
from bot.ui.callbacks import PublishConfirmData, PublishDaysData, PublishUnitData
from bot.ui.render import jalali, unit_name
from desk import regulations, reports, validation
from desk.calendar import end_of_day, local_date
from desk.model import ChatRef, Draft, DraftFile, Platform
from desk.regulations import DraftError
from desk.text import normalize, to_latin_digits, to_persian_digits
from desk.validation import InvalidInput

log = logging.getLogger(__name__)

router = Handlers("admin")

TITLE_MIN, TITLE_MAX = 3, 200
SUMMARY_MIN, SUMMARY_MAX = 10, 3000  # the preview (card, file name, footer) fits a message
MAX_MESSAGE = 4000
_DAYS = re.compile(r"^(\d{1,3})(?:\s*روز)?$")


_PRIVATE_ADMIN_CHATS_LOGGED: set[tuple[Platform, int]] = set()


def admin_group(message: Message, platform: Platform, deps: Deps) -> ChatRef | None:
    """The admin chat this message is in: listed under `admins` and a group. A private chat
    listed there is ignored, with one log line the first time it is used."""
    if message.chat.id not in deps.rules.admins.get(platform, frozenset()):
        return None
    if message.chat.type not in ("group", "supergroup"):
        if (platform, message.chat.id) not in _PRIVATE_ADMIN_CHATS_LOGGED:
            _PRIVATE_ADMIN_CHATS_LOGGED.add((platform, message.chat.id))
            log.warning(
                "admin chat %s:%s in routing_rules.yaml is a %s chat, not a group: ignored "
                "(admins act in a group, as its administrators or members they grant)",
                platform.value, message.chat.id, message.chat.type,
            )  # fmt: skip
        return None
    return ChatRef(platform, message.chat.id)


class AdminChat(BaseFilter):
    """Passes messages and presses of staff (the group's administrators and granted members)
    in a group listed under `admins`; injects `admin_chat`. `outsiders=True` passes the others
    instead, to tell them no."""

    def __init__(self, *, outsiders: bool = False) -> None:
        self.outsiders = outsiders

    async def __call__(
        self, event: Message | CallbackQuery, bot: PlatformBot, deps: Deps
    ) -> bool | dict[str, Any]:
        """Check the chat against routing_rules.yaml and the sender against the roster."""
        message = event.message if isinstance(event, CallbackQuery) else event
        if not isinstance(message, Message):
            return False
        chat = admin_group(message, bot.platform, deps)
        if chat is None:
            return False
        staff = (await standing_of(event, chat, deps)).is_staff
        if staff is self.outsiders:
            return False
        return {"admin_chat": chat}


class Publish(StatesGroup):
    """/publish: title, summary, document, owning unit, days, then the preview."""

    title = State()
    summary = State()
    document = State()
    unit = State()
    days = State()
    confirm = State()


# --- helpers -----------------------------------------------------------------------------------


def _inline(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
            for row in rows
        ]
    )


_CANCEL_ROW = [(texts.BTN_CANCEL, PublishConfirmData(answer="no").pack())]


def _free_text(message: Message, minimum: int, maximum: int) -> str:
    """Typed text between the bounds, digits kept as written (titles show Persian digits)."""
    if message.text is None:
        raise InvalidInput("text")
    value = normalize(message.text, digits=False)
    if not value:
        raise InvalidInput("empty")
    if len(value) < minimum:
        raise InvalidInput("too_short", min=minimum)
    if len(value) > maximum:
        raise InvalidInput("too_long", max=maximum, length=len(value))
    return value


def _draft_id(text: str | None) -> int | None:
    """«۳», «3» or «#3» → 3."""
    value = to_latin_digits((text or "").strip()).lstrip("#")
    return int(value) if value.isdecimal() and len(value) < 10 else None


def _command(ui: Renderer, example: str) -> Raw:
    """A command to copy: tap-to-copy on Telegram; on Bale as is, since its look-alike for «_»
    would make the command wrong (one underscore does not start italics)."""
    return Raw(f"<code>{example}</code>" if ui.html else example)


def _file_name(document: Document) -> str:
    if document.file_name:
        return document.file_name
    extension = mimetypes.guess_extension(document.mime_type or "") or ".pdf"
    return f"draft{extension}"


def _too_big(size: int) -> str:
    return texts.ERR_FILE_TOO_BIG.format(
        size=to_persian_digits(f"{size / 1024 / 1024:.1f}"),
        max=to_persian_digits(regulations.MAX_FILE // 1024 // 1024),
    )


class _Unreachable(Exception):
    """The messenger did not answer; the admin may try again in a moment."""


async def _download(bot: PlatformBot, file_id: str) -> bytes | None:
    """The file's bytes, or None when the messenger will not hand it over (too big, gone)."""
    try:
        buffer = await bot.download(file_id)
    except TelegramBadRequest as exc:
        log.warning("draft file %s cannot be fetched: %s", file_id[:16], exc.message)
        return None
    except (TelegramAPIError, ClientError, TimeoutError) as exc:
        log.warning("draft file %s not fetched: %s", file_id[:16], type(exc).__name__)
        raise _Unreachable from exc
    assert isinstance(buffer, BytesIO)
    return buffer.getvalue()


def _preview(ui: Renderer, deps: Deps, data: dict[str, Any]) -> str:
    """The draft exactly as the announcement will show it, with the file and its sections."""
    now = deps.clock.now()
    closes = end_of_day(local_date(now) + timedelta(days=int(data["days"])))
    draft = Draft(str(data["title"]), str(data["summary"]), str(data["unit"]), now, closes)
    return ui.fmt(
        texts.ADMIN_PREVIEW,
        card=Raw(render.draft_card(ui, draft, deps.rules, announce=True)),
        file=str(data["file"]["name"]),
        sections=to_persian_digits(len(draft.sections())),
        confirm=texts.BTN_CONFIRM,
    )


async def _prompt(
    current: str | None, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The question of a /publish step, with its buttons (None for a typed answer)."""
    if current == Publish.title.state:
        return texts.ADMIN_ASK_TITLE, None
    if current == Publish.summary.state:
        return texts.ADMIN_ASK_SUMMARY, None
    if current == Publish.document.state:
        return texts.ADMIN_ASK_FILE, None
    if current == Publish.unit.state:
        rows = [
            [(unit.name, PublishUnitData(unit=unit.key).pack())]
            for unit in deps.rules.units.values()
        ]
        return texts.ADMIN_ASK_UNIT, _inline([*rows, _CANCEL_ROW])
    if current == Publish.days.state:
        default = PublishDaysData(days=regulations.DEFAULT_DAYS).pack()
        return texts.ADMIN_ASK_DAYS, _inline([[(texts.BTN_DAYS_DEFAULT, default)], _CANCEL_ROW])
    data = await state.get_data()
    return _preview(ui, deps, data), _inline(
        [[(texts.BTN_CONFIRM, PublishConfirmData(answer="yes").pack())], _CANCEL_ROW]
    )


async def _ask(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    target: State | None = None,
    error: str | None = None,
) -> None:
    """Move to `target` (or stay) and ask its question, after the reason an answer failed.

    A question answered by typing is sent as a reply to the admin's message with ForceReply on
    Telegram, so the answer reaches the bot even in a group where its privacy mode is on."""
    if target is not None:
        await state.set_state(target)
    text, markup = await _prompt(await state.get_state(), state, deps, ui)
    if error:
        text = f"{error}\n\n{text}"
    from_admin = message.from_user is not None and not message.from_user.is_bot
    if not from_admin:
        await message.answer(text, reply_markup=markup)
        return
    force = ForceReply(selective=True) if ui.platform is Platform.TELEGRAM else None
    await message.reply(text, reply_markup=markup or force)


async def _drop_buttons(message: Message) -> None:
    """Take the buttons off a question that has been answered, so nobody presses them again."""
    with contextlib.suppress(TelegramAPIError):
        await message.edit_reply_markup(reply_markup=None)


# --- commands ----------------------------------------------------------------------------------


@router.message(Command("publish"), AdminChat())
async def publish_start(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Start publishing a draft (a half-done one of the same admin starts over)."""
    await state.clear()
    await _ask(message, state, deps, ui, Publish.title)


@router.message(Command("cancel"), StateFilter(Publish), AdminChat())
async def publish_cancel(message: Message, state: FSMContext) -> None:
    """Drop a half-done /publish."""
    await state.clear()
    await message.reply(texts.ADMIN_CANCELLED)


@router.message(Command("drafts"), AdminChat())
async def drafts_list(message: Message, deps: Deps, ui: Renderer) -> None:
    """Every draft, newest first: status, deadline, number of comments."""
    drafts = await regulations.drafts_with_comments(deps.desk)
    if not drafts:
        await message.reply(texts.ADMIN_NO_DRAFTS)
        return
    lines = [texts.ADMIN_DRAFTS_LIST]
    for draft, comments in drafts:
        lines.append(
            ui.fmt(
                texts.ADMIN_DRAFT_LINE,
                id=to_persian_digits(draft.id or 0),
                title=draft.title,
                status=texts.ADMIN_DRAFT_STATUS[draft.status.value],
                deadline=jalali(draft.closes_at),
                comments=to_persian_digits(comments),
            )
        )
    for chunk in report_text.line_messages(lines, MAX_MESSAGE):
        await message.answer(chunk)


@router.message(Command("close_draft"), AdminChat())
async def close_draft(
    message: Message, command: CommandObject, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Close a comment window now; the owning unit gets its digest."""
    draft_id = _draft_id(command.args)
    if draft_id is None:
        await message.reply(ui.fmt(texts.ADMIN_NEED_ID, example=_command(ui, "/close_draft ۳")))
        return
    try:
        draft = await regulations.close_now(
            deps.desk, draft_id, by=actor_of(message.from_user, bot).label
        )
    except DraftError as exc:
        await message.reply(texts.ADMIN_DRAFT_ERROR.get(exc.reason, texts.ACTION_DONE_ALREADY))
        return
    log.info("draft %s closed early by user %s", draft_id, actor_of(message.from_user, bot).user_id)
    deps.wake_delivery()
    await message.reply(
        ui.fmt(texts.ADMIN_CLOSED, title=draft.title, unit=unit_name(deps.rules, draft.unit))
    )


@router.message(Command("withdraw_draft"), AdminChat())
async def withdraw_draft(
    message: Message, command: CommandObject, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """`/withdraw_draft <id> <reason>`: take a draft back; nobody reads or comments on it any
    more, and everyone who commented is told the reason."""
    parts = (command.args or "").split(maxsplit=1)
    draft_id = _draft_id(parts[0] if parts else None)
    reason = normalize(parts[1], digits=False) if len(parts) > 1 else ""
    if draft_id is None or not reason:
        example = _command(ui, "/withdraw_draft ۳ …")
        await message.reply(ui.fmt(texts.DRAFT_WITHDRAW_NEEDS_REASON, example=example))
        return
    if why := too_long(reason, validation.STAFF_NOTE_MAX, texts.STAFF_NOTE_TOO_LONG):
        await message.reply(why)
        return
    try:
        draft, told = await regulations.withdraw(
            deps.desk, draft_id, reason=reason, by=actor_of(message.from_user, bot).label
        )
    except DraftError as exc:
        await message.reply(texts.ADMIN_DRAFT_ERROR.get(exc.reason, texts.ACTION_DONE_ALREADY))
        return
    log.info("draft %s withdrawn by user %s", draft_id, actor_of(message.from_user, bot).user_id)
    deps.wake_delivery()
    await message.reply(
        ui.fmt(texts.DRAFT_WITHDRAWN_DONE, title=draft.title, count=to_persian_digits(told))
    )


@router.message(Command("final"), AdminChat())
async def finalize(
    message: Message, command: CommandObject, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """`/final <id> <note>` as a document's caption, or replying to one: the final version."""
    parts = (command.args or "").split(maxsplit=1)
    draft_id = _draft_id(parts[0] if parts else None)
    if draft_id is None:
        await message.reply(ui.fmt(texts.ADMIN_NEED_ID, example=_command(ui, "/final ۳ …")))
        return
    note = normalize(parts[1], digits=False) if len(parts) > 1 else ""
    replied = message.reply_to_message
    document = message.document or (replied.document if replied is not None else None)
    if document is None or not note:
        await message.reply(texts.DRAFT_FINAL_NEEDS_NOTE)
        return
    if why := too_long(note, validation.STAFF_NOTE_MAX, texts.STAFF_NOTE_TOO_LONG):
        await message.reply(why)
        return
    try:
        await regulations.get(deps.desk, draft_id)
    except DraftError as exc:
        await message.reply(texts.ADMIN_DRAFT_ERROR.get(exc.reason, texts.ACTION_DONE_ALREADY))
        return
    if document.file_size is not None and document.file_size > regulations.MAX_FILE:
        await message.reply(_too_big(document.file_size))
        return
    try:
        content = await _download(bot, document.file_id)
    except _Unreachable:
        await message.reply(texts.ERR_TRY_AGAIN)
        return
    if not content or len(content) > regulations.MAX_FILE:
        await message.reply(texts.ADMIN_DRAFT_ERROR["file"])
        return
    final = DraftFile(
        _file_name(document), content, document.mime_type or "application/octet-stream"
    )
    try:
        draft, told = await regulations.finalize(
            deps.desk, draft_id, note=note, final=final, by=actor_of(message.from_user, bot).label
        )
    except DraftError as exc:
        await message.reply(texts.ADMIN_DRAFT_ERROR.get(exc.reason, texts.ACTION_DONE_ALREADY))
        return
    deps.wake_delivery()
    await message.reply(
        ui.fmt(texts.DRAFT_FINAL_DONE, title=draft.title, count=to_persian_digits(told))
    )


@router.message(Command("report"), AdminChat())
async def report(message: Message, command: CommandObject, deps: Deps, ui: Renderer) -> None:
    """`/report` (this month), `/report هفته` (this week) or two Jalali dates: the numbers per
    unit and per kind, then a chart of them."""
    now = deps.clock.now()
    try:
        period = reports.parse_period(command.args, now)
    except reports.BadPeriod as exc:
        await message.reply(f"{texts.REPORT_BAD_PERIOD[exc.reason]}\n\n{texts.REPORT_USAGE}")
        return
    result = await reports.gather(deps.uow, period, now)
    blocks = report_text.report_blocks(ui, result, period, deps.rules)
    for chunk in report_text.messages(blocks, MAX_MESSAGE):
        await message.answer(chunk)
    # drawing takes a few hundred milliseconds of CPU: not on the event loop
    png = await asyncio.to_thread(report_text.report_chart, result, period, deps.rules)
    if png is not None:
        caption = ui.fmt(texts.REPORT_CHART_CAPTION, period=report_text.period_text(period))
        await message.answer_photo(BufferedInputFile(png, "report.png"), caption=caption)


async def _card_links(deps: Deps, codes: list[tuple[str, str | None]]) -> dict[str, str]:
    """t.me links to the cards of these (code, unit) pairs in their units' Telegram groups."""
    links: dict[str, str] = {}
    if deps.links is None:
        return links
    for code, unit in codes:
        chat_id = (
            deps.rules.units[unit].chats.get(Platform.TELEGRAM)
            if unit in deps.rules.units
            else None
        )
        if chat_id is None:
            continue
        message_id = await deps.links.card(Platform.TELEGRAM, chat_id, code)
        url = report_text.card_url(chat_id, message_id) if message_id is not None else None
        if url is not None:
            links[code] = url
    return links


@router.message(Command("overdue"), AdminChat())
async def overdue(message: Message, deps: Deps, ui: Renderer) -> None:
    """Every overdue request, the most overdue first: code (a link to its card on Telegram;
    Bale documents no message links), unit, deadline, days late."""
    now = deps.clock.now()
    found = await reports.overdue(deps.uow, now)
    links: dict[str, str] = {}
    if ui.platform is Platform.TELEGRAM:
        links = await _card_links(deps, [(r.code, r.unit) for r in found])
    lines = report_text.overdue_lines(ui, found, deps.rules, now, links)
    for chunk in report_text.messages(lines, MAX_MESSAGE):
        await message.answer(chunk)


@router.message(Command("export"), AdminChat())
async def export(
    message: Message, command: CommandObject, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """`/export 1405-09-01 1405-09-30`: the period's requests, events and survey answers as an
    XLSX file, the same as `python -m bot export` writes."""
    try:
        first, last = exports.parse_period(command.args, max_days=exports.CHAT_MAX_DAYS)
    except exports.PeriodError as exc:
        example = _command(ui, "/export 1405-09-01 1405-09-30")
        problem = {
            "date": ui.fmt(texts.EXPORT_BAD_DATE, value=exc.value),
            "order": texts.EXPORT_BAD_ORDER,
            "long": texts.EXPORT_TOO_LONG.format(days=to_persian_digits(exports.CHAT_MAX_DAYS)),
        }.get(exc.reason)
        usage = ui.fmt(texts.EXPORT_USAGE, example=example)
        await message.reply(f"{problem}\n\n{usage}" if problem else usage)
        return
    content, data = await exports.xlsx_for(deps.uow, deps.rules, first, last)
    if len(content) > exports.CHAT_MAX_BYTES:
        max_mb = exports.CHAT_MAX_BYTES // 1024 // 1024
        await message.reply(texts.EXPORT_TOO_BIG.format(max=to_persian_digits(max_mb)))
        return
    # the file holds citizens' names and phones: who took it is worth a line in the log
    log.info(
        "export %s..%s (%d requests) sent to %s for user %s", exports.jalali_day(first),
        exports.jalali_day(last), len(data.requests), message.chat.id,
        actor_of(message.from_user, bot).user_id,
    )  # fmt: skip
    start, end = exports.period(first, last)
    caption = ui.fmt(
        texts.EXPORT_CAPTION,
        first=jalali(start, with_time=False),
        last=jalali(end - timedelta(seconds=1), with_time=False),
        requests=to_persian_digits(len(data.requests)),
        events=to_persian_digits(len(data.events)),
        surveys=to_persian_digits(len(data.surveys)),
    )
    name = exports.file_stem(first, last) + ".xlsx"
    await message.reply_document(BufferedInputFile(content, filename=name), caption=caption)


# --- /publish steps ----------------------------------------------------------------------------


@router.message(Publish.title, AdminChat())
async def take_title(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The title, as citizens will read it."""
    try:
        title = _free_text(message, TITLE_MIN, TITLE_MAX)
    except InvalidInput as exc:
        await _ask(message, state, deps, ui, error=error_text(ui, exc))
        return
    await state.update_data(title=title)
    await _ask(message, state, deps, ui, Publish.summary)


@router.message(Publish.summary, AdminChat())
async def take_summary(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The summary; blank lines split it into sections citizens comment on."""
    try:
        summary = _free_text(message, SUMMARY_MIN, SUMMARY_MAX)
    except InvalidInput as exc:
        await _ask(message, state, deps, ui, error=error_text(ui, exc))
        return
    await state.update_data(summary=summary)
    await _ask(message, state, deps, ui, Publish.document)


@router.message(Publish.document, AdminChat())
async def take_document(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """The full text as a document of at most 20 MB (only its file id is kept until confirm)."""
    document = message.document
    if document is None or message.animation is not None:
        await _ask(message, state, deps, ui, error=texts.ADMIN_FILE_WANTED)
        return
    size = document.file_size
    if size is None:  # Bale may leave the size out: fetch it once to know
        try:
            content = await _download(bot, document.file_id)
        except _Unreachable:
            await message.reply(texts.ERR_TRY_AGAIN)
            return
        size = len(content) if content is not None else regulations.MAX_FILE + 1
    if size > regulations.MAX_FILE or size == 0:
        await _ask(message, state, deps, ui, error=_too_big(size))
        return
    await state.update_data(
        file={
            "id": document.file_id,
            "name": _file_name(document),
            "mime": document.mime_type or "application/octet-stream",
            "size": size,
        }
    )
    await _ask(message, state, deps, ui, Publish.unit)


@router.callback_query(PublishUnitData.filter(), Publish.unit, AdminChat())
async def take_unit(
    query: CallbackQuery,
    callback_data: PublishUnitData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
) -> None:
    """The owning unit, picked from the buttons."""
    key = callback_data.unit
    message = query.message
    if key not in deps.rules.units or not isinstance(message, Message):
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer(deps.rules.units[key].name[:200])
    await state.update_data(unit=key)
    await _drop_buttons(message)
    await _ask(message, state, deps, ui, Publish.days)


@router.message(Publish.unit, AdminChat())
async def unit_typed(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The unit must be a button: typing one is refused politely."""
    await _ask(message, state, deps, ui, error=texts.ERR_PICK_BUTTON)


@router.callback_query(PublishDaysData.filter(), Publish.days, AdminChat())
async def take_default_days(
    query: CallbackQuery, state: FSMContext, deps: Deps, ui: Renderer
) -> None:
    """«۱۴ روز»."""
    message = query.message
    await query.answer()
    if not isinstance(message, Message):
        return
    await state.update_data(days=regulations.DEFAULT_DAYS)
    await _drop_buttons(message)
    await _ask(message, state, deps, ui, Publish.confirm)


@router.message(Publish.days, AdminChat())
async def take_days(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """A typed number of days, 1 to 90 (Persian digits welcome)."""
    match = _DAYS.match(to_latin_digits(normalize(message.text or "", digits=False)))
    days = int(match.group(1)) if match else 0
    if not 1 <= days <= regulations.MAX_DAYS:
        await _ask(message, state, deps, ui, error=texts.ADMIN_BAD_DAYS)
        return
    await state.update_data(days=days)
    await _ask(message, state, deps, ui, Publish.confirm)


@router.message(Publish.confirm, AdminChat())
async def confirm_typed(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The preview is answered with its buttons."""
    await _ask(message, state, deps, ui, error=texts.ERR_PICK_BUTTON)


@router.callback_query(PublishConfirmData.filter(F.answer == "yes"), Publish.confirm, AdminChat())
async def confirm(
    query: CallbackQuery, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Fetch the document, publish, and say until when comments are open."""
    message = query.message
    await query.answer()
    if not isinstance(message, Message):
        return
    data = await state.get_data()
    file = data["file"]
    try:
        content = await _download(bot, str(file["id"]))
    except _Unreachable:
        await message.answer(texts.ERR_TRY_AGAIN)
        return
    if not content or len(content) > regulations.MAX_FILE:
        await _drop_buttons(message)
        await _ask(message, state, deps, ui, Publish.document, texts.ADMIN_DRAFT_ERROR["file"])
        return
    try:
        draft = await regulations.publish(
            deps.desk,
            title=str(data["title"]),
            summary=str(data["summary"]),
            unit=str(data["unit"]),
            document=DraftFile(str(file["name"]), content, str(file["mime"])),
            days=int(data["days"]),
            by=actor_of(query.from_user, bot).label,
        )
    except DraftError as exc:
        await message.answer(texts.ADMIN_DRAFT_ERROR.get(exc.reason, texts.ACTION_DONE_ALREADY))
        return
    await state.clear()
    deps.wake_delivery()
    await _drop_buttons(message)
    await message.answer(
        ui.fmt(
            texts.ADMIN_PUBLISHED,
            title=draft.title,
            id=to_persian_digits(draft.id or 0),
            deadline=jalali(draft.closes_at),
        )
    )


@router.callback_query(
    PublishConfirmData.filter(F.answer == "no"), StateFilter(Publish), AdminChat()
)
async def cancel_button(query: CallbackQuery, state: FSMContext) -> None:
    """«انصراف» on any /publish question."""
    await query.answer()
    await state.clear()
    if isinstance(query.message, Message):
        await _drop_buttons(query.message)
        await query.message.answer(texts.ADMIN_CANCELLED)


@router.callback_query(F.data.regexp(r"^p[udc]:"), AdminChat())
async def stale_button(query: CallbackQuery) -> None:
    """A /publish button of another admin's flow, of one already finished, or forged."""
    await query.answer(texts.STALE_BUTTON)


ADMIN_COMMANDS = (
    "publish", "drafts", "close_draft", "withdraw_draft", "final", "report", "overdue", "export"
)  # fmt: skip


@router.message(Command(*ADMIN_COMMANDS), AdminChat(outsiders=True))
async def outsider_command(message: Message, deps: Deps, admin_chat: ChatRef) -> None:
    """An admin command from someone who is not staff of the admin chat: a short no."""
    await staff_or_notice(message, admin_chat, deps, notice=texts.ADMIN_ONLY)


@router.callback_query(F.data.regexp(r"^p[udc]:"), AdminChat(outsiders=True))
async def outsider_press(query: CallbackQuery, deps: Deps, admin_chat: ChatRef) -> None:
    """A /publish button pressed by someone who is not staff of the admin chat."""
    await staff_or_notice(query, admin_chat, deps, notice=texts.ADMIN_ONLY)
