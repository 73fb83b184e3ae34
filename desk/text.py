"""Persian text normalisation for everything a citizen types."""

from __future__ import annotations

import re
import unicodedata

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

_TO_LATIN = str.maketrans(_PERSIAN_DIGITS + _ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", _PERSIAN_DIGITS)

# Arabic letters that Persian keyboards on some phones still produce.
_LETTERS = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf
        "ة": "ه",  # teh marbuta
        "ۀ": "هٔ",
    }
)

# ZWNJ (U+200C) is a real Persian letter separator and is kept, once; every other format
# character (zero-width spaces and joiners, bidi marks and overrides, BOM, soft hyphen, the
# Arabic letter mark) only hides text or flips its direction, and is dropped.
ZWNJ = "\u200c"
_ZWNJ_RUN = re.compile("\u200c{2,}")
_ZWNJ_EDGE = re.compile(r"\u200c(?=\s|$)|(?:(?<=\s)|^)\u200c")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def to_latin_digits(text: str) -> str:
    """Turn Persian and Arabic-Indic digits into ASCII digits."""
    return text.translate(_TO_LATIN)


def to_persian_digits(text: str | int) -> str:
    """Turn ASCII digits into Persian digits, for display."""
    return str(text).translate(_TO_PERSIAN)


def _drop_controls(text: str) -> str:
    """Remove control and format characters except newlines and ZWNJ (tabs become spaces)."""
    out = []
    for ch in text:
        if ch in ("\n", ZWNJ):
            out.append(ch)
        elif ch in "\t\f\v\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str, *, digits: bool = True) -> str:
    """Normalise free text: Persian letters, ASCII digits, no invisible controls, tidy spaces."""
    # invisible characters go first, so NFC sees the letters as they will stay
    text = _drop_controls(text)
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_LETTERS)
    if digits:
        text = to_latin_digits(text)
    text = _ZWNJ_RUN.sub("\u200c", text)
    text = _ZWNJ_EDGE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def normalize_line(text: str) -> str:
    """Normalise a one-line answer (a name, a phone, a code): newlines become spaces."""
    return normalize(text.replace("\n", " "))


def fold(text: str) -> str:
    """Key for comparing a citizen's words with a button label or a search term."""
    return normalize_line(text).replace("\u200c", " ").casefold()


def squeeze(text: str) -> str:
    """A name as a search compares it: no spaces, no ZWNJ, ASCII letters in lower case (what
    SQL's lower() does on every backend), so «علی‌رضا»، «علی رضا» and «علیرضا» are one."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in text if ch not in (" ", ZWNJ))


PROFILE_NAME_MAX = 64  # what Telegram allows for a first name; a full name is clipped to it


def profile_name(text: str) -> str:
    """A name from a messenger profile, tidied like typed text: no bidi overrides, one line."""
    return normalize_line(text)[:PROFILE_NAME_MAX].strip()
