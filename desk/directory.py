"""The contact directory behind «تماس با ما»: loaded from YAML, validated, searched.

Like the routing rules, the file is edited by an operator, so every mistake is reported with
the file name and the line. Units are the routing rules' units: one list of units, one spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from desk.routing import RoutingRules, RulesError, _at, load_yaml
from desk.text import fold, normalize, to_latin_digits


class DirectoryError(RulesError):
    """The directory file is wrong; the message names the line and what to fix."""


# A button's callback_data may carry 64 bytes; "dy:u:" takes five of them.
_MAX_UNIT_KEY = 64 - len("dy:u:")

_OFFICE_FIELDS = ("address", "postal_code", "switchboard", "hours", "email")
_ENTRY_FIELDS = ("unit", "role", "name", "phone", "mobile", "email")
_PHONE_CHARS = re.compile(r"[0-9+\s\-]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
MIN_TERM = 2  # letters or digits in a search term; one letter would match nearly everyone
_PHONE_HINT = 'write it with the area code, e.g. +98 56 3223 1500 or "056-32231500"'


@dataclass(frozen=True, slots=True)
class Office:
    """The organisation itself: where it is, its switchboard, when it works."""

    address: str
    switchboard: str  # canonical +98...
    hours: str
    postal_code: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One manager or official: the unit, the post, the person and how to reach them."""

    index: int  # position in the file; buttons carry it
    unit: str
    unit_name: str
    role: str
    name: str
    phone: str  # canonical +98...
    email: str | None = None
    mobile: str | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Directory:
    """The organisation's contact details and its directory of officials."""

    office: Office
    entries: tuple[Entry, ...]
    _keys: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = tuple(
            tuple(
                _squash(v)
                for v in (
                    e.name,
                    e.role,
                    e.unit_name,
                    national(e.phone),
                    national(e.mobile) if e.mobile else "",
                    e.email or "",
                )
                if v
            )
            for e in self.entries
        )
        object.__setattr__(self, "_keys", keys)

    def units(self) -> list[tuple[str, str]]:
        """(key, Persian name) of every unit with entries, in the order they first appear."""
        seen: dict[str, str] = {}
        for entry in self.entries:
            seen.setdefault(entry.unit, entry.unit_name)
        return list(seen.items())

    def by_unit(self, key: str) -> list[Entry]:
        """The entries of one unit, in file order ([] for a unit without entries)."""
        return [e for e in self.entries if e.unit == key]

    def entry(self, index: int) -> Entry | None:
        """The entry at a position in the file, or None (a stale button after an edit)."""
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def search(self, term: str) -> list[Entry]:
        """Entries whose name, role, unit, number or e-mail contain every word of the term.

        Both sides are folded (Arabic ي/ك, digits, ZWNJ and spaces, hamza and madda forms), so
        «مدير», «عربزاده» or «۱۵۰۱» find «مدیر», «عرب‌زاده» and +98 56 3223 1501.
        """
        words = search_words(term)
        if not searchable(term):
            return []
        return [
            entry
            for entry, keys in zip(self.entries, self._keys, strict=True)
            if all(any(word in key for key in keys) for word in words)
        ]


# --- search keys ----------------------------------------------------------------------------

# Beyond desk.text.fold: letters people type one way or another in the same word
# («رئیس» / «رییس», «آب» / «اب»), vowel marks and the tatweel that only stretches a word.
_SEARCH_LETTERS = str.maketrans(
    {"آ": "ا", "أ": "ا", "إ": "ا", "ٱ": "ا", "ئ": "ی", "ؤ": "و", "ء": None, "ـ": None}
)
_MARKS = re.compile("[\u064b-\u065f\u0670]")
_NOT_WORD = re.compile(r"[\W_]+")


def search_words(text: str) -> list[str]:
    """The words of a search term, folded for matching; [] when it has no letter or digit."""
    key = _MARKS.sub("", fold(text)).translate(_SEARCH_LETTERS)
    return [w for w in _NOT_WORD.sub(" ", key).split() if w]


def searchable(term: str) -> bool:
    """Whether a term is worth searching: at least MIN_TERM letters or digits."""
    return len("".join(search_words(term))) >= MIN_TERM


def _squash(text: str) -> str:
    """One field as a search key: folded words run together, so spacing and ZWNJ never matter."""
    return "".join(search_words(text))


# --- phone numbers --------------------------------------------------------------------------


def parse_phone(value: str, *, mobile: bool = False) -> str:
    """An Iranian number with its area code (or a mobile) as +98XXXXXXXXXX; ValueError if not."""
    text = to_latin_digits(value).strip()
    if not _PHONE_CHARS.fullmatch(text):
        raise ValueError("only digits, +, spaces and dashes are allowed")
    if "+" in text[1:]:
        raise ValueError("a + may only start the number")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("98"):
            raise ValueError("only Iranian numbers (+98) are accepted")
        digits = "0" + digits[2:]
    elif digits.startswith("0098"):
        digits = "0" + digits[4:]
    if len(digits) != 11 or not digits.startswith("0") or digits[1] == "0":
        raise ValueError("it needs the area code and 11 digits in all")
    if mobile and not digits.startswith("09"):
        raise ValueError("a mobile number starts with 09 (or +98 9)")
    return "+98" + digits[1:]


def national(phone: str) -> str:
    """+985632231500 → 05632231500."""
    return "0" + phone[3:] if phone.startswith("+98") else phone


