"""Every inline button's callback data, as typed `CallbackData` classes.

aiogram packs a class as ``prefix:field1:field2…`` in field declaration order, so each class
below declares its fields in the order of the strings the bot has always sent: a button already
in someone's chat keeps working. A handler takes its class's ``.filter()`` and gets the parsed
``callback_data``; a string that does not unpack (wrong prefix, wrong number of fields, a field
that does not validate) does not reach it. Each router that used to answer such a press in its
own way (quietly, or with «stale button») keeps a catch-all for its prefixes after the typed
handlers; any other press ends in `bot.handlers.fallback`.

Telegram caps callback data at 64 bytes; ``pack()`` refuses longer data, and a value holding
the separator ``:``.

========  ======================  ===================  =====================================
prefix    class                   example              pressed on
========  ======================  ===================  =====================================
sc        CardData                sc:claim:1234567890  a staff card: claim/transfer/ask/close/back,
                                                       «پاسخ آماده» (templates)
tp        TemplateData            tp:1234567890:0      a unit's ready answer picked (from 0)
ts        TemplateSendData        ts:1234567890:0:…    «ارسال همین متن»: send that ready answer
                                  (then :<text>:<answer>, two `digest`s)
fc        CardAgainData           fc:1234567890        /find: post the card again
st        TransferData            st:1234567890:legal  a unit in the transfer menu
sr        SkipReasonData          sr:1234567890        «no reason» for a transfer
sx        CloseData               sx:1234567890:spam   a reason to close without an answer
sy        CloseConfirmData        sy:1234567890:spam:1 close with it (1) or keep it open (0)
cl        ClarifyData             cl:1234567890        «reply to this question» (citizen)
rt        RateData                rt:1234567890:5      a 1-5 rating of an answer (citizen)
ro        ReopenData              ro:1234567890        «reopen» after a poor rating (citizen)
dr        DraftReadData           dr:3                 read a draft regulation
dc        DraftCommentData        dc:3                 comment on a draft
dx        DraftSectionData        dx:3:0               the section commented (0: the whole)
ds        SubscriptionData        ds:1                 news of drafts on (1) or off (0)
pu        PublishUnitData         pu:legal             /publish: the owning unit
pd        PublishDaysData         pd:14                /publish: the default days
pc        PublishConfirmData      pc:yes               /publish: confirm (yes) or cancel (no)
dy        DirectoryMenuData       dy:s                 directory: search, switchboard, menu (s o m)
dy        DirectoryUnitData       dy:u:legal           directory: a unit's officials
dy        DirectoryCardData       dy:c:12              directory: an official's contact card
lk        LikertData              lk:0:5               a survey question's 1-5
abandon   AbandonData             abandon:yes          /start midway: abandon (yes) or go on
kt        KeptTextData            kt:c:1a2b3c4d        a sentence in the menu: file it (c, s)
========  ======================  ===================  =====================================
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import AfterValidator, BeforeValidator

from desk.model import CloseReason


def _digits(value: str) -> str:
    """A tracking code as the bot always read it: digits (`str.isdigit`), kept as text."""
    if not value.isdigit():
        raise ValueError("digits wanted")
    return value


def _token(value: str) -> str:
    """A kept text's token: 8 lowercase hex digits."""
    if len(value) != 8 or any(ch not in "0123456789abcdef" for ch in value):
        raise ValueError("token wanted")
    return value


def _ascii_number(value: object) -> object:
    """Only ASCII digits, no sign, no space, no underscore (pydantic would take those)."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise ValueError("ASCII digits wanted")
        return int(value)
    return value


def _decimal_number(value: object) -> object:
    """Any decimal digits (`str.isdecimal`), as the directory always read a card's index."""
    if isinstance(value, str):
        if not value.isdecimal():
            raise ValueError("decimal digits wanted")
        return int(value)
    return value


def _python_int(value: object) -> object:
    """What `int()` takes, as the survey always read its buttons."""
    return int(value) if isinstance(value, str) else value


def _flag(value: object) -> object:
    """``1`` is on; anything else is off, as the subscription button always read it."""
    return value == "1" if isinstance(value, str) else value


def digest(text: str) -> str:
    """A short fingerprint of a text, for a button to name what it was drawn for (8 lowercase
    hex digits, as a `_token`): a press is checked against the text as it is now."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


Code = Annotated[str, AfterValidator(_digits)]
Token = Annotated[str, AfterValidator(_token)]
Number = Annotated[int, BeforeValidator(_ascii_number)]
DecimalNumber = Annotated[int, BeforeValidator(_decimal_number)]
LaxNumber = Annotated[int, BeforeValidator(_python_int)]
Flag = Annotated[bool, BeforeValidator(_flag)]

# --- staff cards (bot/handlers/staff.py) ---------------------------------------------------------


class CardData(CallbackData, prefix="sc"):
    """A button on a staff card; an unknown action is refused by the handler."""

    action: str
    code: str


class TransferData(CallbackData, prefix="st"):
    """A unit picked for a transfer; the handler checks the unit exists."""

    code: str
    unit: str


class SkipReasonData(CallbackData, prefix="sr"):
    """«بدون توضیح»: transfer with no reason (the state holds the code and the unit)."""

    code: str


class CloseData(CallbackData, prefix="sx"):
    """A reason to close a request without an answer."""

    code: str
    reason: CloseReason


class CloseConfirmData(CallbackData, prefix="sy"):
    """Under «… بسته شود؟» with the citizen's sentence: close (`go`) or keep it open."""

    code: str
    reason: CloseReason
    go: Flag


