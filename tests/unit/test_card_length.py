"""A staff card never exceeds what the messengers deliver, whatever its inputs, and its markup
stays what the platform accepts."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.runtime.platforms import Renderer
from bot.sandbox.fakebotapi import _BALE_HTML, _HTML_TAG, _html_error
from bot.ui.render import staff_card
from desk.model import Contact, Kind, Platform, Request, Status
from desk.routing import load_rules
from desk.validation import message_length

RULES = load_rules(Path(__file__).resolve().parents[2] / "routing_rules.yaml")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LIMIT = 4096


def _visible(ui: Renderer, text: str) -> str:
    return html.unescape(_HTML_TAG.sub("", text)) if ui.html else text


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.BALE])
@pytest.mark.parametrize("answer", [None, "پاسخ <b>& " * 400])
def test_a_card_with_every_long_input_fits_and_its_markup_is_balanced(
    platform: Platform, answer: str | None
) -> None:
    ui = Renderer(platform)
    unit = "water_soil"
    chat = RULES.staff_chat(unit, platform)
    assert chat is not None
    long_name = "مریم <i>" + "ب" * 300
    request = Request(
        code="C-1405-0001",
        kind=Kind.COMPLAINT,
        status=Status.ANSWERED if answer else Status.ROUTED,
        text="شکایت & <x> 😀" * 300,  # over 3,000 units, with markup and surrogate pairs
        created_at=NOW,
        updated_at=NOW,
        contact=Contact(name=long_name, phone="09151234567"),
        platform=platform,
        unit=unit,
        claimed_by=f"{platform.value}:501 ({long_name})",
        answer=answer,
        answered_at=NOW if answer else None,
    )
    extra: dict[str, object] = {"from_unit": "agronomy", "by": long_name, "reason": "د" * 500}
    card = staff_card(ui, request, RULES, chat, NOW, extra)
    shown = _visible(ui, card)
    assert message_length(shown) <= LIMIT
    if ui.html:
        assert _html_error(card) is None
    else:
        assert not _BALE_HTML.search(card)
    assert "C-1405-0001" in shown or "۱۴۰۵" in shown
    assert "…" in shown  # the description (and the answer) were clipped, not the card cut
    if answer:
        assert "پاسخ" in shown.split("شکایت")[-1]  # the answer still has its place


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.BALE])
def test_a_short_card_is_not_clipped(platform: Platform) -> None:
    ui = Renderer(platform)
    chat = RULES.staff_chat("water_soil", platform)
    assert chat is not None
    request = Request(
        code="C-1405-0002",
        kind=Kind.COMPLAINT,
        status=Status.ROUTED,
        text="آب چاه قطع است.",
        created_at=NOW,
        updated_at=NOW,
        platform=platform,
        unit="water_soil",
    )
    card = staff_card(ui, request, RULES, chat, NOW)
    assert "آب چاه قطع است." in _visible(ui, card)
    assert "…" not in card