def display_phone(phone: str) -> str:
    """How a number is written for citizens: 056-32231500, 0915-561-2040 (ASCII digits).

    Dashes, not spaces, so the number reads as one; in right-to-left text the groups would
    still swap places, which bot.ui.render.phone prevents by marking the number left-to-right.
    """
    digits = national(phone)
    if len(digits) != 11:
        return digits
    if digits.startswith("09"):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    return f"{digits[:3]}-{digits[3:]}"


# --- loading --------------------------------------------------------------------------------


def _text(item: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DirectoryError(f"{_at(item)}: '{key}' is missing")
        return None
    if not isinstance(value, str):
        raise DirectoryError(f"{_at(item, key)}: '{key}' must be text (got {value!r})")
    # Persian letters as the bot writes them; digits stay as typed and are shown in Persian
    return normalize(value.replace("\n", " "), digits=False)


def _phone(item: dict[str, Any], key: str, *, required: bool = True, mobile: bool = False) -> Any:
    value = item.get(key)
    if value is None:
        if required:
            raise DirectoryError(f"{_at(item)}: '{key}' is missing")
        return None
    if not isinstance(value, str):
        # YAML reads 05632231500 as a number (and 0-prefixed digits as octal): the zero is lost
        raise DirectoryError(f"{_at(item, key)}: {key} {value!r} must be text: {_PHONE_HINT}")
    try:
        return parse_phone(value, mobile=mobile)
    except ValueError as exc:
        raise DirectoryError(f"{_at(item, key)}: {key} '{value}': {exc}; {_PHONE_HINT}") from None


def _email(item: dict[str, Any]) -> str | None:
    value = item.get("email")
    if value is None:
        return None
    if not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()):
        raise DirectoryError(
            f"{_at(item, 'email')}: email {value!r} is not an e-mail address (name@example.ir)"
        )
    return value.strip()


def _known_fields(item: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in item:
        if key in ("__line__", "__lines__"):
            continue
        if key not in allowed:
            raise DirectoryError(
                f"{_at(item, key)}: unknown field '{key}' in {what} (use {', '.join(allowed)})"
            )


def _office(data: dict[str, Any]) -> Office:
    item = data.get("office")
    if not isinstance(item, dict):
        raise DirectoryError(
            f"{_at(data, 'office')}: 'office' is missing: it holds address, switchboard and hours"
        )
    _known_fields(item, _OFFICE_FIELDS, "office")
    postal = item.get("postal_code")
    if postal is not None:
        postal = to_latin_digits(str(postal)).replace("-", "").replace(" ", "")
        if not re.fullmatch(r"[0-9]{10}", postal):
            raise DirectoryError(f"{_at(item, 'postal_code')}: postal_code must be ten digits")
    address, hours = _text(item, "address"), _text(item, "hours")
    assert address is not None and hours is not None
    return Office(
        address=address,
        switchboard=_phone(item, "switchboard"),
        hours=hours,
        postal_code=postal,
        email=_email(item),
    )


def parse_directory(data: Any, rules: RoutingRules) -> Directory:
    """Build and validate the directory from parsed YAML (mappings carry '__line__')."""
    if not isinstance(data, dict):
        raise DirectoryError("the file must be a mapping with 'office' and 'entries'")
    _known_fields(data, ("office", "entries"), "the file")
    office = _office(data)
    items = data.get("entries")
    if not isinstance(items, list) or not items:
        raise DirectoryError(f"{_at(data, 'entries')}: 'entries' must be a non-empty list")
    entries: list[Entry] = []
    seen: dict[tuple[str, str, str], int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise DirectoryError(f"'entries': every entry must be a mapping ({item!r})")
        _known_fields(item, _ENTRY_FIELDS, "an entry")
        unit = item.get("unit")
        if not isinstance(unit, str) or not unit:
            raise DirectoryError(f"{_at(item)}: 'unit' is missing")
        if unit not in rules.units:
            raise DirectoryError(
                f"{_at(item, 'unit')}: unknown unit '{unit}' (use a unit key of the routing rules)"
            )
        if len(unit.encode()) > _MAX_UNIT_KEY:
            raise DirectoryError(
                f"{_at(item, 'unit')}: unit key '{unit}' is too long for a button "
                f"(at most {_MAX_UNIT_KEY} characters)"
            )
        role, name = _text(item, "role"), _text(item, "name")
        assert role is not None and name is not None
        line = int(item["__line__"])
        same = (unit, fold(role), fold(name))
        if same in seen:
            raise DirectoryError(
                f"line {line}: the same unit, role and name as the entry on line {seen[same]}"
            )
        seen[same] = line
        entries.append(
            Entry(
                index=len(entries),
                unit=unit,
                unit_name=rules.units[unit].name,
                role=role,
                name=name,
                phone=_phone(item, "phone"),
                email=_email(item),
                mobile=_phone(item, "mobile", required=False, mobile=True),
                line=line,
            )
        )
    return Directory(office=office, entries=tuple(entries))


def load_directory(path: str | Path, rules: RoutingRules) -> Directory:
    """Read and validate a directory file; errors are prefixed with the file name."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(
            f"{path}: cannot read the contact directory ({exc.strerror})"
        ) from None
    try:
        return parse_directory(load_yaml(text), rules)
    except RulesError as exc:  # DirectoryError, or a duplicate key found by the shared loader
        raise DirectoryError(f"{path}, {exc}") from None
    except yaml.YAMLError as exc:
        raise DirectoryError(f"{path}: not valid YAML: {exc}") from None
