"""Keyboard builders: the main menu, step keyboards, Likert and yes/no buttons."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.ui import callbacks as cb
from bot.ui import texts
from desk.model import CloseReason
from desk.text import to_persian_digits

# the labels a kept keyboard may hold: the texts module's own, never a citizen's details (a
# «همان قبلی: name، phone» button) nor anything that changes with the routing rules
_FIXED_LABELS = frozenset(v for v in vars(texts).values() if isinstance(v, str))


def _reply(rows: Sequence[Sequence[str | KeyboardButton]]) -> ReplyKeyboardMarkup:
    if all(isinstance(b, str) and b in _FIXED_LABELS for row in rows for b in row):
        return _reply_of_fixed_labels(tuple(tuple(row) for row in rows))
    return _build_reply(rows)


@functools.lru_cache(maxsize=64)
def _reply_of_fixed_labels(rows: tuple[tuple[str, ...], ...]) -> ReplyKeyboardMarkup:
    """A keyboard of the bot's own labels, built once: each step sends the same few
    keyboards, and building one (a pydantic model per button) was a fiftieth of a step's
    CPU. Never changed after it is built (aiogram's models are frozen; it only reads it)."""
    return _build_reply(rows)


def _build_reply(rows: Sequence[Sequence[str | KeyboardButton]]) -> ReplyKeyboardMarkup:
    keyboard = [
        [b if isinstance(b, KeyboardButton) else KeyboardButton(text=b) for b in row]
        for row in rows
        if row
    ]
    return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True)


# the last row of every step's keyboard: one step back, or leave the conversation
NAV_ROW = (texts.BTN_BACK, texts.BTN_CANCEL)


def main_menu() -> ReplyKeyboardMarkup:
    """The six channels of the front office."""
    return _reply(texts.MENU_ROWS)


def choices(
    labels: Sequence[str], *, columns: int = 2, extra: Sequence[str] = ()
) -> ReplyKeyboardMarkup:
    """Buttons for a pick-one step, then optional extra buttons, then «بازگشت» «انصراف»."""
    rows: list[list[str]] = [list(labels[i : i + columns]) for i in range(0, len(labels), columns)]
    if extra:
        rows.append(list(extra))
    rows.append(list(NAV_ROW))
    return _reply(rows)


def back_or_cancel() -> ReplyKeyboardMarkup:
    """Just «بازگشت» and «انصراف», for free-text steps."""
    return _reply([NAV_ROW])


def back_only() -> ReplyKeyboardMarkup:
    """Just «بازگشت» (to the main menu), for a look-up that stays open, the directory search."""
    return _reply([[texts.BTN_BACK]])


def with_keep_answer(keyboard: ReplyKeyboardMarkup) -> ReplyKeyboardMarkup:
    """A step's keyboard after «بازگشت»: «ادامه با همان پاسخ قبلی» above its last row."""
    rows = [list(row) for row in keyboard.keyboard]
    keep = [KeyboardButton(text=texts.BTN_KEEP_ANSWER)]
    return ReplyKeyboardMarkup(keyboard=[*rows[:-1], keep, *rows[-1:]], resize_keyboard=True)


def same_as_before(label: str | None) -> ReplyKeyboardMarkup:
    """A returning citizen's «همان قبلی: …» above «بازگشت» «انصراف» (just those without one)."""
    return _reply([[label], NAV_ROW]) if label else back_or_cancel()


def phone_request() -> ReplyKeyboardMarkup:
    """The contact button, so one tap shares the citizen's own number."""
    return _reply([[KeyboardButton(text=texts.BTN_SHARE_PHONE, request_contact=True)], NAV_ROW])


def no_comment_or_cancel() -> ReplyKeyboardMarkup:
    """The survey's optional comment: «ثبت بدون توضیح» (not «رد کردن»), «بازگشت» «انصراف»."""
    return _reply([[texts.BTN_NO_COMMENT], NAV_ROW])


def skip_or_cancel() -> ReplyKeyboardMarkup:
    """The optional national code: «ادامه بدون کد ملی» (it names what is skipped)."""
    return _reply([[texts.BTN_NO_NATIONAL_CODE], NAV_ROW])


def attachments(received: int) -> ReplyKeyboardMarkup:
    """«بدون پیوست» before the first file, «پایان ارسال پیوست‌ها» after."""
    first = texts.BTN_DONE if received else texts.BTN_NO_ATTACHMENTS
    return _reply([[first], NAV_ROW])


def confirm() -> ReplyKeyboardMarkup:
    """Confirm, edit, go back or cancel a summary."""
    return _reply([[texts.BTN_CONFIRM], [texts.BTN_EDIT], NAV_ROW])


def anonymity(same_as_before: str | None = None) -> ReplyKeyboardMarkup:
    """Named, anonymous, or unnamed but answered here; a returning citizen's «همان قبلی: …»
    first."""
    rows: list[list[str]] = [[same_as_before]] if same_as_before else []
    return _reply(
        [
            *rows,
            [texts.BTN_WITH_NAME, texts.BTN_ANONYMOUS],
            [texts.BTN_UNNAMED_REPLY],
            NAV_ROW,
        ]
    )


