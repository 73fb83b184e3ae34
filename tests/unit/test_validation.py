"""desk.validation: phone numbers, national codes, names, descriptions."""

from __future__ import annotations

import random

import pytest

from desk import validation
from desk.text import to_persian_digits
from desk.validation import InvalidInput


def national_check_digit(body: str) -> int:
    """The documented algorithm, written independently of desk.validation."""
    r = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return r if r < 2 else 11 - r


def national_is_valid(code: str) -> bool:
    r = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    last = int(code[9])
    return (r < 2 and last == r) or (r >= 2 and last == 11 - r)


def _valid_codes() -> list[str]:
    rng = random.Random(1405)
    codes: list[str] = []
    remainders: set[int] = set()
    while len(codes) < 200 or not {0, 1} <= remainders:
        body = "".join(rng.choice("0123456789") for _ in range(9))
        code = body + str(national_check_digit(body))
        if len(set(code)) == 1:
            continue
        remainders.add(sum(int(body[i]) * (10 - i) for i in range(9)) % 11)
        codes.append(code)
    return codes


VALID_CODES = _valid_codes()


# --- mobile numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "09151234567",
        "+989151234567",
        "00989151234567",
        "989151234567",
        "9151234567",
        "۰۹۱۵۱۲۳۴۵۶۷",
        "٠٩١٥١٢٣٤٥٦٧",
        "+۹۸۹۱۵۱۲۳۴۵۶۷",
        "0915 123 4567",
        "0915-123-4567",
        "(0915) 123-4567",
        "+98 915 123 45 67",
        "۰۹۱۵ ۱۲۳ ۴۵۶۷",
        "\u200f۰۹۱۵۱۲۳۴۵۶۷\u200f",
        " 09151234567 \n",
    ],
)
def test_mobile_number_accepts_common_forms(typed: str) -> None:
    assert validation.mobile_number(typed) == "09151234567"


