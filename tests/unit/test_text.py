"""desk.text: Persian normalisation of everything a citizen types."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from desk.text import fold, normalize, normalize_line, to_latin_digits, to_persian_digits

ZWNJ = "\u200c"

# What citizens' phones actually produce: Persian and Arabic letters, three digit scripts,
# Latin, whitespace of every kind, ZWNJ and the invisible marks the module strips.
TYPED = st.text(
    alphabet=st.one_of(
        st.sampled_from("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكىةۀ"),
        st.sampled_from("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩0123456789"),
        st.sampled_from("abcXYZ.,!؟،"),
        st.sampled_from(" \t\n\r\u00a0\u2009\u3000\u2028"),
        st.sampled_from(
            "\u200c\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
            "\u2060\u2066\u2067\u2068\u2069\ufeff\u00ad"
        ),
        st.characters(categories=["Cc"]),
    ),
    max_size=60,
)


def _bad_chars(text: str) -> list[str]:
    """Control characters normalize promises to remove: Cc except \\n, Cf except ZWNJ."""
    return [
        ch
        for ch in text
        if (unicodedata.category(ch) == "Cc" and ch != "\n")
        or (unicodedata.category(ch) == "Cf" and ch != ZWNJ)
    ]


# --- letters and digits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("كشاورزي", "کشاورزی"),  # Arabic kaf and yeh
        ("جهاد كشاورزي", "جهاد کشاورزی"),
        ("ة", "ه"),
    ],
)
def test_arabic_letters_become_persian(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_persian_and_arabic_indic_digits_become_ascii() -> None:
    assert normalize("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert normalize("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert normalize("کد ۱۲۳ و ٤٥٦") == "کد 123 و 456"
    assert to_latin_digits("۰۹۱۵-٤٥٦") == "0915-456"


def test_digits_false_keeps_persian_digits() -> None:
    assert normalize("سال ۱۴۰۵", digits=False) == "سال ۱۴۰۵"


# --- invisible and control characters ----------------------------------------------------------


@pytest.mark.parametrize(
    "mark",
    [
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u200e",  # LRM
        "\u200f",  # RLM
        "\ufeff",  # BOM
        "\u202a",  # LRE
        "\u202b",  # RLE
        "\u202c",  # PDF
        "\u202d",  # LRO
        "\u202e",  # RLO
        "\u2066",  # LRI
        "\u2067",  # RLI
        "\u2068",  # FSI
        "\u2069",  # PDI
        "\u2060",  # word joiner
        "\u00ad",  # soft hyphen
    ],
)
def test_invisible_marks_are_stripped(mark: str) -> None:
    assert normalize(f"{mark}سلام{mark}دنیا{mark}") == "سلامدنیا"


@pytest.mark.parametrize("ch", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_stripped(ch: str) -> None:
    assert normalize(f"a{ch}b") == "ab"


def test_tabs_become_spaces_and_carriage_returns_vanish() -> None:
    assert normalize("a\tb") == "a b"
    assert normalize("a\r\nb") == "a\nb"


# --- ZWNJ --------------------------------------------------------------------------------------


def test_zwnj_inside_a_word_is_kept() -> None:
    assert normalize("می\u200cروم") == "می\u200cروم"
    assert normalize("بیماری\u200cهای گیاهی") == "بیماری\u200cهای گیاهی"


def test_zwnj_runs_collapse_to_one() -> None:
    assert normalize("می\u200c\u200c\u200cروم") == "می\u200cروم"
    # a run broken only by stripped marks is still a run
    assert normalize("می\u200c\u200f\u200c\u200bروم") == "می\u200cروم"


def test_zwnj_at_word_edges_is_dropped() -> None:
    assert normalize("\u200cسلام\u200c") == "سلام"
    assert normalize("سلام\u200c دنیا") == "سلام دنیا"
    assert normalize("سلام \u200cدنیا") == "سلام دنیا"
    assert normalize("سلام\u200c\nدنیا") == "سلام\nدنیا"


# --- spaces and lines --------------------------------------------------------------------------


def test_spaces_collapse() -> None:
    assert normalize("  سلام    دنیا  ") == "سلام دنیا"
    assert normalize("a\u00a0\u2009\u3000b") == "a b"


def test_newlines_are_kept_and_lines_trimmed() -> None:
    assert normalize("خط اول  \n   خط دوم") == "خط اول\nخط دوم"
    assert normalize("a\n\nb") == "a\n\nb"


def test_many_blank_lines_collapse_to_one() -> None:
    assert normalize("a\n\n\n\n\nb") == "a\n\nb"
    assert normalize("a\n  \n \t \n\nb") == "a\n\nb"


def test_normalize_line_turns_newlines_into_spaces() -> None:
    assert normalize_line("علي\nرضايي\n") == "علی رضایی"


# --- to_persian_digits and fold ----------------------------------------------------------------


def test_to_persian_digits() -> None:
    assert to_persian_digits("0123456789") == "۰۱۲۳۴۵۶۷۸۹"
    assert to_persian_digits(1405) == "۱۴۰۵"
    assert to_persian_digits("کد 12-34") == "کد ۱۲-۳۴"
    assert to_latin_digits(to_persian_digits("9876543210")) == "9876543210"


def test_fold_matches_variants_of_the_same_words() -> None:
    assert fold("كشاورزي") == fold("کشاورزی")
    assert fold("  آب   و  آبیاری ") == fold("آب و آبیاری")
    assert fold("نهاده\u200cها") == "نهاده ها" == fold("نهاده ها")
    assert fold("Hello\nWORLD") == "hello world"
    assert fold("\u200fبیمه\u200e") == "بیمه"


# --- properties --------------------------------------------------------------------------------


@given(TYPED)
def test_normalize_is_idempotent_on_typed_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(TYPED)
def test_normalize_leaves_no_controls_in_typed_text(text: str) -> None:
    out = normalize(text)
    assert _bad_chars(out) == []
    assert ZWNJ * 2 not in out
    assert "  " not in out


@given(st.text(max_size=40))
@example("e\u200d\u0301")
def test_normalize_is_idempotent(text: str) -> None:
    # the example: NFC once ran before invisibles were stripped, composing only on pass two
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(alphabet=st.one_of(st.characters(), st.characters(categories=["Cc", "Cf"]))))
@example("a\u061cb")
def test_normalize_never_returns_control_characters(text: str) -> None:
    # the example: U+061C ARABIC LETTER MARK once slipped through the list of invisibles
    assert _bad_chars(normalize(text)) == []
