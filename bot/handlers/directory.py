"""«تماس با ما»: the organisation's address, switchboard and hours, and its directory of officials.

Citizens browse by unit or search by a word; every entry can be sent as a contact card, so one
tap calls the number. The directory is read from DIRECTORY_FILE at start (desk.directory).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.conversations.common import Flow, Prompts
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Raw, Renderer, plain
from bot.runtime.routers import private_router
from bot.ui import keyboards, render, texts
from bot.ui.callbacks import DirectoryCardData, DirectoryMenuData, DirectoryUnitData
from desk.directory import Directory, Entry, display_phone, searchable
from desk.model import Platform
from desk.text import fold, normalize_line, to_persian_digits

log = logging.getLogger(__name__)

MAX_RESULTS = 10  # more would be a wall of text; the citizen is asked for a narrower word
_TERM_SHOWN = 40  # characters of the search word echoed back
_CARD_NAME = 64  # Telegram's limit for a contact's first and last name

_MENU_LABELS = {fold(label) for row in texts.MENU_ROWS for label in row}


class DirectorySearch(StatesGroup):
    """«جستجو»: waiting for a word to look up in the directory."""

    word = State()


async def ask_word(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The search question."""
    return texts.DIRECTORY_ASK_SEARCH.format(cancel=texts.BTN_BACK), keyboards.back_only()


# --- rendering ------------------------------------------------------------------------------


def _phone(ui: Renderer, number: str) -> Raw:
    return render.phone(ui, display_phone(number))


def office_text(ui: Renderer, directory: Directory, organisation: str) -> str:
    """The organisation's address, switchboard, hours (and postal code, e-mail if given)."""
    office = directory.office
    lines = [
        ui.bold(plain(texts.DIRECTORY_TITLE, org=organisation)),  # bold escapes it
        "",
        ui.fmt(texts.DIRECTORY_ADDRESS, address=to_persian_digits(office.address)),
    ]
    if office.postal_code:
        lines.append(ui.fmt(texts.DIRECTORY_POSTAL, code=to_persian_digits(office.postal_code)))
    lines.append(ui.fmt(texts.DIRECTORY_SWITCHBOARD, phone=_phone(ui, office.switchboard)))
    lines.append(ui.fmt(texts.DIRECTORY_HOURS, hours=to_persian_digits(office.hours)))
    if office.email:
        lines.append(ui.fmt(texts.DIRECTORY_EMAIL, email=office.email))
    lines += ["", texts.DIRECTORY_PICK.format(search=texts.BTN_DIRECTORY_SEARCH)]
    return "\n".join(lines)


def entry_text(ui: Renderer, entry: Entry, *, with_unit: bool) -> str:
    """One official: role, name, (unit,) phone, mobile, e-mail; digits in Persian."""
    lines = [ui.bold(to_persian_digits(entry.role)), ui.esc(to_persian_digits(entry.name))]
    if with_unit:
        lines.append(ui.esc(to_persian_digits(entry.unit_name)))
    lines.append(ui.fmt(texts.DIRECTORY_PHONE, phone=_phone(ui, entry.phone)))
    if entry.mobile:
        lines.append(ui.fmt(texts.DIRECTORY_MOBILE, phone=_phone(ui, entry.mobile)))
    if entry.email:
        lines.append(ui.fmt(texts.DIRECTORY_EMAIL, email=entry.email))
    return "\n".join(lines)


def entries_text(
    ui: Renderer, title: str | None, entries: Sequence[Entry], *, with_unit: bool
) -> str:
    """A list of officials (under a title), with how to get a contact card."""
    blocks = [ui.bold(to_persian_digits(title))] if title else []
    blocks += [entry_text(ui, e, with_unit=with_unit) for e in entries]
    blocks.append(texts.DIRECTORY_CARD_HINT.format(button=texts.BTN_SEND_CARD))
    return "\n\n".join(blocks)


