"""Per-citizen quotas end to end: a citizen over FILINGS_PER_HOUR or CLARIFICATIONS_PER_HOUR is
told kindly, in Persian, when they may send again, and loses nothing they typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ui import render, texts
from desk.model import Kind, Platform
from tests.e2e.conftest import Front, MovableClock
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

IDEA = "ساعت کاری اداره در روزهای برداشت محصول طولانی‌تر شود."


@pytest.fixture
async def limited(api, tmp_path: Path):
    """The front office with two filings an hour, two clarifications an hour, a movable clock
    (on a whole minute, so the time the citizen reads is exact)."""
    clock = MovableClock()
    clock.set(datetime(2026, 11, 21, 6, 30, tzinfo=UTC))  # 30 Aban 1405, 10:00 in Tehran
    running = Front(
        api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", clock=clock,
        filings_per_hour=2, clarifications_per_hour=2,
    )  # fmt: skip
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        for fake in (running.telegram, running.bale):
            assert not fake.violations, f"{fake.flavour} protocol violations: {fake.violations}"


async def to_summary(citizen, idea: str = IDEA):
    """A named suggestion up to its summary; returns the summary's replies."""
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("سایر موارد")
    await citizen.send(idea)
    return await citizen.click(texts.BTN_WITH_NAME)


async def file_suggestion(citizen, idea: str):
    """A whole named suggestion; returns the receipt's replies."""
    await to_summary(citizen, idea)
    return await citizen.click(texts.BTN_CONFIRM)


async def test_over_the_filing_quota_the_draft_waits_for_the_time_shown(
    limited: Front, platform: Platform
) -> None:
    front = limited
    clock = front.clock
    citizen = front.bot(platform).private_chat(6001, "رضا", last_name="کریمی")
    await citizen.send("/start")
    first_at = clock.now()
    first = tracking_code(await file_suggestion(citizen, "پیشنهاد اول برای اداره"))
    clock.advance(minutes=20)

    # The second suggestion is started within the quota and waits at its summary while the
    # operator lowers the quota to one an hour and restarts the bot.
    summary = said(await to_summary(citizen))
    assert IDEA in summary
    front.extra["filings_per_hour"] = 1
    await front.restart()

    refused = said(await citizen.click(texts.BTN_CONFIRM))
    until = render.jalali(first_at + timedelta(hours=1))
    assert until == "۳۰ آبان ۱۴۰۵، ساعت ۱۱:۰۰"
    assert "در یک ساعت بیش از ۱ درخواست یا نظر پذیرفته نمی‌شود" in refused
    assert f"از {until} به بعد دوباره «{texts.BTN_CONFIRM}» را بزنید" in refused
    assert "پاک نشده" in refused
    assert IDEA in refused and texts.SUMMARY_TITLE in refused, "the summary is shown again"
    assert texts.BTN_CONFIRM in citizen.keyboard(), "the confirm button is still there"
    assert "کد رهگیری" not in refused

    # A new filing is refused at its start too, before anything is typed (same time).
    started = said(await citizen.send(texts.BTN_SUGGESTION))  # typed: the menu is not shown
    assert f"از {until} به بعد دوباره شروع کنید" in started
    assert texts.ASK_TOPIC not in started
    assert IDEA in started and texts.BTN_CONFIRM in citizen.keyboard(), "the draft in hand stays"
    # ... which left the summary in hand: after the hour, «تأیید و ارسال» files it.
    clock.set(first_at + timedelta(hours=1))
    receipt = await citizen.click(texts.BTN_CONFIRM)
    second = tracking_code(receipt)
    assert second != first
    request = await stored(front, second)
    assert request.kind is Kind.SUGGESTION and request.text == IDEA
    assert request.contact.name == "رضا کریمی"


async def test_start_refused_when_the_quota_is_used(limited: Front, platform: Platform) -> None:
    front = limited
    citizen = front.bot(platform).private_chat(6002, "زهرا")
    await citizen.send("/start")
    first_at = front.clock.now()
    for n in range(2):
        tracking_code(await file_suggestion(citizen, f"{IDEA} شماره {n + 1}"))
        front.clock.advance(minutes=5)
    front.clock.advance(seconds=30)  # 10:10:30: the time shown is a whole minute, not earlier
    started = said(await citizen.click(texts.BTN_COMPLAINT))
    assert f"از {render.jalali(first_at + timedelta(hours=1))} به بعد دوباره شروع کنید" in started
    assert texts.BTN_COMPLAINT in citizen.keyboard(), "back at the main menu"
    # another account is not affected
    other = front.bot(platform).private_chat(6003, "حسن")
    await other.send("/start")
    assert texts.ASK_TOPIC in said(await other.click(texts.BTN_COMPLAINT))


@pytest.mark.slow
async def test_over_the_clarification_quota_the_message_is_not_passed_on(
    limited: Front, platform: Platform
) -> None:
    front = limited
    fake = front.bot(platform)
    citizen = fake.private_chat(6004, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    ahmad = water.as_admin(501, "احمد")
    mark = len(fake.sent)
    await ahmad.click(texts.BTN_ASK, message=card)
    await ahmad.send("لطفاً بفرمایید مساحت زمین چند هکتار است؟")
    question = await next_to(front, platform, citizen.chat_id, mark, "مساحت زمین")

    first_at = front.clock.now()
    await citizen.click(texts.BTN_REPLY_QUESTION, message=question)
    await citizen.send("حدود پنج هکتار است.")
    await citizen.send("زمین کنار جاده روستا است.", reply_to=question)
    await front.delivered()
    mark = len(fake.sent)
    refused = said(await citizen.send("چاه هم سی متر عمق دارد.", reply_to=question))
    until = render.jalali(first_at + timedelta(hours=1))
    assert "برای هر درخواست در یک ساعت بیش از ۲ پیام" in refused
    assert f"از {until} به بعد آن را دوباره بفرستید" in refused
    await front.delivered()
    to_group = [m for m in fake.sent[mark:] if m.chat_id == water.id]
    assert not any("سی متر" in (m.current_text() or "") for m in to_group), "nothing reached staff"

    front.clock.set(first_at + timedelta(hours=1))
    await citizen.send("چاه هم سی متر عمق دارد.", reply_to=question)
    await next_to(front, platform, water.id, mark, "سی متر")
