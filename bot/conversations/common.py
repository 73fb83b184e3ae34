"""What every guided conversation shares: prompts by state, bad-input replies, cancel, attachments.

A step handler validates one answer and either stores it and moves on, or re-asks the same
step with a polite reason. Nothing already entered is dropped: the draft lives in FSM data,
which the SQL (or Redis) storage keeps across restarts.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, ReplyKeyboardMarkup, User

from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer, max_file_size, plain
from bot.runtime.routers import private_router
from bot.ui import keyboards, texts
from bot.ui.callbacks import AbandonData
from desk import services, validation
from desk.model import DESCRIPTION_ROLE, Attachment, AttachmentKind, ChatRef, Platform
from desk.ports import Remembered
from desk.routing import Choice
from desk.text import fold, normalize, profile_name, to_persian_digits
from desk.validation import InvalidInput

MAX_ATTACHMENTS = 5

Prompt = Callable[[Message, FSMContext, Deps, Renderer], Awaitable[tuple[str, Any]]]
# «بازگشت» in a state whose step back is its own (the survey's questions share one state)
BackStep = Callable[[Message, FSMContext, Deps, Renderer, "Prompts"], Awaitable[None]]

# FSM data: the states this conversation asked before the current one, oldest first, so
# «بازگشت» goes back the way the citizen came (past a step a returning citizen or a kept
# sentence skipped, from a field edited at the summary back to it)
TRAIL = "back_trail"
# FSM data: after «بازگشت», the states the citizen came back from, the nearest last: their
# answers are still in the draft, so «ادامه با همان پاسخ قبلی» goes on to them untyped
AHEAD = "back_ahead"


def _group(state_name: str) -> str:
    """The StatesGroup of a state's name («Complaint:county» → «Complaint»)."""
    return state_name.partition(":")[0]


@dataclass(frozen=True)
class Flow:
    """What a conversation's factory builds: its Router, the question each of its states asks
    (in the order they are asked), and the states whose «بازگشت» is their own (`back`); the
    dispatcher's `Prompts` gathers them."""

    router: Router
    prompts: Mapping[State, Prompt] = field(default_factory=dict)
    back: Mapping[State, BackStep] = field(default_factory=dict)


