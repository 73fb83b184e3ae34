"""Keyboards of the bot's own labels are built once and kept; one that carries a citizen's
details («همان قبلی: name، phone») is never kept in the process's memory."""

from __future__ import annotations

from bot.ui import keyboards, texts


def test_the_bots_own_keyboards_are_built_once() -> None:
    assert keyboards.main_menu() is keyboards.main_menu()
    assert keyboards.back_or_cancel() is keyboards.back_or_cancel()
    assert [b.text for b in keyboards.main_menu().keyboard[0]] == list(texts.MENU_ROWS[0])


def test_a_keyboard_with_a_citizens_details_is_not_kept() -> None:
    keyboards._reply_of_fixed_labels.cache_clear()
    label = "همان قبلی: علی رضایی، ۰۹۱۵۱۲۳۴۵۶۷"
    first, second = keyboards.same_as_before(label), keyboards.same_as_before(label)
    assert first.keyboard[0][0].text == label
    assert first is not second, "built for the one message, not kept"
    assert keyboards._reply_of_fixed_labels.cache_info().currsize == 0
