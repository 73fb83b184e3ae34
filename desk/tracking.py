"""Tracking codes: ten random digits, the last a Damm check digit.

Random, never sequential: a code says nothing about how many requests exist and
cannot be guessed from a neighbour's. The Damm check digit catches every single-digit
typo and every swap of two adjacent digits, so a mistyped code is told apart from an
unknown one without touching the database.
"""

from __future__ import annotations

import re
import secrets

from desk.text import to_latin_digits
from desk.validation import passes_national_checksum

LENGTH = 10

# The quasigroup of order 10 from H. Michael Damm's thesis (2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_SEPARATORS = re.compile(r"[\s\-_\u200c\u200f\u200e.]")


class MalformedCode(ValueError):
    """The text is not ten digits at all."""


class BadCheckDigit(ValueError):
    """Ten digits, but the last one does not match: almost surely a typo."""


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def is_valid(code: str) -> bool:
    """True when `code` is ten ASCII digits whose Damm checksum is zero."""
    return len(code) == LENGTH and code.isdigit() and check_digit(code) == "0"


def generate() -> str:
    """A fresh random code: a first digit from 1 to 8, eight more, then the check digit.

    A code never starts with 9 or 0 and never passes the national-code checksum, so nobody
    (a farmer reading it aloud, a clerk, the log filter that masks personal data) can take it
    for a mobile number written without its 0 or for a national code. About 7.3e8 codes remain.
    """
    while True:
        body = str(secrets.randbelow(8) + 1) + "".join(
            str(secrets.randbelow(10)) for _ in range(LENGTH - 2)
        )
        code = body + check_digit(body)
        if not passes_national_checksum(code):
            return code


def clean(text: str) -> str:
    """Strip what people put around a code: spaces, dashes, direction marks; digits to ASCII."""
    return _SEPARATORS.sub("", to_latin_digits(text.strip()))


def looks_like_code(text: str) -> bool:
    """True when a message is ten digits once cleaned: a look-up, not a chat message."""
    cleaned = clean(text)
    return len(cleaned) == LENGTH and cleaned.isascii() and cleaned.isdigit()


def parse(text: str) -> str:
    """Parse a code typed in Persian, Arabic-Indic or Latin digits, with spaces or dashes."""
    cleaned = clean(text)
    if not (len(cleaned) == LENGTH and cleaned.isascii() and cleaned.isdigit()):
        raise MalformedCode(text)
    if not is_valid(cleaned):
        raise BadCheckDigit(cleaned)
    return cleaned


_IN_TEXT = re.compile(r"(?<!\d)[1-9]\d{9}(?!\d)")


def find_in(text: str) -> str | None:
    """The first well-formed tracking code written in a text (any digits), or None."""
    for candidate in _IN_TEXT.findall(to_latin_digits(text)):
        if is_valid(candidate):
            return str(candidate)
    return None