def likert(question: int) -> InlineKeyboardMarkup:
    """1-5 buttons for survey question number `question`."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=label, callback_data=cb.LikertData(question=question, value=value).pack()
                )
                for value, label in reversed(list(enumerate(texts.LIKERT_LABELS, start=1)))
            ]
        ]
    )


def abandon() -> InlineKeyboardMarkup:
    """Yes / no under «abandon this draft?»."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.BTN_ABANDON, callback_data=cb.AbandonData(answer="yes").pack()
                ),
                InlineKeyboardButton(
                    text=texts.BTN_CONTINUE, callback_data=cb.AbandonData(answer="no").pack()
                ),
            ]
        ]
    )


def share_phone_only() -> ReplyKeyboardMarkup:
    """Contact button, back to the code, or the menu, after a status-only look-up."""
    return _reply([[KeyboardButton(text=texts.BTN_SHARE_PHONE, request_contact=True)], NAV_ROW])


# --- staff cards and citizen follow-ups ----------------------------------------------------------


def _inline(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
            if row
        ]
    )


def card_actions(
    code: str, *, claimed: bool, reachable: bool = True, templates: bool = False
) -> InlineKeyboardMarkup:
    """The buttons under an open request's card; «درخواست توضیح از متقاضی» only when there is
    a chat to ask in (`reachable`), «پاسخ آماده» only when the unit has ready answers."""
    first = [] if claimed else [(texts.BTN_CLAIM, cb.CardData(action="claim", code=code).pack())]
    ask = [(texts.BTN_ASK, cb.CardData(action="ask", code=code).pack())] if reachable else []
    ready = (
        [(texts.BTN_TEMPLATES, cb.CardData(action="templates", code=code).pack())]
        if templates
        else []
    )
    return _inline(
        [
            first,
            [(texts.BTN_TRANSFER, cb.CardData(action="transfer", code=code).pack()), *ask],
            [*ready, (texts.BTN_CLOSE, cb.CardData(action="close", code=code).pack())],
        ]
    )


def template_titles(code: str, titles: Sequence[str]) -> InlineKeyboardMarkup:
    """A unit's ready answers for a request, one a row, by their title."""
    return _inline(
        [[(title, cb.TemplateData(code=code, index=i).pack())] for i, title in enumerate(titles)]
    )


def template_send(code: str, index: int, text: str, answer: str) -> InlineKeyboardMarkup:
    """«ارسال همین متن» under a ready answer (`text`, the `index`-th of the unit's) shown for
    a request, whose answer then was `answer` (`cb.TemplateSendData`)."""
    data = cb.TemplateSendData(
        code=code, index=index, text=cb.digest(text), answer=cb.digest(answer)
    ).pack()
    return _inline([[(texts.BTN_SEND_TEMPLATE, data)]])


def card_again(code: str) -> InlineKeyboardMarkup:
    """«نمایش دوباره کارت» under the one request /find found."""
    return _inline([[(texts.BTN_CARD_AGAIN, cb.CardAgainData(code=code).pack())]])


