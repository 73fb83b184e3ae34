"""SLA reminders, escalation and the daily digest, fired by the real scheduler under a clock
the test moves, including a bot that was down when the deadline passed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from desk.calendar import local_date, start_of_day
from desk.model import Platform
from tests.e2e.conftest import Front, MovableClock
from tests.e2e.helpers import stored
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint


@pytest.fixture
async def timed(api, tmp_path: Path):
    """The front office with a movable clock and the SLA job ticking five times a second."""
    clock = MovableClock()
    running = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", clock=clock,
                    sla_check_seconds=0.2)  # fmt: skip
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def note_in(front, chat_id: int, contains: str, since: int = 0):
    fake = front.telegram
    return await fake.wait_for(
        lambda m: m.chat_id == chat_id and contains in (m.current_text() or ""),
        since=since,
        timeout=15,
    )


@pytest.mark.slow
async def test_reminders_escalation_and_digest(timed) -> None:
    front = timed
    citizen = front.telegram.private_chat(12001, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, Platform.TELEGRAM, WATER, code)
    request = await stored(front, code)
    assert request.due_at is not None
    water = front.group(WATER, Platform.TELEGRAM)
    head = front.group("head_office", Platform.TELEGRAM)

    half = request.created_at + (request.due_at - request.created_at) / 2
    front.clock.set(half + timedelta(minutes=1))
    reminder = await note_in(front, water.id, "نیمی از مهلت")
    assert reminder.reply_to_message_id == card.message_id

    mark = len(front.telegram.sent)
    front.clock.set(start_of_day(local_date(request.due_at)) + timedelta(hours=9))
    await note_in(front, water.id, "امروز آخرین مهلت", since=mark)

    mark = len(front.telegram.sent)
    front.clock.set(request.due_at + timedelta(minutes=5))
    await note_in(front, water.id, "مهلت پاسخ درخواست", since=mark)
    escalation = await note_in(front, head.id, "درخواست معوق", since=mark)
    assert "مدیریت آب و خاک" in (escalation.text or "")
    await front.delivered()
    assert "معوق" in (card.current_text() or ""), "the card shows the request is overdue"

    # A few more ticks send nothing again.
    sent = len(front.telegram.sent)
    front.clock.advance(minutes=30)
    await front.delivered()
    import asyncio

    await asyncio.sleep(1)
    assert [m.current_text() for m in front.telegram.sent[sent:]] == []

    # The next morning at 08:30 Tehran the head's office gets the digest, once.
    next_day = local_date(request.due_at) + timedelta(days=1)
    front.clock.set(start_of_day(next_day) + timedelta(hours=8, minutes=30))
    digest = await note_in(front, head.id, "گزارش روزانه", since=sent)
    assert "مدیریت آب و خاک" in (digest.text or "") and "۱ درخواست" in (digest.text or "")
    await asyncio.sleep(1)
    digests = [m for m in front.telegram.messages_to(head.id) if "گزارش روزانه" in (m.text or "")]
    assert len(digests) == 1


@pytest.mark.slow
async def test_deadline_passed_while_the_bot_was_down(timed) -> None:
    front = timed
    citizen = front.telegram.private_chat(12002, "علی")
    code = await file_water_complaint(citizen, photo=False)
    await card_in(front, Platform.TELEGRAM, WATER, code)
    request = await stored(front, code)
    assert request.due_at is not None
    await front.stop()
    front.clock.set(request.due_at + timedelta(days=2))  # down through half time and due day
    await front.start()
    water = front.group(WATER, Platform.TELEGRAM)
    await note_in(front, water.id, "مهلت پاسخ درخواست")
    await front.delivered()
    import asyncio

    await asyncio.sleep(1)
    notes = [m.text or "" for m in front.telegram.messages_to(water.id)]
    assert not any("نیمی از مهلت" in n or "امروز آخرین مهلت" in n for n in notes), (
        "only the most urgent stage is sent after downtime"
    )
    assert (await stored(front, code)).escalated_at is not None