def office_keyboard(directory: Directory) -> InlineKeyboardMarkup:
    """«جستجو», the switchboard's card, then one button per unit that has entries."""
    rows = [
        [
            InlineKeyboardButton(
                text=texts.BTN_DIRECTORY_SEARCH, callback_data=DirectoryMenuData(choice="s").pack()
            ),
            InlineKeyboardButton(
                text=texts.BTN_SWITCHBOARD_CARD, callback_data=DirectoryMenuData(choice="o").pack()
            ),
        ]
    ]
    rows += [
        [
            InlineKeyboardButton(
                text=name, callback_data=DirectoryUnitData(kind="u", unit=key).pack()
            )
        ]
        for key, name in directory.units()
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=texts.BTN_BACK, callback_data=DirectoryMenuData(choice="m").pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_label(entry: Entry) -> str:
    """The label of an entry's «ارسال کارت تماس» button: the name tells the buttons apart."""
    return plain(texts.BTN_SEND_CARD_OF, button=texts.BTN_SEND_CARD, name=entry.name)


def cards_keyboard(entries: Sequence[Entry], *, search_again: bool) -> InlineKeyboardMarkup:
    """One «ارسال کارت تماس» per entry (and «جستجوی دوباره» under search results)."""
    rows = [
        [
            InlineKeyboardButton(
                text=card_label(e), callback_data=DirectoryCardData(kind="c", index=e.index).pack()
            )
        ]
        for e in entries
    ]
    if search_again:
        rows.append(
            [
                InlineKeyboardButton(
                    text=texts.BTN_SEARCH_AGAIN, callback_data=DirectoryMenuData(choice="s").pack()
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _vcard(organisation: str, entry: Entry | None, phone: str) -> str:
    """A vCard for Telegram's contact card, so a saved contact keeps role, mobile and e-mail."""

    def esc(value: str) -> str:
        return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")

    lines = ["BEGIN:VCARD", "VERSION:3.0"]
    if entry is None:
        lines += [f"FN:{esc(organisation)}", f"ORG:{esc(organisation)}"]
    else:
        lines += [
            f"FN:{esc(entry.name)}",
            f"ORG:{esc(organisation)};{esc(entry.unit_name)}",
            f"TITLE:{esc(entry.role)}",
        ]
    lines.append(f"TEL;TYPE=WORK,VOICE:{phone}")
    if entry is not None and entry.mobile:
        lines.append(f"TEL;TYPE=CELL:{entry.mobile}")
    email = entry.email if entry is not None else None
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET:{email}")
    lines.append("END:VCARD")
    return "\n".join(lines)


async def _send_card(
    message: Message,
    bot: PlatformBot,
    organisation: str,
    *,
    first_name: str,
    last_name: str | None,
    phone: str,
    entry: Entry | None = None,
) -> None:
    # Bale documents phone_number, first_name and last_name only; the vCard is Telegram's
    vcard = _vcard(organisation, entry, phone) if bot.platform is Platform.TELEGRAM else None
    await message.answer_contact(
        phone_number=phone,
        first_name=first_name[:_CARD_NAME],
        last_name=last_name[:_CARD_NAME] if last_name else None,
        vcard=vcard,
    )


# --- handlers -------------------------------------------------------------------------------


async def _unavailable(message: Message) -> None:
    await message.answer(texts.DIRECTORY_UNAVAILABLE, reply_markup=keyboards.main_menu())


async def contact_us(message: Message, deps: Deps, ui: Renderer) -> None:
    """«تماس با ما»: address, switchboard, hours, and the way into the directory."""
    if deps.directory is None:
        await _unavailable(message)
        return
    await message.answer(
        office_text(ui, deps.directory, deps.rules.organisation),
        reply_markup=office_keyboard(deps.directory),
    )


async def _query_message(query: CallbackQuery, deps: Deps) -> Message | None:
    """Stop the button spinning; the message to answer under, if the directory is there."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return None
    if deps.directory is None:
        await _unavailable(message)
        return None
    return message


async def _stale(query: CallbackQuery, message: Message, bot: PlatformBot) -> None:
    # the file changed since the button was drawn, or the data was forged
    platform, chat = bot.platform.value, message.chat.id
    log.info("stale directory button %r in %s chat %s", query.data, platform, chat)
    await message.answer(texts.STALE_BUTTON)


async def unit_entries(
    query: CallbackQuery,
    callback_data: DirectoryUnitData,
    deps: Deps,
    ui: Renderer,
    bot: PlatformBot,
) -> None:
    """A unit's officials, each with a contact-card button."""
    message = await _query_message(query, deps)
    if message is None:
        return
    assert deps.directory is not None
    entries = deps.directory.by_unit(callback_data.unit)
    if not entries:
        await _stale(query, message, bot)
        return
    await message.answer(
        entries_text(ui, entries[0].unit_name, entries, with_unit=False),
        reply_markup=cards_keyboard(entries, search_again=False),
    )


async def entry_card(
    query: CallbackQuery, callback_data: DirectoryCardData, deps: Deps, bot: PlatformBot
) -> None:
    """An official's contact card: one tap on it calls the number."""
    message = await _query_message(query, deps)
    if message is None:
        return
    assert deps.directory is not None
    entry = deps.directory.entry(callback_data.index)
    if entry is None:
        await _stale(query, message, bot)
        return
    await _send_card(
        message,
        bot,
        deps.rules.organisation,
        first_name=entry.name,
        last_name=entry.role,
        phone=entry.phone,
        entry=entry,
    )


async def malformed_button(query: CallbackQuery, deps: Deps, bot: PlatformBot) -> None:
    """A unit or card button whose data does not unpack (forged): «stale button», as ever."""
    message = await _query_message(query, deps)
    if message is not None:
        await _stale(query, message, bot)


async def switchboard_card(query: CallbackQuery, deps: Deps, bot: PlatformBot) -> None:
    """The switchboard's contact card."""
    message = await _query_message(query, deps)
    if message is None:
        return
    assert deps.directory is not None
    await _send_card(
        message,
        bot,
        deps.rules.organisation,
        first_name=deps.rules.organisation,
        last_name=texts.DIRECTORY_SWITCHBOARD_NAME,
        phone=deps.directory.office.switchboard,
    )


async def start_search(
    query: CallbackQuery, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """«جستجو»: ask for a word, unless a request is half-filled (its draft must not be lost)."""
    message = await _query_message(query, deps)
    if message is None:
        return
    current = await state.get_state()
    if current is not None and current != DirectorySearch.word.state:
        await prompts.reask(message, state, deps, ui, texts.DIRECTORY_BUSY)
        return
    await state.set_state(DirectorySearch.word)
    await prompts.reask(message, state, deps, ui)


async def search_word(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """The word to look for: results, or a polite «چیزی پیدا نشد» and the question again."""
    if message.text is None:  # a sticker, a photo, a contact …
        await prompts.reask(message, state, deps, ui, texts.ERR_TEXT_WANTED)
        return
    term = normalize_line(message.text)
    if fold(term) == fold(texts.BTN_BACK):
        await state.clear()
        await message.answer(texts.DIRECTORY_SEARCH_ENDED, reply_markup=keyboards.main_menu())
        return
    if fold(term) in _MENU_LABELS:
        # a menu button typed or pressed from an old keyboard: leave the search for the menu
        await state.clear()
        await message.answer(texts.MENU_AGAIN, reply_markup=keyboards.main_menu())
        return
    if not searchable(term):
        await prompts.reask(message, state, deps, ui, texts.DIRECTORY_TOO_SHORT)
        return
    if deps.directory is None:
        await state.clear()
        await _unavailable(message)
        return
    shown_term = term if len(term) <= _TERM_SHOWN else term[:_TERM_SHOWN] + "…"
    found = deps.directory.search(term)
    if not found:
        await prompts.reask(
            message, state, deps, ui, ui.fmt(texts.DIRECTORY_NOT_FOUND, term=shown_term)
        )
        return
    # the search stays open: the next word is looked up too, until «بازگشت» or the menu
    header = ui.fmt(
        texts.DIRECTORY_FOUND, term=shown_term, count=Raw(to_persian_digits(len(found)))
    )
    if len(found) > MAX_RESULTS:
        header += "\n" + texts.DIRECTORY_TOO_MANY.format(
            shown=to_persian_digits(MAX_RESULTS), count=to_persian_digits(len(found))
        )
    header += "\n" + texts.DIRECTORY_SEARCH_MORE.format(back=texts.BTN_BACK)
    await message.answer(header, reply_markup=keyboards.back_only())
    shown = found[:MAX_RESULTS]
    await message.answer(
        entries_text(ui, None, shown, with_unit=True),
        reply_markup=cards_keyboard(shown, search_again=True),
    )


async def back_to_menu(
    query: CallbackQuery, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """«بازگشت» under the office: the main menu (a search in progress ends; a request being
    filed is kept, and its current step is asked again)."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    current = await state.get_state()
    if current is not None and current != DirectorySearch.word.state:
        await prompts.reask(message, state, deps, ui)
        return
    await state.clear()
    said = texts.DIRECTORY_BACK if current is None else texts.DIRECTORY_SEARCH_ENDED
    await message.answer(said, reply_markup=keyboards.main_menu())


def flow() -> Flow:
    """«تماس با ما» (private chats): the office, the directory by unit, and its search."""
    router = private_router("directory")
    router.message.register(contact_us, StateFilter(None), F.text == texts.BTN_CONTACT)
    router.callback_query.register(unit_entries, DirectoryUnitData.filter())
    router.callback_query.register(entry_card, DirectoryCardData.filter())
    router.callback_query.register(malformed_button, F.data.regexp(r"^dy:[uc]:"))
    router.callback_query.register(switchboard_card, DirectoryMenuData.filter(F.choice == "o"))
    router.callback_query.register(start_search, DirectoryMenuData.filter(F.choice == "s"))
    router.callback_query.register(back_to_menu, DirectoryMenuData.filter(F.choice == "m"))
    router.message.register(search_word, DirectorySearch.word)
    return Flow(router, {DirectorySearch.word: ask_word})
