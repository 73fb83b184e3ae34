"""Each status in two voices: the citizen's (unchanged) and the staff's on a card; and the
question before «بستن», which quotes the citizen's own sentence or says nobody is told."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.runtime.platforms import Renderer
from bot.ui import texts
from bot.ui.render import citizen_notice, close_preview, staff_status, status_name
from desk.model import ChatRef, Contact, Kind, Platform, Request, Status
from desk.routing import load_rules

RULES = load_rules(Path(__file__).resolve().parents[2] / "routing_rules.yaml")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
BALE = Renderer(Platform.BALE)
CITIZEN = ChatRef(Platform.BALE, 5)


def _request(status: Status, *, chat: ChatRef | None = CITIZEN) -> Request:
    return Request(
        code="1234567890",
        kind=Kind.COMPLAINT,
        status=status,
        text="آب چاه قطع است.",
        created_at=NOW,
        updated_at=NOW,
        contact=Contact(name="علی", phone="09151234567"),
        platform=Platform.BALE,
        unit="water_soil",
        chat=chat,
    )


@pytest.mark.parametrize(
    ("status", "citizen", "staff"),
    [
        (Status.ROUTED, "ثبت شد و به «مدیریت آب و خاک و امور فنی و مهندسی» رسید",
         "جدید — هنوز کسی برنداشته"),
        (Status.IN_PROGRESS, "در دست بررسی", "در حال بررسی"),
        (Status.WAITING, "منتظر توضیح شما", "در انتظار پاسخ متقاضی"),
        (Status.ANSWERED, "پاسخ داده شد", "پاسخ داده شده"),
        (Status.REOPENED, "دوباره بررسی می‌شود", "بازگشایی شده"),
    ],
)  # fmt: skip
def test_a_status_in_the_citizens_and_the_staffs_words(
    status: Status, citizen: str, staff: str
) -> None:
    request = _request(status)
    assert status_name(request, RULES) == citizen
    assert staff_status(request, RULES, NOW) == staff


def test_in_progress_names_who_and_closed_names_why() -> None:
    request = _request(Status.IN_PROGRESS)
    request.claimed_by = "bale:501 (احمد)"
    assert staff_status(request, RULES, NOW) == "در حال بررسی — احمد"
    closed = _request(Status.CLOSED)
    closed.close_reason = "duplicate"
    assert staff_status(closed, RULES, NOW) == "بسته شده — تکراری"
    assert status_name(closed, RULES) == "بسته شد (دلیل: تکراری)"  # the citizen's words
    assert set(texts.STAFF_STATUS_NAMES) == set(texts.STATUS_NAMES)


def test_the_close_question_quotes_the_citizens_sentence() -> None:
    request = _request(Status.ROUTED)
    told = citizen_notice(BALE, request, RULES, {"template": "closed", "reason": "duplicate"})
    asked = close_preview(BALE, request, RULES, "duplicate", "احمد")
    assert asked.startswith("احمد، درخواست ۱۲۳۴۵۶۷۸۹۰ با دلیل «تکراری» بسته شود؟")
    assert asked.endswith(told)


@pytest.mark.parametrize(
    ("reason", "chat", "why"),
    [("spam", CITIZEN, "spam"), ("duplicate", None, "nobody")],
)
def test_the_close_question_says_when_nobody_is_told(
    reason: str, chat: ChatRef | None, why: str
) -> None:
    asked = close_preview(BALE, _request(Status.ROUTED, chat=chat), RULES, reason, "احمد")
    assert texts.STAFF_CLOSE_TELLS_NOBODY[why] in asked
    assert "می‌خواند" not in asked
