"""Admins in their chats (routing_rules.yaml `admins`): list, close, withdraw and finalise
drafts (publishing one is bot.conversations.publish); reports (/report), the overdue requests
(/overdue) and the export (/export).

Only a configured admin chat reaches these routers (`AdminChat`, set once on each), and only a
group: a private chat listed under `admins` is ignored (logged once). In it only staff act, as
in a unit's group: the chat's administrators and the members they granted (`/staff`). The staff
routers (`admin_router`) let a handler run only for them (`StaffOnly`); anyone else's command or
/publish press goes on to the outsiders' router, which gives a short notice and changes nothing.
Anything there that is not one of the commands, or a step of an admin's own /publish, is left
alone.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from datetime import timedelta
from io import BytesIO
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Document, Message, TelegramObject
from aiohttp import ClientError

from bot.conversations.common import too_long
from bot.deps import Deps
from bot.handlers.staff import actor_of
from bot.runtime.people import staff_or_notice, standing_of
from bot.runtime.platforms import PlatformBot, Raw, Renderer
from bot.ui import exports, report_text, texts
from bot.ui.render import jalali, unit_name
from desk import regulations, reports, validation
from desk.model import ChatRef, DraftFile, Platform
from desk.regulations import DraftError
from desk.text import normalize, to_latin_digits, to_persian_digits

log = logging.getLogger(__name__)

MAX_MESSAGE = 4000
ADMIN_COMMANDS = (
    "publish", "drafts", "close_draft", "withdraw_draft", "final", "report", "overdue", "export"
)  # fmt: skip
PUBLISH_BUTTONS = r"^p[udc]:"  # PublishUnitData, PublishDaysData, PublishConfirmData

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
    """Passes messages and presses in a group listed under `admins`; injects `admin_chat`."""

    async def __call__(
        self, event: Message | CallbackQuery, bot: PlatformBot, deps: Deps
    ) -> bool | dict[str, Any]:
        """Check the chat against routing_rules.yaml."""
        message = event.message if isinstance(event, CallbackQuery) else event
        if not isinstance(message, Message):
            return False
        chat = admin_group(message, bot.platform, deps)
        return False if chat is None else {"admin_chat": chat}


class StaffOnly(BaseMiddleware):
    """A staff router's handler runs only for the admin chat's staff (its administrators and
    the members they granted). Asked once the handler's own filters matched, so ordinary talk
    in the group costs no look-up of the group's administrators; anyone else's event goes on
    to the next handler (SkipHandler), and past the router to the outsiders' router."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Let staff through; skip the handler for anyone else."""
        assert isinstance(event, Message | CallbackQuery)
        if not (await standing_of(event, data["admin_chat"], data["deps"])).is_staff:
            raise SkipHandler
        return await handler(event, data)


def admin_router(name: str) -> Router:
    """A Router for the staff of an admin chat: `AdminChat` on messages and presses, and
    `StaffOnly` around every handler."""
    router = Router(name=name)
    for observer in (router.message, router.callback_query):
        observer.filter(AdminChat())
        observer.middleware(StaffOnly())
    return router


# --- helpers -----------------------------------------------------------------------------------


def _draft_id(text: str | None) -> int | None:
    """«۳», «3» or «#3» → 3."""
    value = to_latin_digits((text or "").strip()).lstrip("#")
    return int(value) if value.isdecimal() and len(value) < 10 else None


def _command(ui: Renderer, example: str) -> Raw:
    """A command to copy: tap-to-copy on Telegram; on Bale as is, since its look-alike for «_»
    would make the command wrong (one underscore does not start italics)."""
    return Raw(f"<code>{example}</code>" if ui.html else example)


def document_name(document: Document) -> str:
    if document.file_name:
        return document.file_name
    extension = mimetypes.guess_extension(document.mime_type or "") or ".pdf"
    return f"draft{extension}"


def too_big(size: int) -> str:
    return texts.ERR_FILE_TOO_BIG.format(
        size=to_persian_digits(f"{size / 1024 / 1024:.1f}"),
        max=to_persian_digits(regulations.MAX_FILE // 1024 // 1024),
    )


class Unreachable(Exception):
    """The messenger did not answer; the admin may try again in a moment."""


async def download(bot: PlatformBot, file_id: str) -> bytes | None:
    """The file's bytes, or None when the messenger will not hand it over (too big, gone)."""
    try:
        buffer = await bot.download(file_id)
    except TelegramBadRequest as exc:
        log.warning("draft file %s cannot be fetched: %s", file_id[:16], exc.message)
        return None
    except (TelegramAPIError, ClientError, TimeoutError) as exc:
        log.warning("draft file %s not fetched: %s", file_id[:16], type(exc).__name__)
        raise Unreachable from exc
    assert isinstance(buffer, BytesIO)
    return buffer.getvalue()


# --- commands ----------------------------------------------------------------------------------


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
        await message.reply(too_big(document.file_size))
        return
    try:
        content = await download(bot, document.file_id)
    except Unreachable:
        await message.reply(texts.ERR_TRY_AGAIN)
        return
    if not content or len(content) > regulations.MAX_FILE:
        await message.reply(texts.ADMIN_DRAFT_ERROR["file"])
        return
    final = DraftFile(
        document_name(document), content, document.mime_type or "application/octet-stream"
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
    assert deps.exports is not None  # the composition root wires the export's queries
    content, data = await exports.xlsx_for(deps.exports, deps.rules, first, last)
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


async def outsider_command(message: Message, deps: Deps, admin_chat: ChatRef) -> None:
    """An admin command from someone who is not staff of the admin chat: a short no."""
    await staff_or_notice(message, admin_chat, deps, notice=texts.ADMIN_ONLY)


async def outsider_press(query: CallbackQuery, deps: Deps, admin_chat: ChatRef) -> None:
    """A /publish button pressed by someone who is not staff of the admin chat."""
    await staff_or_notice(query, admin_chat, deps, notice=texts.ADMIN_ONLY)


def router() -> Router:
    """The admin commands, for the staff of an admin chat."""
    router = admin_router("admin")
    router.message.register(drafts_list, Command("drafts"))
    router.message.register(close_draft, Command("close_draft"))
    router.message.register(withdraw_draft, Command("withdraw_draft"))
    router.message.register(finalize, Command("final"))
    router.message.register(report, Command("report"))
    router.message.register(overdue, Command("overdue"))
    router.message.register(export, Command("export"))
    return router


def outsiders_router() -> Router:
    """After the staff routers: what reaches it in an admin chat is an admin command or a
    /publish press of someone who is not the chat's staff (staff_or_notice tells them no)."""
    router = Router(name="admin-outsiders")
    router.message.filter(AdminChat())
    router.callback_query.filter(AdminChat())
    router.message.register(outsider_command, Command(*ADMIN_COMMANDS))
    router.callback_query.register(outsider_press, F.data.regexp(PUBLISH_BUTTONS))
    return router