class TemplateData(CallbackData, prefix="tp"):
    """A unit's ready answer picked for a request: its place in the unit's `templates:`."""

    code: Code
    index: Number


class TemplateSendData(CallbackData, prefix="ts"):
    """«ارسال همین متن» under a ready answer shown for a request: send it as it is. `text` is
    the `digest` of the text shown, so the press sends that text or nothing (the rules may
    have changed since); `answer` is the `digest` of the request's answer when it was shown,
    so a press after another answer went out sends nothing."""

    code: Code
    index: Number
    text: Token
    answer: Token


class CardAgainData(CallbackData, prefix="fc"):
    """«نمایش دوباره کارت» under a /find result: post the request's card again."""

    code: Code


# --- citizen follow-ups (bot/handlers/followup.py) -----------------------------------------------


class ClarifyData(CallbackData, prefix="cl"):
    """«پاسخ به این پرسش» under a staff question."""

    code: Code


class RateData(CallbackData, prefix="rt"):
    """1-5 satisfaction under an answer."""

    code: Code
    score: Number


class ReopenData(CallbackData, prefix="ro"):
    """«بازگشایی درخواست» after an unsatisfied rating."""

    code: Code


# --- draft regulations (bot/handlers/drafts.py) --------------------------------------------------


class DraftReadData(CallbackData, prefix="dr"):
    """Read a draft's full text."""

    draft: Number


class DraftCommentData(CallbackData, prefix="dc"):
    """Comment on a draft."""

    draft: Number


class DraftSectionData(CallbackData, prefix="dx"):
    """The section commented on; 0 is the whole draft."""

    draft: Number
    section: Number


class SubscriptionData(CallbackData, prefix="ds"):
    """News of drafts on or off."""

    on: Flag


# --- /publish (bot/conversations/publish.py) -----------------------------------------------------


class PublishUnitData(CallbackData, prefix="pu"):
    """The unit owning a draft; the handler checks the unit exists."""

    unit: str


class PublishDaysData(CallbackData, prefix="pd"):
    """The default comment period (the handler uses the default, whatever the number)."""

    days: Number


class PublishConfirmData(CallbackData, prefix="pc"):
    """Publish (yes) or cancel (no)."""

    answer: Literal["yes", "no"]


# --- the directory (bot/handlers/directory.py) ---------------------------------------------------


class DirectoryMenuData(CallbackData, prefix="dy"):
    """«جستجو» (s), the switchboard's card (o) or «بازگشت» to the main menu (m)."""

    choice: Literal["s", "o", "m"]


class DirectoryUnitData(CallbackData, prefix="dy"):
    """A unit's officials: ``dy:u:<unit key>``."""

    kind: Literal["u"]
    unit: str


class DirectoryCardData(CallbackData, prefix="dy"):
    """An official's contact card: ``dy:c:<entry index>``."""

    kind: Literal["c"]
    index: DecimalNumber


# --- conversations (bot/conversations/) ----------------------------------------------------------


class LikertData(CallbackData, prefix="lk"):
    """A survey answer: question number (from 0), then 1-5."""

    question: LaxNumber
    value: LaxNumber


class AbandonData(CallbackData, prefix="abandon"):
    """Abandon the half-filled request (yes), or carry on (anything else)."""

    answer: str


class KeptTextData(CallbackData, prefix="kt"):
    """File the sentence typed in the menu as a complaint (c) or a suggestion (s); `token`
    names the kept sentence, so a press under an older offer never files a newer text."""

    flow: Literal["c", "s"]
    token: Token


ALL: tuple[type[CallbackData], ...] = (
    CardData,
    TransferData,
    SkipReasonData,
    CloseData,
    CloseConfirmData,
    TemplateData,
    TemplateSendData,
    CardAgainData,
    ClarifyData,
    RateData,
    ReopenData,
    DraftReadData,
    DraftCommentData,
    DraftSectionData,
    SubscriptionData,
    PublishUnitData,
    PublishDaysData,
    PublishConfirmData,
    DirectoryMenuData,
    DirectoryUnitData,
    DirectoryCardData,
    LikertData,
    AbandonData,
    KeptTextData,
)