class Prompts:
    """The question of every conversation state, gathered from the flows of one dispatcher;
    handlers get it as `prompts` (the dispatcher's data) and ask through it. It also knows the
    way back: the trail of states asked (TRAIL), else the state declared before this one in
    its group (a draft whose trail was never written, a state entered without `ask`)."""

    def __init__(self, *flows: Flow) -> None:
        by_state: dict[str, Prompt] = {}
        before: dict[str, str] = {}
        back: dict[str, BackStep] = {}
        for flow in flows:
            previous: str | None = None
            for target, question in flow.prompts.items():
                name = target.state
                if name is None or name in by_state:
                    raise ValueError(f"state {name} is asked by two flows (or is no state)")
                by_state[name] = question
                if previous is not None and _group(previous) == _group(name):
                    before[name] = previous
                previous = name
            back |= {target.state: step for target, step in flow.back.items() if target.state}
        self._by_state = MappingProxyType(by_state)
        self._before = MappingProxyType(before)
        self._back = MappingProxyType(back)

    @property
    def states(self) -> frozenset[str]:
        """The names of the states that have a question."""
        return frozenset(self._by_state)

    async def ask(
        self,
        target: State | str,
        message: Message,
        state: FSMContext,
        deps: Deps,
        ui: Renderer,
        error: str | None = None,
    ) -> None:
        """Move to `target` and ask its question, after the reason the last answer failed."""
        await self._walk(state, target.state if isinstance(target, State) else target)
        await state.set_state(target)
        await self.reask(message, state, deps, ui, error)

    async def _walk(self, state: FSMContext, target: str | None) -> None:
        """Keep the way back and forth. The state left is added to the trail; a state already
        on it (the summary again after an edit) cuts it back to the way that state was first
        reached (not a field picked to edit: the way back from it is the summary). Going on to
        the state the citizen came back from keeps the rest of the way
        ahead (AHEAD); any other way forward drops it."""
        current = await state.get_state()
        data = await state.get_data()
        trail: list[str] = list(data.get(TRAIL) or [])
        ahead: list[str] = list(data.get(AHEAD) or [])
        if target is None or target == current:
            return
        if target in trail and not data.get("editing"):
            trail = trail[: trail.index(target)]
        elif (
            current is not None and current in self._by_state and _group(current) == _group(target)
        ):
            trail.append(current)
        if ahead and ahead[-1] == target:
            ahead.pop()
        else:
            ahead = []
        await state.update_data({TRAIL: trail, AHEAD: ahead})

    async def back(self, message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
        """«بازگشت»: the step before this one, asked again with every answer kept (the step's
        own answer is replaced only when the citizen answers it again, or kept with «ادامه با
        همان پاسخ قبلی»); on a first step, the main menu."""
        current = await state.get_state()
        if current is None:
            await message.answer(texts.BACK_TO_MENU, reply_markup=keyboards.main_menu())
            return
        own = self._back.get(current)
        if own is not None:
            await own(message, state, deps, ui, self)
            return
        data = await state.get_data()
        trail: list[str] = list(data.get(TRAIL) or [])
        ahead: list[str] = list(data.get(AHEAD) or [])
        previous = trail.pop() if trail else self._before.get(current)
        if previous is None:
            await leave(message, state)
            return
        if data.get("editing") or current.endswith(":edit"):
            ahead = []  # a detour from the summary: its own buttons lead on
        else:
            ahead = [*(s for s in ahead if s != current), current]
        # leaving a field edited from the summary: the steps after it are asked as usual
        await state.update_data({TRAIL: trail, AHEAD: ahead, "editing": False})
        await state.set_state(previous)
        await self.reask(message, state, deps, ui)

    async def forward(self, message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
        """«ادامه با همان پاسخ قبلی», after «بازگشت»: this step's answer kept as it is, on to
        the step the citizen came back from (an old button with nowhere to go asks again)."""
        ahead: list[str] = list((await state.get_data()).get(AHEAD) or [])
        if await state.get_state() in (None, *ahead[-1:]) or not ahead:
            await self.reask(message, state, deps, ui)
            return
        await self.ask(ahead[-1], message, state, deps, ui)

    async def reask(
        self,
        message: Message,
        state: FSMContext,
        deps: Deps,
        ui: Renderer,
        error: str | None = None,
    ) -> None:
        """Ask the current step's question again (after an error, a restart or «ادامه»)."""
        current = await state.get_state()
        question = self._by_state.get(current) if current is not None else None
        if question is None:
            await message.answer(error or texts.MENU_AGAIN, reply_markup=keyboards.main_menu())
            return
        text, keyboard = await question(message, state, deps, ui)
        ahead = (await state.get_data()).get(AHEAD) or []
        if isinstance(keyboard, ReplyKeyboardMarkup) and ahead and ahead[-1] != current:
            keyboard = keyboards.with_keep_answer(keyboard)
        if error:
            text = f"{error}\n\n{text}"
        await message.answer(text, reply_markup=keyboard)


async def advance(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    *,
    nxt: State,
    summary: State,
) -> None:
    """Go to the next step, or back to the summary when the citizen was editing one field.
    A step the draft already holds the answer of (the sentence typed in the menu, kept as the
    description) is passed over, also when the citizen comes that way again after «بازگشت»:
    the draft's `skip` maps its state to the one after it («ویرایش» still reaches it)."""
    data = await state.get_data()
    if data.get("editing"):
        await state.update_data(editing=False)
        nxt = summary
    target: State | str = nxt
    skip: dict[str, str] = dict(data.get("skip") or {})
    if nxt.state in skip:
        target = skip[nxt.state]
    await prompts.ask(target, message, state, deps, ui)


def about_words(characters: int) -> int:
    """A length in letters as the words a citizen writes: about six letters (a space
    included) a Persian word, rounded down to tens (3,000 letters, 500 words)."""
    return characters // 60 * 10


def too_long(text: str, maximum: int, template: str = texts.ERR_TOO_LONG) -> str | None:
    """Why `text` is refused when it is longer than `maximum` as the messengers count it
    (UTF-16 units: it could not be passed on in one message), or None when it fits."""
    length = validation.message_length(text)
    if length <= maximum:
        return None
    return template.format(
        length=to_persian_digits(length),
        max=to_persian_digits(maximum),
        words=to_persian_digits(about_words(maximum)),
    )


def error_text(ui: Renderer, error: InvalidInput) -> str:
    """The Persian explanation of why an answer was refused."""
    d = error.details
    match error.reason:
        case "pick":
            return texts.ERR_PICK_BUTTON
        case "text":
            return texts.ERR_TEXT_WANTED
        case "empty":
            return texts.ERR_EMPTY
        case "too_short":
            return texts.ERR_TOO_SHORT.format(min=to_persian_digits(d["min"]))
        case "too_long":
            return texts.ERR_TOO_LONG.format(
                length=to_persian_digits(d["length"]),
                max=to_persian_digits(d["max"]),
                words=to_persian_digits(about_words(d["max"])),
            )
        case "name":
            return texts.ERR_NAME.format(
                min=to_persian_digits(validation.NAME_MIN),
                max=to_persian_digits(validation.NAME_MAX),
            )
        case "phone":
            return texts.ERR_PHONE.format(button=texts.BTN_SHARE_PHONE)
        case "national_code":
            return texts.ERR_NATIONAL_CODE.format(skip=texts.BTN_NO_NATIONAL_CODE)
    return texts.ERR_PICK_BUTTON


def text_of(message: Message) -> str:
    """The normalised text of a message, or InvalidInput when it is not text (a sticker, a GIF)."""
    if message.text is None:
        raise InvalidInput("text")
    value = normalize(message.text, digits=False)  # shown as typed; parsers fold the digits
    if not value:
        raise InvalidInput("empty")
    return value


def pick(message: Message, options: tuple[Choice, ...] | list[Choice]) -> Choice:
    """The option whose label the citizen pressed (or typed), else InvalidInput('pick')."""
    wanted = fold(text_of(message))
    for option in options:
        if fold(option.name) == wanted or option.key == wanted:
            return option
    raise InvalidInput("pick")


async def take(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    *,
    field: str,
    parse: Callable[[Message], object],
    nxt: State,
    summary: State,
) -> None:
    """Validate one answer with `parse`, store it under `field`, move on; or re-ask politely."""
    try:
        value = parse(message)
    except InvalidInput as exc:
        await prompts.reask(message, state, deps, ui, error_text(ui, exc))
        return
    await state.update_data({field: value})
    await advance(message, state, deps, ui, prompts, nxt=nxt, summary=summary)


def user_id_of(message: Message) -> int | None:
    """The sender's account id (quotas count per account), None when the update has none."""
    return message.from_user.id if message.from_user else None


def chat_of(message: Message, platform: Platform) -> ChatRef:
    """The chat a message came from, with its platform."""
    return ChatRef(platform, message.chat.id)


def account_of(message: Message) -> int | None:
    """The citizen's account id, also when `message` is the bot's own (a button's message, whose
    private chat is the citizen's: a private chat's id is its user's id on both platforms)."""
    user = message.from_user
    if user is not None and not user.is_bot:
        return user.id
    return message.chat.id if message.chat.type == "private" else None


# --- returning citizens ------------------------------------------------------------------------


async def remembered(message: Message, ui: Renderer, deps: Deps) -> Remembered | None:
    """The name and phone this account gave at its last filing, if any is remembered."""
    return await services.remembered_details(ui.platform, account_of(message), uow=deps.uow)


def same_as_before_label(details: Remembered) -> str:
    """«همان قبلی: نرگس امینی، ۰۹۱۵۱۲۳۴۵۶۷»: the number as one run of digits (nothing for
    the bidi algorithm to reorder), a long name cut so the button stays short."""
    name, most = details.name, texts.SAME_AS_BEFORE_NAME_MAX
    if len(name) > most:
        name = name[: most - 1].rstrip() + "…"
    return plain(texts.BTN_SAME_AS_BEFORE, name=name, phone=to_persian_digits(details.phone))


def pressed_same_as_before(message: Message, details: Remembered | None) -> bool:
    """Whether the citizen pressed (or typed) «همان قبلی: …» with the details remembered now;
    the values filed are read from storage, never from the text that came in."""
    if details is None or message.text is None:
        return False
    return fold(normalize(message.text)) == fold(normalize(same_as_before_label(details)))


# --- shared steps ------------------------------------------------------------------------------


def name_of(user: User | None) -> str:
    """The sender's profile name, normalised at the boundary like anything typed ('' if none)."""
    return profile_name(user.full_name) if user is not None else ""


def parse_name(message: Message) -> str:
    """A person's name."""
    return validation.person_name(text_of(message))


def parse_phone_text(message: Message) -> str:
    """A typed mobile number."""
    return validation.mobile_number(text_of(message))


def parse_national_code(message: Message) -> str | None:
    """An optional national code; «ادامه بدون کد ملی» (or an old keyboard's «رد کردن»)
    leaves it empty."""
    value = text_of(message)
    if value in (texts.BTN_NO_NATIONAL_CODE, *texts.OLD_SKIP_LABELS):
        return None
    return validation.national_code(value)


def parse_long_text(message: Message) -> str:
    """A description between the configured bounds."""
    return validation.description(text_of(message))


# --- the description: typed, or a voice note; a photo sent there is kept ---------------------


def extra_files(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The draft's attachments other than a voice note that is its description: those the
    attachments step counts (up to five) and the summary lists."""
    return [a for a in stored if a.get("role") != DESCRIPTION_ROLE]


def described_by_voice(data: dict[str, Any]) -> bool:
    """Whether the draft's description is a voice note."""
    return any(a.get("role") == DESCRIPTION_ROLE for a in data.get("attachments") or [])


def _as_plain_file(item: dict[str, Any]) -> dict[str, Any]:
    """A former description voice, once a new description replaces it: still sent, as a file."""
    return {k: v for k, v in item.items() if k != "role"}


def _after_new_description(stored: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The files once a new description replaces a voice one: that voice stays among them as
    an ordinary file while there is room (five at most); with five already, it gives way
    (True: the citizen is told)."""
    files = extra_files(stored)
    former = [a for a in stored if a.get("role") == DESCRIPTION_ROLE]
    if former and len(files) + len(former) > MAX_ATTACHMENTS:
        return files, True
    return [_as_plain_file(a) for a in stored], False


def voice_description(message: Message) -> tuple[str, Attachment] | None:
    """(the description text, the voice) when `message` is a voice note: the text says it is
    a voice note (and carries its caption, if any), so nobody reads an empty description."""
    attachment = attachment_of(message) if message.voice is not None else None
    if attachment is None:
        return None
    attachment.message_id = message.message_id
    attachment.role = DESCRIPTION_ROLE
    caption = normalize(message.caption or "", digits=False)
    text = f"{texts.VOICE_DESCRIPTION}\n{caption}" if caption else texts.VOICE_DESCRIPTION
    return text, attachment


async def take_description(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    *,
    wanted: str,
    nxt: State,
    after_voice: State,
    summary: State,
) -> None:
    """A description: typed text (as before, between the bounds); or a voice note, which is
    the description itself (kept as the first file, no length asked of it), then
    `after_voice`; or a photo or another file, kept as an attachment, its caption (if any)
    taken as the description, else the question asked again saying the file was kept.
    `wanted` names what is still asked («شرح شکایت»): a STILL_WANTED key."""
    data = await state.get_data()
    stored: list[dict[str, Any]] = list(data.get("attachments") or [])
    voice = voice_description(message)
    if voice is not None:
        text, spoken = voice
        if too_big := file_too_big(bot, spoken):
            await prompts.reask(message, state, deps, ui, too_big)
            return
        files, gave_way = _after_new_description(stored)
        await state.update_data(text=text, attachments=[spoken.to_dict(), *files])
        await message.answer(texts.VOICE_DESCRIPTION_KEPT)
        if gave_way:
            await message.answer(_no_room_text())
        await advance(message, state, deps, ui, prompts, nxt=after_voice, summary=summary)
        return
    attachment = attachment_of(message)
    if attachment is None and message.text is None:  # a sticker, a GIF, a video note
        await prompts.reask(message, state, deps, ui, texts.ERR_DESCRIPTION_WANTED)
        return
    if attachment is not None:
        if not await _keep_file(message, state, deps, ui, prompts, bot, attachment, stored):
            return
        kept = texts.ATTACHMENT_KEPT.format(
            what=texts.ATTACHMENT_NAMES[attachment.kind], then=texts.STILL_WANTED[wanted]
        )
        if not message.caption:
            await prompts.reask(message, state, deps, ui, kept)
            return
        try:
            text = validation.description(normalize(message.caption, digits=False))
        except InvalidInput as exc:
            await prompts.reask(message, state, deps, ui, f"{kept}\n{error_text(ui, exc)}")
            return
        # the citizen is told the file is kept, or the next step's «بدون پیوست» would puzzle
        await message.answer(
            texts.ATTACHMENT_KEPT_CAPTIONED.format(what=texts.ATTACHMENT_NAMES[attachment.kind])
        )
    else:
        try:
            text = parse_long_text(message)
        except InvalidInput as exc:
            await prompts.reask(message, state, deps, ui, error_text(ui, exc))
            return
    # a typed description replaces a voice one; that voice stays among the files (room left)
    files, gave_way = _after_new_description(stored)
    await state.update_data(text=text, attachments=files)
    if gave_way:
        await message.answer(_no_room_text())
    await advance(message, state, deps, ui, prompts, nxt=nxt, summary=summary)


async def _keep_file(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    attachment: Attachment,
    stored: list[dict[str, Any]],
) -> bool:
    """Add a file sent where the step keeps files (`stored`: the draft's files, appended to);
    False, the step asked again, when there is no room or the file is too big."""
    if len(extra_files(stored)) >= MAX_ATTACHMENTS:
        full = texts.ATTACHMENTS_FULL.format(max=to_persian_digits(MAX_ATTACHMENTS))
        await prompts.reask(message, state, deps, ui, full)
        return False
    if too_big := file_too_big(bot, attachment):
        await prompts.reask(message, state, deps, ui, too_big)
        return False
    attachment.message_id = message.message_id
    stored.append(attachment.to_dict())
    await state.update_data(attachments=stored)
    return True


def _no_room_text() -> str:
    """The earlier voice description gave way: five files already."""
    return texts.VOICE_REPLACED_NO_ROOM.format(max=to_persian_digits(MAX_ATTACHMENTS))


async def take_phone(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    *,
    nxt: State,
    summary: State,
) -> None:
    """Phone from the contact button (own contact only) or typed and validated."""
    if message.contact is not None:
        contact = message.contact
        if (
            contact.user_id is not None
            and message.from_user
            and contact.user_id != message.from_user.id
        ):
            await prompts.reask(message, state, deps, ui, texts.ERR_FOREIGN_CONTACT)
            return
        try:
            phone = validation.mobile_number(contact.phone_number)
        except InvalidInput as exc:
            await prompts.reask(message, state, deps, ui, error_text(ui, exc))
            return
        await state.update_data(phone=phone)
        await advance(message, state, deps, ui, prompts, nxt=nxt, summary=summary)
        return
    await take(message, state, deps, ui, prompts,
               field="phone", parse=parse_phone_text, nxt=nxt, summary=summary)  # fmt: skip


def attachment_of(message: Message) -> Attachment | None:
    """The attachment a message carries, or None when it carries none we accept."""
    if message.animation or message.sticker or message.video_note:
        return None
    if message.photo:
        p = message.photo[-1]
        return Attachment(AttachmentKind.PHOTO, p.file_id, p.file_unique_id, p.file_size)
    if message.location:
        loc = message.location
        return Attachment(AttachmentKind.LOCATION, latitude=loc.latitude, longitude=loc.longitude)
    for kind, media in (
        (AttachmentKind.VOICE, message.voice),
        (AttachmentKind.DOCUMENT, message.document),
        (AttachmentKind.VIDEO, message.video),
        (AttachmentKind.AUDIO, message.audio),
    ):
        if media is not None:
            return Attachment(
                kind,
                media.file_id,
                media.file_unique_id,
                media.file_size,
                file_name=getattr(media, "file_name", None),
                mime_type=getattr(media, "mime_type", None),
            )
    return None


async def take_attachment(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
    *,
    summary: State,
) -> None:
    """Collect up to five attachments; «پایان» or «بدون پیوست» moves on to the summary."""
    data = await state.get_data()
    stored: list[dict[str, Any]] = list(data.get("attachments") or [])
    if message.text is not None:
        if normalize(message.text) in (texts.BTN_DONE, texts.BTN_NO_ATTACHMENTS):
            await state.update_data(editing=False)
            await prompts.ask(summary, message, state, deps, ui)
        else:
            await prompts.reask(message, state, deps, ui, texts.ERR_PICK_BUTTON)
        return
    attachment = attachment_of(message)
    if attachment is None:
        await prompts.reask(message, state, deps, ui, texts.ERR_ATTACHMENT_KIND)
        return
    if too_big := file_too_big(bot, attachment):
        await prompts.reask(message, state, deps, ui, too_big)
        return
    if len(extra_files(stored)) >= MAX_ATTACHMENTS:  # five kept already at the description
        await message.answer(texts.ATTACHMENTS_FULL.format(max=to_persian_digits(MAX_ATTACHMENTS)))
        await state.update_data(editing=False)
        await prompts.ask(summary, message, state, deps, ui)
        return
    attachment.message_id = message.message_id
    stored.append(attachment.to_dict())
    await state.update_data(attachments=stored)
    count = len(extra_files(stored))  # a voice that is the description is no attachment here
    if count >= MAX_ATTACHMENTS:
        await message.answer(texts.ATTACHMENTS_FULL.format(max=to_persian_digits(MAX_ATTACHMENTS)))
        await state.update_data(editing=False)
        await prompts.ask(summary, message, state, deps, ui)
        return
    await message.answer(
        texts.ATTACHMENT_RECEIVED.format(
            n=to_persian_digits(count),
            max=to_persian_digits(MAX_ATTACHMENTS),
            done=texts.BTN_DONE,
        ),
        reply_markup=keyboards.attachments(count),
    )


def file_too_big(bot: PlatformBot, attachment: Attachment) -> str | None:
    """Why a file is refused when it is over the platform's limit, else None."""
    limit = max_file_size(bot.platform, attachment.kind)
    if attachment.file_size is None or attachment.file_size <= limit:
        return None
    return texts.ERR_FILE_TOO_BIG.format(
        size=to_persian_digits(f"{attachment.file_size / 1024 / 1024:.1f}"),
        max=to_persian_digits(limit // 1024 // 1024),
    )


async def attach_at_summary(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """A file sent while the summary is shown (a returning citizen goes from the description
    straight to it): kept like one sent at the attachments step, and the summary shown again."""
    attachment = attachment_of(message)
    stored: list[dict[str, Any]] = list((await state.get_data()).get("attachments") or [])
    if attachment is None:
        await prompts.reask(message, state, deps, ui, texts.ERR_ATTACHMENT_KIND)
        return
    if not await _keep_file(message, state, deps, ui, prompts, bot, attachment, stored):
        return
    added = texts.ATTACHMENT_ADDED.format(
        n=to_persian_digits(len(extra_files(stored))), max=to_persian_digits(MAX_ATTACHMENTS)
    )
    await prompts.reask(message, state, deps, ui, added)


async def attachments_prompt(state: FSMContext) -> tuple[str, ReplyKeyboardMarkup]:
    """The attachments question with the right first button."""
    data = await state.get_data()
    count = len(extra_files(list(data.get("attachments") or [])))
    text = texts.ASK_ATTACHMENTS.format(
        max=to_persian_digits(MAX_ATTACHMENTS), done=texts.BTN_DONE, none=texts.BTN_NO_ATTACHMENTS
    )
    return text, keyboards.attachments(count)


def attachments_line(data: dict[str, Any]) -> str:
    """«۲ عکس، ۱ موقعیت مکانی» for a summary."""
    counts: dict[AttachmentKind, int] = {}
    for item in extra_files(list(data.get("attachments") or [])):
        kind = AttachmentKind(item["kind"])
        counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return texts.NOT_GIVEN
    return "، ".join(
        f"{to_persian_digits(n)} {texts.ATTACHMENT_NAMES[k]}" for k, n in counts.items()
    )


def summary_text(
    ui: Renderer,
    fields: Sequence[tuple[str, str | None]],
    body: str | None,
    *,
    attach_hint: bool = False,
) -> str:
    """A confirm-step summary: labelled fields, then the long text; with `attach_hint`, the
    invitation to send a file now (for a returning citizen, who skipped the attachments step)."""
    lines = [texts.SUMMARY_TITLE, ""]
    for key, value in fields:
        lines.append(f"{ui.bold(texts.FIELD_LABELS[key])}: {ui.esc(value or texts.NOT_GIVEN)}")
    if body:
        lines += ["", ui.esc(body)]
    if attach_hint:
        lines += ["", texts.SUMMARY_ATTACH_HINT]
    lines += ["", texts.SUMMARY_FOOTER.format(confirm=texts.BTN_CONFIRM, edit=texts.BTN_EDIT)]
    return "\n".join(lines)


# --- cancel and abandon, for every conversation ---------------------------------------------


def router() -> Router:
    """Cancel, «بازگشت» and /start mid-way, for every citizen conversation: before any of
    their steps."""
    control = private_router("conversation-control")
    control.message.register(cancel, F.text == texts.BTN_CANCEL)
    control.message.register(back, F.text == texts.BTN_BACK)
    control.message.register(keep_answer, F.text == texts.BTN_KEEP_ANSWER, ~StateFilter(None))
    control.message.register(cancel, Command("cancel"))
    control.message.register(forget, Command("forget"))
    control.message.register(start_midway, CommandStart(), ~StateFilter(None))
    control.callback_query.register(abandon_answer, AbandonData.filter())
    return control


# the groups of states that look something up (a request by its code, the directory): leaving
# them drops nothing half-filled, so the citizen is not told a request was cancelled
LOOKUP_ENDED = {"Tracking": texts.TRACKING_ENDED, "DirectorySearch": texts.DIRECTORY_SEARCH_ENDED}


def lookup_ended(current: str | None) -> str | None:
    """What leaving this state says when it is a look-up's; None for a filing or no state."""
    return LOOKUP_ENDED.get((current or "").partition(":")[0])


# FSM data, with no state: a sentence typed in the menu, kept to be filed (bot.handlers.citizen)
KEPT_TEXT = "kept_text"
KEPT_KEY = "kept_key"
# the files of that message (a voice note that is the description, a photo with its caption),
# as attachment dicts; in a draft started from it, the files it brought
KEPT_FILES = "kept_files"


async def offer_kept_text(
    message: Message,
    state: FSMContext,
    text: str,
    files: list[dict[str, Any]] | None = None,
) -> None:
    """Keep `text` and its `files` (durably, with no state: the menu stays) and offer to file
    them as they are."""
    token = secrets.token_hex(4)
    await state.set_data({KEPT_TEXT: text, KEPT_KEY: token, KEPT_FILES: files or []})
    offer = texts.OFFER_KEPT_TEXT
    if not text and files:  # a photo or a file alone: the description is asked when filing
        kind = AttachmentKind(files[0]["kind"])
        offer = texts.OFFER_KEPT_FILE.format(what=texts.ATTACHMENT_NAMES[kind])
    await message.answer(offer, reply_markup=keyboards.kept_text(token))


async def back(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """«بازگشت» at any step (or none): one step back, see `Prompts.back`."""
    await prompts.back(message, state, deps, ui)


async def keep_answer(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """«ادامه با همان پاسخ قبلی»: see `Prompts.forward`."""
    await prompts.forward(message, state, deps, ui)


# FSM data of a draft that is no answer of the citizen's: what the conversation itself keeps
_NOT_ANSWERS = frozenset(
    {"flow", "filing_key", "code", "draft", "section", "editing", "skip", "remember", TRAIL, AHEAD}
)


def holds_answers(data: Mapping[str, Any]) -> bool:
    """Whether a draft holds more than the first step's own answer (one button pressed,
    pressed again in a moment): two answers or more the citizen gave, beyond what a message
    kept in the menu brought (the sentence, its files: `leave` offers those again)."""
    kept_files = data.get(KEPT_FILES) or []
    answers = 0
    for key, value in data.items():
        if key in _NOT_ANSWERS or key == KEPT_FILES or value in (None, "", [], {}, False):
            continue
        if key == "text" and data.get("skip") is not None:
            continue  # the kept sentence, offered again
        if key == "attachments" and value == kept_files:
            continue  # the kept message's files, offered again with it
        answers += 1
    return answers > 1


async def leave(message: Message, state: FSMContext) -> None:
    """«بازگشت» on a conversation's first step: the main menu. Nothing given is dropped: a
    look-up has nothing; a draft that holds answers (the citizen came back to the first step
    from further on, `holds_answers`) asks «رها کنم؟» first, as /start in the middle does;
    else what a draft may hold is the first step's own answer and the message a citizen sent
    in the menu, which is offered again."""
    current = await state.get_state()
    data = await state.get_data()
    if lookup_ended(current) is None and holds_answers(data):
        await message.answer(texts.ABANDON_QUESTION, reply_markup=keyboards.abandon())
        return
    await state.clear()
    await message.answer(
        lookup_ended(current) or texts.BACK_TO_MENU, reply_markup=keyboards.main_menu()
    )
    kept = data.get("text") if data.get("skip") is not None else None
    files = list(data.get(KEPT_FILES) or [])
    text = kept if isinstance(kept, str) else ""
    if text or files:
        await offer_kept_text(message, state, text, files)


async def cancel(message: Message, state: FSMContext) -> None:
    """Drop the draft at any step (or end a look-up) and show the menu."""
    current = await state.get_state()
    await state.clear()
    ended = lookup_ended(current)
    reply = texts.NOTHING_TO_CANCEL if current is None else ended or texts.CANCELLED
    await message.answer(reply, reply_markup=keyboards.main_menu())


async def forget(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """/forget, at any step or none: erase the name and phone remembered for this account;
    a step in progress is asked again (its keyboard no longer offers «همان قبلی»)."""
    erased = await services.forget_details(ui.platform, account_of(message), uow=deps.uow)
    await message.answer(texts.FORGOTTEN if erased else texts.NOTHING_TO_FORGET)
    if await state.get_state() is not None:
        await state.update_data(remember=False)  # the draft in hand files without remembering
        await prompts.reask(message, state, deps, ui)


async def start_midway(message: Message, state: FSMContext) -> None:
    """/start in the middle of a conversation: ask before throwing the draft away (a look-up
    has no draft: it ends, and the menu shows)."""
    ended = lookup_ended(await state.get_state())
    if ended is not None:
        await state.clear()
        await message.answer(ended, reply_markup=keyboards.main_menu())
        return
    await message.answer(texts.ABANDON_QUESTION, reply_markup=keyboards.abandon())


async def abandon_answer(
    query: CallbackQuery,
    callback_data: AbandonData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
) -> None:
    """Abandon the draft, or carry on where the citizen was."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    if await state.get_state() is None:
        await message.answer(texts.STALE_BUTTON, reply_markup=keyboards.main_menu())
        return
    if callback_data.answer == "yes":
        ended = lookup_ended(await state.get_state())  # an old «abandon?» under a look-up
        await state.clear()
        await message.answer(ended or texts.CANCELLED, reply_markup=keyboards.main_menu())
    else:
        await message.answer(texts.CONTINUING)
        await prompts.reask(message, state, deps, ui)


# --- edit, shared by the flows with a summary (confirming is filing.take_confirm) -------------


def edit_prompt(editable: dict[str, State]) -> tuple[str, ReplyKeyboardMarkup]:
    """The «which field?» question with one button per editable field."""
    return texts.ASK_EDIT_FIELD, keyboards.choices([texts.FIELD_LABELS[k] for k in editable])


async def take_edit(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    editable: dict[str, State],
) -> None:
    """Jump to the chosen field; the summary comes back right after it. The files already
    sent stay («پیوست‌ها» adds to them; «بازگشت» leaves them as they were)."""
    for key, target in editable.items():
        if message.text == texts.FIELD_LABELS[key]:
            await state.update_data(editing=True)
            await prompts.ask(target, message, state, deps, ui)
            return
    await prompts.reask(message, state, deps, ui, texts.ERR_PICK_BUTTON)
