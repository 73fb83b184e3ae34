"""desk.tracking: random ten-digit codes with a Damm check digit."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.redact import redact
from desk import tracking, validation
from desk.text import to_persian_digits
from desk.tracking import BadCheckDigit, MalformedCode, check_digit, is_valid, looks_like_code

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
BODIES = ["123456789", "100000000", "999999999", "572000000", "314159265", "271828182"]
CODES = [body + check_digit(body) for body in BODIES]
CODE = CODES[0]

body_strategy = st.text(alphabet="0123456789", min_size=9, max_size=9)


def test_check_digit_matches_published_damm_examples() -> None:
    # Damm (2004) / Wikipedia's worked example: 572 -> check digit 4.
    assert check_digit("572") == "4"
    assert is_valid("5724".rjust(10, "0"))
    assert check_digit("") == "0"


def test_generated_codes_have_the_documented_shape() -> None:
    for _ in range(1000):
        code = tracking.generate()
        assert len(code) == tracking.LENGTH == 10
        assert code.isascii() and code.isdigit()
        assert code[0] not in "09", "never a mobile number without its 0"
        assert not validation.passes_national_checksum(code), "never a national code"
        assert redact(f"filed {code}") == f"filed {code}", "readable in the logs"
        assert is_valid(code)
        assert tracking.parse(code) == code


def test_generated_codes_are_random_not_sequential() -> None:
    codes = [tracking.generate() for _ in range(10_000)]
    # 7.3e8 possible codes: ~0.06 collisions are expected among 10,000 (birthday bound), so a
    # handful are tolerated to keep the test from flaking; a counter would give none anyway.
    assert len(set(codes)) >= 9_990
    assert codes != sorted(codes)
    assert codes != sorted(codes, reverse=True)
    numbers = [int(c) for c in codes]
    assert not any(abs(b - a) == 1 for a, b in itertools.pairwise(numbers))
    # every position varies: no fixed prefix, no counter in the low digits
    for position in range(10):
        seen = {c[position] for c in codes}
        assert seen == set("12345678" if position == 0 else "0123456789")


@pytest.mark.parametrize("code", CODES)
def test_every_single_digit_substitution_is_detected(code: str) -> None:
    assert is_valid(code)
    for position in range(10):
        for digit in "0123456789":
            if digit == code[position]:
                continue
            typo = code[:position] + digit + code[position + 1 :]
            assert not is_valid(typo), typo
            with pytest.raises(BadCheckDigit):
                tracking.parse(typo)


@pytest.mark.parametrize("code", CODES)
def test_every_adjacent_transposition_is_detected(code: str) -> None:
    for i in range(9):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        assert not is_valid(swapped), swapped


@given(body_strategy, st.integers(0, 9), st.integers(1, 9))
def test_any_single_digit_error_is_detected(body: str, position: int, shift: int) -> None:
    code = body + check_digit(body)
    wrong = str((int(code[position]) + shift) % 10)
    assert not is_valid(code[:position] + wrong + code[position + 1 :])


@given(body_strategy, st.integers(0, 8))
def test_any_adjacent_transposition_is_detected(body: str, i: int) -> None:
    code = body + check_digit(body)
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert is_valid(swapped) == (code[i] == code[i + 1])


# --- parse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        CODE,
        to_persian_digits(CODE),
        CODE.translate(ARABIC_INDIC),
        f"  {CODE}\n",
        f"{CODE[:3]} {CODE[3:6]} {CODE[6:]}",
        f"{CODE[:3]}-{CODE[3:6]}-{CODE[6:]}",
        to_persian_digits(f"{CODE[:5]} - {CODE[5:]}"),
        f"\u200f{to_persian_digits(CODE)}\u200f",
        f"\u200e{CODE[:5]}\u200f{CODE[5:]}\u200e",
        f"{CODE[:5]}\u200c{CODE[5:]}",
        f"{CODE[:5]}_{CODE[5:]}",
        f"{CODE[:5]}.{CODE[5:]}",
        to_persian_digits(CODE[:5]) + CODE[5:].translate(ARABIC_INDIC),
    ],
)
def test_parse_accepts_what_people_type(typed: str) -> None:
    assert tracking.parse(typed) == CODE
    assert looks_like_code(typed)


@pytest.mark.parametrize(
    "typed",
    [
        CODE[:9],
        CODE + "0",
        "",
        "   ",
        "12345abcde",
        "۱۲۳۴۵۶۷۸۹",
        CODE[:5] + "x" + CODE[6:],
        "".join(chr(0x0966 + int(d)) for d in CODE),  # Devanagari digits: not ours
        "سلام",
    ],
)
def test_parse_refuses_what_is_not_a_code(typed: str) -> None:
    with pytest.raises(MalformedCode):
        tracking.parse(typed)
    assert not looks_like_code(typed)


def test_parse_reports_a_wrong_check_digit_separately() -> None:
    wrong = CODE[:9] + str((int(CODE[9]) + 1) % 10)
    with pytest.raises(BadCheckDigit) as info:
        tracking.parse(to_persian_digits(wrong))
    assert str(info.value) == wrong
    assert not isinstance(info.value, MalformedCode)


def test_looks_like_code_is_about_shape_not_checksum() -> None:
    wrong = CODE[:9] + str((int(CODE[9]) + 1) % 10)
    assert looks_like_code(wrong)
    assert not looks_like_code("09151234567")  # a phone number has 11 digits
    assert not looks_like_code("سلام، پیگیری درخواست")


def test_find_in_picks_the_code_written_on_a_card_and_nothing_else() -> None:
    code = tracking.generate()
    card = f"شکایت | کد رهگیری {to_persian_digits(code)}\nتلفن: ۰۹۱۵۱۲۳۴۵۶۷"
    assert tracking.find_in(card) == code
    assert tracking.find_in(f"کد {code[:9]}") is None, "too short"
    assert tracking.find_in("تلفن ۰۹۱۵۱۲۳۴۵۶۷ و شماره ۹۱۵۱۲۳۴۵۶۷۸۹") is None, "phones are no codes"
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    assert tracking.find_in(f"کد رهگیری {wrong}") is None, "the check digit must fit"