@pytest.mark.parametrize(
    "typed",
    [
        "05632123456",  # Birjand landline
        "02188888888",  # Tehran landline
        "5632123456",
        "0915123456",  # one digit short
        "091512345678",  # one digit too many
        "915123456",
        "0915abc4567",
        "شماره من",
        "",
        "+9809151234567",
        "08151234567",
    ],
)
def test_mobile_number_rejects(typed: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.mobile_number(typed)
    assert info.value.reason == "phone"


def test_mobile_number_returns_ascii_or_refuses() -> None:
    typed = "09" + "１５１２３４５６７"  # fullwidth digits after the prefix
    try:
        result = validation.mobile_number(typed)
    except InvalidInput:
        return
    assert result == "09151234567"


# --- national codes ----------------------------------------------------------------------------


def test_reference_algorithm_agrees_on_a_real_format_example() -> None:
    assert national_check_digit("049937089") == 9
    assert national_is_valid("0499370899")
    assert validation.national_code("0499370899") == "0499370899"


def test_generated_valid_codes_cover_both_branches() -> None:
    remainders = {sum(int(c[i]) * (10 - i) for i in range(9)) % 11 for c in VALID_CODES}
    assert {0, 1} <= remainders
    assert remainders & set(range(2, 11))


@pytest.mark.parametrize("code", VALID_CODES[:50])
def test_national_code_accepts_valid_codes(code: str) -> None:
    assert validation.national_code(code) == code


def test_national_code_agrees_with_the_reference_on_every_last_digit() -> None:
    for code in VALID_CODES:
        for last in "0123456789":
            candidate = code[:9] + last
            accepted = True
            try:
                validation.national_code(candidate)
            except InvalidInput:
                accepted = False
            assert accepted == (national_is_valid(candidate) and len(set(candidate)) > 1)


@pytest.mark.parametrize(
    "typed",
    ["۰۴۹۹۳۷۰۸۹۹", "٠٤٩٩٣٧٠٨٩٩", "049-937089-9", " 0499 370 899 ", "\u200f۰۴۹۹۳۷۰۸۹۹"],
)
def test_national_code_accepts_persian_digits_and_separators(typed: str) -> None:
    assert validation.national_code(typed) == "0499370899"


@pytest.mark.parametrize("digit", "0123456789")
def test_national_code_rejects_repeated_digits(digit: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.national_code(digit * 10)
    assert info.value.reason == "national_code"


def test_repdigits_are_rejected_even_when_the_checksum_holds() -> None:
    assert national_is_valid("1111111111")  # so the rule is what rejects it
    with pytest.raises(InvalidInput):
        validation.national_code("1111111111")


@pytest.mark.parametrize(
    "typed",
    ["0499370898", "049937089", "04993708990", "049937089x", "", "کد ملی", "12345678901"],
)
def test_national_code_rejects(typed: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.national_code(typed)
    assert info.value.reason == "national_code"


def test_national_code_returns_ascii_or_refuses() -> None:
    typed = "".join(chr(0x0966 + int(d)) for d in "0499370899")  # Devanagari
    try:
        result = validation.national_code(typed)
    except InvalidInput:
        return
    assert result == "0499370899"


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("علی رضایی", "علی رضایی"),
        ("  زهرا   احمدی ", "زهرا احمدی"),
        ("محمد\u200cحسین کریمی", "محمد\u200cحسین کریمی"),
        ("علي كريمي", "علی کریمی"),
        ("علی", "علی"),
        ("Sara Ahmadi", "Sara Ahmadi"),
        ("ی" * validation.NAME_MAX, "ی" * validation.NAME_MAX),
    ],
)
def test_person_name_accepts(typed: str, expected: str) -> None:
    assert validation.person_name(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "علی ۲",  # Persian digit, normalised to ASCII and refused
        "Ali2",
        "ab",
        "  ع ",
        "",
        "ی" * (validation.NAME_MAX + 1),
        "علی@رضایی",
        "علی؟",
    ],
)
def test_person_name_rejects(typed: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.person_name(typed)
    assert info.value.reason == "name"


# --- descriptions ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "   ", "\n\t "])
def test_description_empty(typed: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.description(typed)
    assert info.value.reason == "empty"


def test_description_too_short() -> None:
    with pytest.raises(InvalidInput) as info:
        validation.description("۱۲۳۴۵۶۷۸۹")
    assert info.value.reason == "too_short"
    assert info.value.details == {"min": 10}


def test_description_too_long() -> None:
    with pytest.raises(InvalidInput) as info:
        validation.description("آ" * 3001)
    assert info.value.reason == "too_long"
    assert info.value.details == {"max": 3000, "length": 3001}


@pytest.mark.parametrize("length", [10, 11, 2999, 3000])
def test_description_bounds_are_inclusive(length: int) -> None:
    text = "ب" * length
    assert validation.description(f"  {text}\n") == text


def test_description_custom_bounds() -> None:
    assert validation.description("خوب", minimum=1, maximum=validation.COMMENT_MAX) == "خوب"
    with pytest.raises(InvalidInput) as info:
        validation.description("x" * 1001, minimum=1, maximum=validation.COMMENT_MAX)
    assert info.value.details == {"max": 1000, "length": 1001}


def test_persian_digits_helper_round_trip_in_phone() -> None:
    assert validation.mobile_number(to_persian_digits("09151234567")) == "09151234567"


@pytest.mark.parametrize(
    "text",
    [
        "آب چاه ما قطع شده و کسی جواب نمی‌دهد",
        "کود اوره در شهرستان ما پیدا نمی‌شود",
        "the water pump has been broken for weeks",
    ],
)
def test_a_sentence_reads_like_a_request(text: str) -> None:
    assert validation.looks_like_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "سلام",
        "سلام خوبی",
        "asdfgh",
        "۱۲ ۳۴ ۵۶ ۷۸",
        "/start آب چاه ما قطع شده",
        "آب آب آب",
        "؟؟؟ !!! ...",
    ],
)
def test_short_or_not_words_is_no_request(text: str) -> None:
    assert not validation.looks_like_request(text)
