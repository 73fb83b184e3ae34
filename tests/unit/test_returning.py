"""The «همان قبلی» button's label: short, the number in order, matched only against storage."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.conversations.common import pressed_same_as_before, same_as_before_label
from bot.ui import texts
from desk.ports import Remembered


def message(text: str | None) -> Any:
    return SimpleNamespace(text=text)


def test_the_label_holds_the_name_and_the_number_as_one_run_of_persian_digits() -> None:
    label = same_as_before_label(Remembered("نرگس امینی", "09151234567"))
    assert label == "همان قبلی: نرگس امینی، ۰۹۱۵۱۲۳۴۵۶۷"
    number = label.rsplit("، ", 1)[1]
    assert number.isdigit(), "one run of digits: no groups the bidi algorithm could swap"


def test_a_long_name_is_cut_so_the_button_stays_short() -> None:
    name = "محمدحسین عبدالرحیم‌زاده قهستانی بیرجندی"
    label = same_as_before_label(Remembered(name, "09151234567"))
    shown = label.removeprefix("همان قبلی: ").split("، ")[0]
    assert shown.endswith("…") and len(shown) <= texts.SAME_AS_BEFORE_NAME_MAX
    assert label.endswith("۰۹۱۵۱۲۳۴۵۶۷"), "the number is never cut"


def test_only_the_label_of_what_is_remembered_now_counts_as_pressed() -> None:
    details = Remembered("نرگس امینی", "09151234567")
    label = same_as_before_label(details)
    assert pressed_same_as_before(message(label), details)
    assert pressed_same_as_before(message(f"  {label} "), details)
    # a label with another number (typed, or an old keyboard) is no press of this one
    other = same_as_before_label(Remembered("نرگس امینی", "09351112233"))
    assert not pressed_same_as_before(message(other), details)
    assert not pressed_same_as_before(message(label), None), "nothing remembered: no press"
    assert not pressed_same_as_before(message(None), details)