def transfer_targets(code: str, units: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per unit (key, name), two a row, then «بازگشت»."""
    buttons = [(name, cb.TransferData(code=code, unit=key).pack()) for key, name in units]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(texts.BTN_BACK, cb.CardData(action="back", code=code).pack())])
    return _inline(rows)


def close_reasons(code: str) -> InlineKeyboardMarkup:
    """The reasons to close without an answer."""
    return _inline(
        [
            [(label, cb.CloseData(code=code, reason=CloseReason(key)).pack())]
            for key, label in texts.CLOSE_REASONS.items()
        ]
        + [[(texts.BTN_BACK, cb.CardData(action="back", code=code).pack())]]
    )


def close_confirm(code: str, reason: CloseReason) -> InlineKeyboardMarkup:
    """«بله، بسته شود» or «بازگشت» under the sentence the citizen will read."""
    return _inline(
        [
            [
                (texts.BTN_CONFIRM_CLOSE,
                 cb.CloseConfirmData(code=code, reason=reason, go=True).pack()),
                (texts.BTN_BACK, cb.CloseConfirmData(code=code, reason=reason, go=False).pack()),
            ]
        ]
    )  # fmt: skip


def no_reason(code: str) -> InlineKeyboardMarkup:
    """Skip the transfer reason."""
    return _inline([[(texts.BTN_NO_REASON, cb.SkipReasonData(code=code).pack())]])


def rating(code: str) -> InlineKeyboardMarkup:
    """1-5 satisfaction under an answer, one labelled button a row, «۵ عالی» first."""
    return _inline(
        [
            [(label, cb.RateData(code=code, score=i).pack())]
            for i, label in reversed(list(enumerate(texts.RATE_LABELS, 1)))
        ]
    )


def rated(code: str, score: int) -> InlineKeyboardMarkup:
    """In place of the rating buttons after a tap: the score recorded. Pressing it changes
    nothing (the desk keeps the first rating) and is answered that it is recorded."""
    label = texts.BTN_RATED.format(label=texts.RATE_LABELS[score - 1])
    return _inline([[(label, cb.RateData(code=code, score=score).pack())]])


def reply_to_question(code: str) -> InlineKeyboardMarkup:
    """Under a staff question to the citizen."""
    return _inline([[(texts.BTN_REPLY_QUESTION, cb.ClarifyData(code=code).pack())]])


def reopen(code: str) -> InlineKeyboardMarkup:
    """Offered after an unsatisfied rating."""
    return _inline([[(texts.BTN_REOPEN, cb.ReopenData(code=code).pack())]])


def kept_text(token: str) -> InlineKeyboardMarkup:
    """Under a sentence typed in the menu: file it as a complaint or as a suggestion."""
    return _inline(
        [
            [(texts.BTN_KEEP_AS_COMPLAINT, cb.KeptTextData(flow="c", token=token).pack())],
            [(texts.BTN_KEEP_AS_SUGGESTION, cb.KeptTextData(flow="s", token=token).pack())],
        ]
    )


# --- draft regulations ---------------------------------------------------------------------------


def draft_actions(draft_id: int) -> InlineKeyboardMarkup:
    """Read the full text, or comment."""
    return _inline(
        [
            [
                (texts.BTN_READ_DRAFT, cb.DraftReadData(draft=draft_id).pack()),
                (texts.BTN_COMMENT_DRAFT, cb.DraftCommentData(draft=draft_id).pack()),
            ]
        ]
    )


def commenter_roles() -> ReplyKeyboardMarkup:
    """Who the citizen comments as (one tap), not saying, «بازگشت» or «انصراف»."""
    names = list(texts.COMMENTER_ROLES.values())
    return _reply([names[:1], names[1:2], names[2:], [texts.BTN_ROLE_SKIP], NAV_ROW])


def draft_sections(draft_id: int, count: int) -> InlineKeyboardMarkup:
    """The whole draft, or one section."""
    buttons = [
        (
            texts.BTN_SECTION.format(n=to_persian_digits(i)),
            cb.DraftSectionData(draft=draft_id, section=i).pack(),
        )
        for i in range(1, count + 1)
    ]
    rows = [[(texts.BTN_WHOLE_DRAFT, cb.DraftSectionData(draft=draft_id, section=0).pack())]]
    rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return _inline(rows)


def subscription(subscribed: bool) -> InlineKeyboardMarkup:
    """Turn news of drafts on or off."""
    if subscribed:
        return _inline([[(texts.BTN_UNSUBSCRIBE, cb.SubscriptionData(on=False).pack())]])
    return _inline([[(texts.BTN_SUBSCRIBE, cb.SubscriptionData(on=True).pack())]])


def open_drafts(drafts: Sequence[tuple[int, str]], subscribed: bool) -> InlineKeyboardMarkup:
    """One row per open draft (read, comment), then the subscription toggle."""
    rows: list[list[tuple[str, str]]] = []
    for draft_id, title in drafts:
        short = title if len(title) <= 24 else title[:23] + "…"
        rows.append([(f"{texts.BTN_READ_DRAFT}: {short}", cb.DraftReadData(draft=draft_id).pack())])
        rows.append(
            [(f"{texts.BTN_COMMENT_DRAFT}: {short}", cb.DraftCommentData(draft=draft_id).pack())]
        )
    rows.append(
        [
            (texts.BTN_UNSUBSCRIBE, cb.SubscriptionData(on=False).pack())
            if subscribed
            else (texts.BTN_SUBSCRIBE, cb.SubscriptionData(on=True).pack())
        ]
    )
    return _inline(rows)


# --- /publish, in an admin chat --------------------------------------------------------------


def _publish_cancel_row() -> list[tuple[str, str]]:
    return [(texts.BTN_CANCEL, cb.PublishConfirmData(answer="no").pack())]


def publish_units(units: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """The owning unit of a draft: one (key, name) per row, then «انصراف»."""
    rows = [[(name, cb.PublishUnitData(unit=key).pack())] for key, name in units]
    return _inline([*rows, _publish_cancel_row()])


def publish_days(default: int) -> InlineKeyboardMarkup:
    """«۱۴ روز» (the default comment window) or «انصراف»; another number is typed."""
    days = cb.PublishDaysData(days=default).pack()
    return _inline([[(texts.BTN_DAYS_DEFAULT, days)], _publish_cancel_row()])


def publish_confirm() -> InlineKeyboardMarkup:
    """Under the preview: «تأیید و ارسال» or «انصراف»."""
    confirm = cb.PublishConfirmData(answer="yes").pack()
    return _inline([[(texts.BTN_CONFIRM, confirm)], _publish_cancel_row()])
