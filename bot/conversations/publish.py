"""/publish in an admin chat: title, summary, document, owning unit, days, then a preview to
confirm; the draft is then scheduled and announced (desk.regulations.publish).

The router serves the admin chats' staff only (`bot.handlers.admin.admin_router`). Each
question is a reply to the admin's message, with ForceReply on Telegram, so the answer reaches
the bot even where its privacy mode is on. The conversation keeps the document's file id in FSM
data, not its bytes: the file is fetched from the messenger when the admin confirms, so a 20 MB
draft never sits in the conversation storage.
"""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message

from bot.conversations.common import error_text
from bot.deps import Deps
from bot.handlers.admin import (
    PUBLISH_BUTTONS,
    Unreachable,
    admin_router,
    document_name,
    download,
    too_big,
)
from bot.handlers.staff import actor_of
from bot.runtime.platforms import PlatformBot, Raw, Renderer
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import PublishConfirmData, PublishDaysData, PublishUnitData
from bot.ui.render import jalali
from desk import regulations
from desk.calendar import end_of_day, local_date
from desk.model import Draft, DraftFile, Platform
from desk.regulations import DraftError
from desk.text import normalize, to_latin_digits, to_persian_digits
from desk.validation import InvalidInput

TITLE_MIN, TITLE_MAX = 3, 200
SUMMARY_MIN, SUMMARY_MAX = 10, 3000  # the preview (card, file name, footer) fits a message
_DAYS = re.compile(r"^(\d{1,3})(?:\s*روز)?$")


class Publish(StatesGroup):
    """/publish: title, summary, document, owning unit, days, then the preview."""

    title = State()
    summary = State()
    document = State()
    unit = State()
    days = State()
    confirm = State()


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
        units = [(unit.key, unit.name) for unit in deps.rules.units.values()]
        return texts.ADMIN_ASK_UNIT, keyboards.publish_units(units)
    if current == Publish.days.state:
        return texts.ADMIN_ASK_DAYS, keyboards.publish_days(regulations.DEFAULT_DAYS)
    data = await state.get_data()
    return _preview(ui, deps, data), keyboards.publish_confirm()


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


async def publish_start(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Start publishing a draft (a half-done one of the same admin starts over)."""
    await state.clear()
    await _ask(message, state, deps, ui, Publish.title)


async def publish_cancel(message: Message, state: FSMContext) -> None:
    """Drop a half-done /publish."""
    await state.clear()
    await message.reply(texts.ADMIN_CANCELLED)


async def take_title(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The title, as citizens will read it."""
    try:
        title = _free_text(message, TITLE_MIN, TITLE_MAX)
    except InvalidInput as exc:
        await _ask(message, state, deps, ui, error=error_text(ui, exc))
        return
    await state.update_data(title=title)
    await _ask(message, state, deps, ui, Publish.summary)


async def take_summary(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The summary; blank lines split it into sections citizens comment on."""
    try:
        summary = _free_text(message, SUMMARY_MIN, SUMMARY_MAX)
    except InvalidInput as exc:
        await _ask(message, state, deps, ui, error=error_text(ui, exc))
        return
    await state.update_data(summary=summary)
    await _ask(message, state, deps, ui, Publish.document)


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
            content = await download(bot, document.file_id)
        except Unreachable:
            await message.reply(texts.ERR_TRY_AGAIN)
            return
        size = len(content) if content is not None else regulations.MAX_FILE + 1
    if size > regulations.MAX_FILE or size == 0:
        await _ask(message, state, deps, ui, error=too_big(size))
        return
    await state.update_data(
        file={
            "id": document.file_id,
            "name": document_name(document),
            "mime": document.mime_type or "application/octet-stream",
            "size": size,
        }
    )
    await _ask(message, state, deps, ui, Publish.unit)


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


async def unit_typed(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The unit must be a button: typing one is refused politely."""
    await _ask(message, state, deps, ui, error=texts.ERR_PICK_BUTTON)


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


async def take_days(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """A typed number of days, 1 to 90 (Persian digits welcome)."""
    match = _DAYS.match(to_latin_digits(normalize(message.text or "", digits=False)))
    days = int(match.group(1)) if match else 0
    if not 1 <= days <= regulations.MAX_DAYS:
        await _ask(message, state, deps, ui, error=texts.ADMIN_BAD_DAYS)
        return
    await state.update_data(days=days)
    await _ask(message, state, deps, ui, Publish.confirm)


async def confirm_typed(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """The preview is answered with its buttons."""
    await _ask(message, state, deps, ui, error=texts.ERR_PICK_BUTTON)


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
        content = await download(bot, str(file["id"]))
    except Unreachable:
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


async def cancel_button(query: CallbackQuery, state: FSMContext) -> None:
    """«انصراف» on any /publish question."""
    await query.answer()
    await state.clear()
    if isinstance(query.message, Message):
        await _drop_buttons(query.message)
        await query.message.answer(texts.ADMIN_CANCELLED)


async def stale_button(query: CallbackQuery) -> None:
    """A /publish button of another admin's flow, of one already finished, or forged."""
    await query.answer(texts.STALE_BUTTON)


def router() -> Router:
    """The /publish conversation, for the staff of an admin chat: after the admin commands, so
    a command typed mid-way is a command and not an answer."""
    router = admin_router("publish")
    router.message.register(publish_start, Command("publish"))
    router.message.register(publish_cancel, Command("cancel"), StateFilter(Publish))
    router.message.register(take_title, Publish.title)
    router.message.register(take_summary, Publish.summary)
    router.message.register(take_document, Publish.document)
    router.callback_query.register(take_unit, PublishUnitData.filter(), Publish.unit)
    router.message.register(unit_typed, Publish.unit)
    router.callback_query.register(take_default_days, PublishDaysData.filter(), Publish.days)
    router.message.register(take_days, Publish.days)
    router.message.register(confirm_typed, Publish.confirm)
    router.callback_query.register(
        confirm, PublishConfirmData.filter(F.answer == "yes"), Publish.confirm
    )
    router.callback_query.register(
        cancel_button, PublishConfirmData.filter(F.answer == "no"), StateFilter(Publish)
    )
    router.callback_query.register(stale_button, F.data.regexp(PUBLISH_BUTTONS))
    return router
