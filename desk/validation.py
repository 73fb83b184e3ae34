"""Validation of what a citizen types: phone numbers, national codes, lengths."""

from __future__ import annotations

import re

from desk.text import normalize_line

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 3000
NAME_MIN = 3
NAME_MAX = 80
COMMENT_MAX = 1000
# a staff answer or question travels to the citizen inside a ~300-character frame; messengers
# take 4,096 (UTF-16 units) per message
STAFF_TEXT_MAX = 3500
# a transfer reason or a draft's closing note rides on a card or a caption beside other text
STAFF_NOTE_MAX = 500

_MOBILE = re.compile(r"^(?:\+?98|0098|0)?(9[0-9]{9})$")
_NAME = re.compile(r"^[^\d@#$%^&*()_+=<>{}\[\]|\\/~`!?؟;:\"]+$")


class InvalidInput(ValueError):
    """What the citizen typed does not fit the step; `reason` names the rule broken."""

    def __init__(self, reason: str, **details: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def mobile_number(text: str) -> str:
    """Parse an Iranian mobile number in any common form into 09xxxxxxxxx."""
    digits = re.sub(r"[\s\-()]", "", normalize_line(text))
    match = _MOBILE.match(digits)
    if not match:
        raise InvalidInput("phone")
    return "0" + match.group(1)


def passes_national_checksum(code: str) -> bool:
    """True when `code` is ten ASCII digits, not one digit ten times, whose last digit is the
    Iranian national code's check digit."""
    if not re.fullmatch(r"[0-9]{10}", code) or len(set(code)) == 1:
        return False
    remainder = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    return int(code[9]) == (remainder if remainder < 2 else 11 - remainder)


def national_code(text: str) -> str:
    """Check an Iranian national code (کد ملی): ten digits and its check digit."""
    code = re.sub(r"[\s\-]", "", normalize_line(text))
    if not passes_national_checksum(code):
        raise InvalidInput("national_code")
    return code


def person_name(text: str) -> str:
    """A person's name: letters and spaces, 3 to 80 characters."""
    name = normalize_line(text)
    if not NAME_MIN <= len(name) <= NAME_MAX or not _NAME.match(name):
        raise InvalidInput("name")
    return name


def description(
    text: str, *, minimum: int = DESCRIPTION_MIN, maximum: int = DESCRIPTION_MAX
) -> str:
    """Free text between `minimum` and `maximum` characters after normalisation.

    Characters are counted as Telegram and Bale count them (UTF-16 code units: an emoji is
    two), so a text that passes always fits, with the summary around it, in one message."""
    body = text.strip()
    if not body:
        raise InvalidInput("empty")
    length = message_length(body)
    if length < minimum:
        raise InvalidInput("too_short", min=minimum)
    if length > maximum:
        raise InvalidInput("too_long", max=maximum, length=length)
    return body


def message_length(text: str) -> int:
    """The length of a text as the messengers count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


REQUEST_MIN_WORDS = 3


def looks_like_request(text: str) -> bool:
    """Whether a message nobody expected reads like a complaint or a suggestion: a sentence of
    at least REQUEST_MIN_WORDS words, mostly letters, long enough for a description and no
    command. «آب چاه ما قطع شده» is one; «سلام»، «asdfgh»، «۱۲۳ ۴۵۶ ۷۸۹» and «/help» are not."""
    body = text.strip()
    if not body or body.startswith("/"):
        return False
    words = [w for w in body.split() if sum(ch.isalpha() for ch in w) >= 2]
    if len(words) < REQUEST_MIN_WORDS:
        return False
    letters = sum(ch.isalpha() for ch in body)
    visible = sum(not ch.isspace() for ch in body)
    if letters * 2 < visible:
        return False
    try:
        description(body)
    except InvalidInput:
        return False
    return True
