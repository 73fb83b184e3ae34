"""Texts on a card give way to the messengers' 4,096 limit without breaking characters or markup."""

from __future__ import annotations

from bot.runtime.platforms import Renderer
from bot.ui.render import _visible_length, clip
from desk.model import Platform
from desk.validation import message_length


def test_clip_keeps_a_short_text_and_cuts_a_long_one_on_characters() -> None:
    assert clip("سلام", 10) == "سلام"
    cut = clip("😀" * 10, 7)  # emoji are two units each: three fit with the «…»
    assert cut == "😀😀😀…"
    assert message_length(cut) <= 7


def test_visible_length_counts_what_telegram_shows_not_the_markup() -> None:
    telegram, bale = Renderer(Platform.TELEGRAM), Renderer(Platform.BALE)
    shown = telegram.fmt("{a} و {b}", a="<b>&", b="x")
    assert _visible_length(telegram, telegram.bold("ab") + shown) == len("ab<b>& و x")
    assert _visible_length(bale, "abc") == 3
