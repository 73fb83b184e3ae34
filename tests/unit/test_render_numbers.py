"""Phone numbers as people read them: one left-to-right run in Persian digits, on both
platforms, and only the bot's own marks (a citizen's are dropped where text comes in)."""

from __future__ import annotations

import pytest

from bot.runtime.platforms import Renderer
from bot.ui import render, texts
from desk.model import Platform
from desk.text import normalize

LRM = "\u200e"


def test_phone_text_is_marked_left_to_right_in_persian_digits() -> None:
    assert render.phone_text("056-32231500") == f"{LRM}۰۵۶-۳۲۲۳۱۵۰۰{LRM}"


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.BALE])
def test_the_marks_survive_rendering(platform: Platform) -> None:
    ui = Renderer(platform)
    shown = ui.fmt(texts.DIRECTORY_PHONE, phone=render.phone(ui, "056-32231500"))
    assert shown == f"تلفن: {LRM}۰۵۶-۳۲۲۳۱۵۰۰{LRM}"


def test_a_citizen_s_own_direction_marks_are_still_dropped() -> None:
    typed = "\u202eپروانه ۱۲۳۴\u2066\u200e"
    assert normalize(typed, digits=False) == "پروانه ۱۲۳۴"
