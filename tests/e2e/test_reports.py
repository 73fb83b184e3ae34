"""/report and /overdue in the admin chat: the numbers of a seeded month (worked out by hand in
tests/unit/test_reports.py), the chart as a photo, and overdue requests with links to their cards.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from desk.model import Platform
from desk.text import to_persian_digits
from storage.repositories import SqlUnitOfWork
from tests.e2e.conftest import Front, MovableClock
from tests.e2e.helpers import said, stored
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint
from tests.unit.test_reports import NOW, dataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def clocked(api, tmp_path: Path):
    """The front office on a clock the test sets."""
    running = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", clock=MovableClock())
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        for fake in (running.telegram, running.bale):
            assert not fake.violations, f"{fake.flavour} protocol violations: {fake.violations}"


async def seed_month(front) -> None:
    """R1..R10 of tests/unit/test_reports.py, stored as the bot stores requests."""
    requests, events = dataset()
    async with SqlUnitOfWork(front.app.sessions) as tx:
        for request in requests:
            await tx.requests.add(request)
            for event in events[request.code]:
                await tx.requests.add_event(event)
        await tx.commit()


async def test_report_for_a_jalali_range(clocked, platform: Platform) -> None:
    front = clocked
    front.clock.set(NOW)  # 1405-09-19 15:30 Tehran
    await seed_month(front)
    admin = front.admins(platform).as_admin(7001, "مریم")

    replies = await admin.send("/report ۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۱۵", timeout=30)
    text = said([m for m in replies if m.method == "sendMessage"])
    assert "بازه: ۱ آذر ۱۴۰۵ تا ۱۵ آذر ۱۴۰۵" in text
    # the total row (hand-worked in tests/unit/test_reports.py)
    # its parts add up (3 + 1 + 3 + 1 = 8), the survey among them said as such
    assert (
        "دریافتی ۸: پاسخ داده شده ۳، بسته بدون پاسخ ۱، باز ۳ (معوق ۱)"
        "، نظرسنجی و نظر بر پیش‌نویس ۱ (پاسخ جداگانه ندارند)" in text
    )
    assert "زمان معمول نخستین اقدام: ۳ ساعت؛ زمان معمول پاسخ: ۲۳ ساعت" in text
    assert "بازگشایی: ۵۰٪؛ رضایت: ۳٫۰ از ۵ (۴ امتیاز)" in text
    # a unit and a kind
    assert "زمان معمول نخستین اقدام: ۲ ساعت؛ زمان معمول پاسخ: ۱ روز و ۲ ساعت" in text
    assert "دریافتی ۲: پاسخ داده شده ۱، بسته بدون پاسخ ۰، باز ۱ (معوق ۰)" in text
    assert "·" not in text and "میانه" not in text, "no dot that reads as ۰, no jargon"
    assert "دریافتی ۱ (پاسخ جداگانه ندارد)" in text  # the survey
    if platform is Platform.TELEGRAM:
        assert "<b>جمع کل</b>" in text

    [photo] = [m for m in replies if m.method == "sendPhoto"]
    assert replies[-1] is photo, "the chart comes after the numbers"
    assert "دریافتی، پاسخ داده شده و معوق به تفکیک واحد" in (photo.text or "")
    content = front.bot(platform).file_content(photo.media["file_id"])
    assert content.startswith(PNG_SIGNATURE) and len(content) > 10_000


async def test_report_this_week_this_month_and_bad_periods(clocked) -> None:
    front = clocked
    front.clock.set(NOW)  # Thursday 1405-09-19: the week began on Saturday 1405-09-14
    await seed_month(front)
    admin = front.admins(Platform.BALE).as_admin(7002, "رضا")

    # this month: R1..R8, and R10 (filed 1405-09-16, inside the month); R9 is in Aban
    text = said(await admin.send("/report", timeout=30))
    assert "بازه: ۱ آذر ۱۴۰۵ تا ۱۹ آذر ۱۴۰۵ (این ماه)" in text
    assert (
        "دریافتی ۹: پاسخ داده شده ۳، بسته بدون پاسخ ۱، باز ۴ (معوق ۲)"
        "، نظرسنجی و نظر بر پیش‌نویس ۱ (پاسخ جداگانه ندارند)" in text
    )
    # this week: only R10 (R1..R8 were filed on 1405-09-01)
    replies = await admin.send("/report هفته", timeout=30)
    assert "بازه: ۱۴ آذر ۱۴۰۵ تا ۱۹ آذر ۱۴۰۵ (این هفته)" in said(replies)
    assert "دریافتی ۱: پاسخ داده شده ۰، بسته بدون پاسخ ۰، باز ۱ (معوق ۱)" in said(replies)
    # a range with nothing in it: said plainly, no chart
    replies = await admin.send("/report 1405-08-01 1405-08-10")
    assert "در این بازه درخواستی ثبت نشده است." in said(replies)
    assert [m.method for m in replies] == ["sendMessage"]

    replies = await admin.send("/report ۱۴۰۵-۰۹-۱۵ ۱۴۰۵-۰۹-۰۱")
    assert "تاریخ نخست باید پیش از تاریخ دوم باشد." in said(replies)
    assert "/report هفته" in said(replies)
    assert "بازه گزارش را نشناختم." in said(await admin.send("/report دیروز"))


async def test_report_only_in_admin_chats(clocked) -> None:
    front = clocked
    front.clock.set(NOW)
    await seed_month(front)
    staff = front.group(WATER, Platform.TELEGRAM).as_admin(7003, "کارشناس")
    replies = await staff.send("/report")
    assert "گزارش میز خدمت" not in said(replies)
    assert not [m for m in replies if m.method == "sendPhoto"]
    assert "درخواست‌های معوق" not in said(await staff.send("/overdue"))


async def test_overdue_lists_requests_with_links_to_their_cards(
    clocked, platform: Platform
) -> None:
    front = clocked
    admin = front.admins(platform).as_admin(7001, "مریم")
    assert "هیچ درخواست معوقی نیست." in said(await admin.send("/overdue"))

    citizen = front.bot(platform).private_chat(13001, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    request = await stored(front, code)
    assert request.due_at is not None
    # the due day ends at 23:59:59 Tehran; 23:59:59 two days later is 2 calendar days late
    front.clock.set(request.due_at + timedelta(days=2))

    replies = await admin.send("/overdue")
    text = said(replies)
    assert "درخواست‌های معوق: ۱" in text
    assert to_persian_digits(code) in text
    assert "مدیریت آب و خاک و امور فنی و مهندسی" in text
    assert "۲ روز تأخیر" in text
    water = front.group(WATER, platform)
    if platform is Platform.TELEGRAM:
        chat = str(water.id)
        assert chat.startswith("-100")
        link = f'<a href="https://t.me/c/{chat[4:]}/{card.message_id}">'
        assert link + to_persian_digits(code) + "</a>" in text
    else:
        assert "t.me" not in text and "<" not in text  # Bale: no documented message links
