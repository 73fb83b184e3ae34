"""Who commented on a draft, as staff read it: the card's lines, the digest's counts per role,
the workbook's column; a long or hostile draft title keeps the card within the limit."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.runtime.platforms import Renderer
from bot.sandbox.fakebotapi import _HTML_TAG, _html_error
from bot.ui import texts
from bot.ui.render import draft_digest, role_counts, staff_card
from bot.ui.workbooks import comments_workbook
from desk.model import Contact, Draft, Kind, Platform, Request, Status
from desk.routing import load_rules
from desk.validation import message_length

RULES = load_rules(Path(__file__).resolve().parents[2] / "routing_rules.yaml")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _draft(title: str = "دستورالعمل آب") -> Draft:
    return Draft(title=title, summary="بند یک\n\nبند دو", unit="water_soil", opens_at=NOW,
                 closes_at=NOW, file_name="a.pdf", id=3)  # fmt: skip


def _comment(code: str, role: str | None, section: int = 1, text: str = "نظر من") -> Request:
    return Request(code=code, kind=Kind.COMMENT, status=Status.ROUTED, text=text,
                   created_at=NOW, updated_at=NOW, contact=Contact(name="علی"),
                   platform=Platform.BALE, unit="water_soil", draft_id=3, section=section,
                   commenter_role=role)  # fmt: skip


def _visible(ui: Renderer, text: str) -> str:
    return html.unescape(_HTML_TAG.sub("", text)) if ui.html else text


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.BALE])
def test_a_comment_card_names_the_draft_the_section_and_the_role(platform: Platform) -> None:
    ui = Renderer(platform)
    chat = RULES.staff_chat("water_soil", platform)
    assert chat is not None
    card = _visible(ui, staff_card(ui, _comment("1", "official", 2), RULES, chat, NOW,
                                   draft=_draft()))  # fmt: skip
    assert "پیش‌نویس: «دستورالعمل آب»" in card
    assert "بخش: بخش ۲" in card
    assert f"به‌عنوان: {texts.COMMENTER_ROLES['official']}" in card
    unsaid = _visible(ui, staff_card(ui, _comment("2", None, 0), RULES, chat, NOW,
                                     draft=_draft()))  # fmt: skip
    assert f"به‌عنوان: {texts.ROLE_UNSAID}" in unsaid and f"بخش: {texts.DRAFT_WHOLE}" in unsaid


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.BALE])
def test_a_long_hostile_title_keeps_the_card_within_the_limit(platform: Platform) -> None:
    ui = Renderer(platform)
    chat = RULES.staff_chat("water_soil", platform)
    assert chat is not None
    request = _comment("3", "expert", text="نظر & <x> " * 400)
    card = staff_card(ui, request, RULES, chat, NOW, draft=_draft("عنوان <b>&" * 200))
    assert message_length(_visible(ui, card)) <= 4096
    if ui.html:
        assert _html_error(card) is None


def test_other_cards_have_no_draft_lines() -> None:
    ui = Renderer(Platform.TELEGRAM)
    chat = RULES.staff_chat("water_soil", Platform.TELEGRAM)
    assert chat is not None
    complaint = Request(code="4", kind=Kind.COMPLAINT, status=Status.ROUTED, text="شکایت",
                        created_at=NOW, updated_at=NOW, unit="water_soil")  # fmt: skip
    assert "به‌عنوان" not in staff_card(ui, complaint, RULES, chat, NOW)


def test_counts_per_role_in_the_question_order_the_unsaid_last() -> None:
    comments = [_comment("1", None), _comment("2", "other"), _comment("3", "expert"),
                _comment("4", "expert"), _comment("5", "forged")]  # fmt: skip
    assert role_counts(comments) == [("expert", 2), ("other", 1), ("", 2)]
    text = draft_digest(Renderer(Platform.BALE), _draft(), comments)
    assert f"• {texts.COMMENTER_ROLES['expert']}: ۲" in text
    assert f"• {texts.ROLE_UNSAID}: ۲" in text
    assert texts.COMMENTER_ROLES["farmer"] not in text
    assert "نظردهنده" not in draft_digest(Renderer(Platform.BALE), _draft(), [])


def test_the_workbook_has_the_role_column() -> None:
    content = comments_workbook(_draft(), [_comment("1", "farmer"), _comment("2", None)])
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    column = rows[0].index("به‌عنوان")
    assert [r[column] for r in rows[1:]] == [texts.COMMENTER_ROLES["farmer"], texts.ROLE_UNSAID]
