"""Draft regulations end to end: subscribing, the announcement (a thousand subscribers, a kill
in the middle), reading, commenting, late comments, reminders, automatic closing with the
digest and its XLSX, and the final version reaching everyone who commented."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.runtime.platforms import Renderer
from bot.ui import texts
from desk import regulations
from desk.model import DraftFile, DraftStatus, Kind, Platform
from desk.text import to_persian_digits
from storage.tables import CitizenRow
from tests.e2e.conftest import Front, MovableClock, wait_until
from tests.e2e.helpers import said, stored, tracking_code

SUMMARY = (
    "مقدمه: این دستورالعمل شیوه توزیع آب کشاورزی در سال‌های کم‌آبی را روشن می‌کند.\n\n"
    "۱. سهمیه هر بهره‌بردار بر پایه سطح زیر کشت و نوع محصول تعیین می‌شود.\n\n"
    "۲. در خشک‌سالی، اولویت با باغ‌های مثمر و دام است."
)
PDF = b"%PDF-1.4\n" + b"draft regulation body " * 400


@pytest.fixture
async def timed(api, tmp_path: Path):
    clock = MovableClock()
    running = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", clock=clock,
                    sla_check_seconds=0.2)  # fmt: skip
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        for fake in (running.telegram, running.bale):
            assert not fake.violations, fake.violations


async def publish(front, **kw):
    desk = front.app.dispatcher["deps"].desk
    draft = await regulations.publish(
        desk,
        title=kw.get("title", "دستورالعمل توزیع آب کشاورزی در کم‌آبی"),
        summary=kw.get("summary", SUMMARY),
        unit=kw.get("unit", "water_soil"),
        document=DraftFile("دستورالعمل.pdf", PDF, "application/pdf"),
        days=kw.get("days", 14),
    )
    front.app.delivery.wake()
    return draft


async def subscribe_by_start(citizen) -> None:
    replies = await citizen.send("/start")
    offer = [m for m in replies if texts.BTN_SUBSCRIBE in m.buttons()]
    assert offer, "a first /start offers the subscription"
    assert texts.SUBSCRIBED[:20] in said(await citizen.click(texts.BTN_SUBSCRIBE, message=offer[0]))


async def announced(front, platform, citizen, title: str):
    return await front.bot(platform).wait_for(
        lambda m: m.chat_id == citizen.chat_id and title in (m.text or ""), timeout=20
    )


@pytest.mark.slow
async def test_the_two_week_life_of_a_draft(timed) -> None:
    front = timed
    tg = front.telegram.private_chat(13001, "مریم")
    bale = front.bale.private_chat(13002, "رضا")
    late = front.bale.private_chat(13003, "حسن")
    quiet = front.telegram.private_chat(13004, "بی‌خبر")
    await subscribe_by_start(tg)
    await subscribe_by_start(late)
    # the other one subscribes from the menu
    await bale.send("/start")
    menu = said(await bale.click(texts.BTN_DRAFTS))
    assert texts.DRAFTS_NONE in menu and texts.DRAFTS_SUBSCRIPTION_OFF in menu
    await bale.click(texts.BTN_SUBSCRIBE)
    await quiet.send("/start")

    draft = await publish(front)
    title = draft.title
    ann_tg = await announced(front, Platform.TELEGRAM, tg, title)
    ann_bale = await announced(front, Platform.BALE, bale, title)
    assert "مهلت نظر" in (ann_tg.text or "") and texts.BTN_COMMENT_DRAFT in ann_tg.buttons()
    await front.delivered()
    assert not [m for m in quiet.messages() if title in (m.text or "")], "not subscribed"
    admins = front.admins(Platform.TELEGRAM)
    await front.telegram.wait_for(
        lambda m: m.chat_id == admins.id and "ارسال شد" in (m.text or ""), timeout=10
    )

    # Reading: the document and the summary in sections.
    read = await tg.click(texts.BTN_READ_DRAFT, message=ann_tg)
    assert [m.method for m in read] == ["sendDocument", "sendMessage"]
    assert "بخش ۲" in said(read)

    # Commenting on a section (Telegram) and on the whole draft (Bale, with a photo).
    await tg.click(texts.BTN_COMMENT_DRAFT, message=ann_tg)
    await tg.click("بخش ۲")
    receipt = await tg.send("سهمیه باید بر پایه حقابه تاریخی هم باشد، نه فقط سطح زیر کشت.")
    tg_code = tracking_code(receipt)
    comment = await stored(front, tg_code)
    assert comment.kind is Kind.COMMENT and comment.section == 2 and comment.unit == "water_soil"
    water = front.group("water_soil", Platform.TELEGRAM)
    await front.telegram.wait_for(
        lambda m: m.chat_id == water.id and to_persian_digits(tg_code) in (m.text or "")
    )
    await bale.click(texts.BTN_COMMENT_DRAFT, message=ann_bale)
    await bale.click(texts.BTN_WHOLE_DRAFT)
    assert "دست‌کم" in said(await bale.send("کوتاه"))  # too short: asked again
    bale_code = tracking_code(await bale.send("به دامداران کوچک هم در خشک‌سالی اولویت بدهید."))

    # Two days before the deadline: a reminder only to the subscriber who has not commented.
    front.clock.set(draft.closes_at - timedelta(days=1, hours=12))
    reminder = await front.bale.wait_for(
        lambda m: m.chat_id == late.chat_id and "دو روز" in (m.text or ""), timeout=10
    )
    assert reminder
    await front.delivered()
    await asyncio.sleep(0.6)
    for citizen in (tg, bale):
        assert not [m for m in citizen.messages() if "دو روز" in (m.text or "")]

    # The deadline passes: the window closes by itself, the unit gets the digest and the XLSX.
    front.clock.set(draft.closes_at + timedelta(minutes=1))
    digest = await front.telegram.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendDocument", timeout=10
    )
    assert "تعداد نظرها: ۲" in (digest.text or "")
    assert "بخش ۲: ۱" in (digest.text or "") and "کل پیش‌نویس: ۱" in (digest.text or "")
    content = front.telegram.file_content(digest.media["file_id"])
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == texts.XLSX_HEADERS
    assert {r[0] for r in rows[1:]} == {tg_code, bale_code}
    assert any("حقابه" in (r[3] or "") for r in rows[1:])
    assert (await regulations.get(front.app.dispatcher["deps"].desk, draft.id)).status is (
        DraftStatus.CLOSED
    )

    # A late comment is refused, with the date it closed.
    late_reply = said(await late.click(texts.BTN_COMMENT_DRAFT))
    assert "به پایان رسیده" in late_reply

    # The unit replies to the digest with the final version and a note: commenters are told.
    await water.send_document(
        size=30_000,
        file_name="نسخه-نهایی.pdf",
        caption="بند ۲ با افزودن دامداران کوچک اصلاح شد.",
        reply_to=digest,
    )
    outcome_tg = await front.telegram.wait_for(
        lambda m: m.chat_id == tg.chat_id and "✅ نسخه نهایی" in (m.text or ""), timeout=10
    )
    assert to_persian_digits(tg_code) in (outcome_tg.text or "")
    assert outcome_tg.method == "sendDocument", (outcome_tg.text, len(outcome_tg.text or ""))
    outcome_bale = await front.bale.wait_for(
        lambda m: m.chat_id == bale.chat_id and "✅ نسخه نهایی" in (m.text or ""), timeout=10
    )
    assert to_persian_digits(bale_code) in (outcome_bale.text or "")
    await front.delivered()
    assert not [m for m in late.messages() if "✅ نسخه نهایی" in (m.text or "")]


async def test_a_draft_closes_even_when_the_bot_was_down_at_the_deadline(timed) -> None:
    front = timed
    draft = await publish(front, title="آیین‌نامه صدور مجوز چاه")
    await front.stop()
    front.clock.set(draft.closes_at + timedelta(days=3))
    await front.start()
    water = front.group("water_soil", Platform.TELEGRAM)
    digest = await front.telegram.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendDocument", timeout=15
    )
    assert "تعداد نظرها: ۰" in (digest.text or "")


@pytest.mark.timeout(180)
@pytest.mark.slow
@pytest.mark.timing  # at most 33 arrivals in any second, on the fake's wall clock: run alone
async def test_a_thousand_subscribers_a_kill_midway_and_no_duplicates(api, tmp_path) -> None:
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}",
                  telegram_messages_per_second=30, bale_messages_per_second=30)  # fmt: skip
    people: dict[Platform, list[Any]] = {Platform.TELEGRAM: [], Platform.BALE: []}
    for i in range(1000):
        platform = Platform.TELEGRAM if i % 2 else Platform.BALE
        people[platform].append(front.bot(platform).private_chat(200_000 + i, "مشترک"))
    await front.start()
    try:
        now = datetime.now(UTC)
        assert front.app is not None
        async with front.app.sessions() as session, session.begin():
            for platform, chats in people.items():
                for citizen in chats:
                    row = CitizenRow(platform=platform.value, chat_id=citizen.chat_id)
                    row.subscribed, row.created_at, row.updated_at = True, now, now
                    session.add(row)
        started = time.monotonic()
        draft = await publish(front, title="طرح حمایت از کشت گیاهان کم‌آب‌بر")

        def announcements(platform):
            return [
                m
                for m in front.bot(platform).sent
                if 200_000 <= m.chat_id < 300_000 and draft.title in (m.text or "")
            ]

        await wait_until(
            lambda: (
                len(announcements(Platform.TELEGRAM)) + len(announcements(Platform.BALE)) >= 300
            ),
            what="a third of the broadcast",
            timeout=60,
        )
        await front.crash()  # kill in the middle of the broadcast
        sent_before = len(announcements(Platform.TELEGRAM)) + len(announcements(Platform.BALE))
        assert 300 <= sent_before < 1000
        await front.start()
        await front.delivered(timeout=90)
        elapsed = time.monotonic() - started
        for platform, chats in people.items():
            got = announcements(platform)
            assert sorted(m.chat_id for m in got) == sorted(c.chat_id for c in chats), (
                f"{platform}: every subscriber exactly once"
            )
            times = sorted(m.at for m in got)
            worst = max(sum(1 for t in times[i:] if t < start + 1) for i, start in enumerate(times))
            # Measured on the fake's clock: the fake shares the bot's event loop, so a pause of
            # the loop (a garbage collection, the crash and restart here) lets a few requests
            # that left on schedule arrive together. The worker's own guarantee, never more
            # than the limit started in any second, is tested exactly in test_rate_limiter.py.
            assert worst <= 33, f"{platform}: {worst} announcements in one second (limit 30)"
        assert elapsed < 90
    finally:
        await front.stop()


async def test_a_draft_not_yet_open_cannot_be_read_or_commented(timed, platform) -> None:
    """Draft ids are sequential: a forged «read» or «comment» button for a draft scheduled for
    next week tells nothing about it, not even its title, and sends no file."""
    front = timed
    desk = front.app.dispatcher["deps"].desk
    title = "طرح محرمانه هنوز منتشرنشده"
    draft = await regulations.publish(
        desk, title=title, summary=SUMMARY, unit="water_soil",
        document=DraftFile("طرح.pdf", PDF, "application/pdf"),
        opens_at=front.clock.now() + timedelta(days=7),
    )  # fmt: skip
    assert draft.id is not None
    fake = front.bot(platform)
    citizen = fake.private_chat(31001, "کنجکاو")
    menu = (await citizen.send("/start"))[-1]
    mark = len(fake.sent)
    for data in (f"dr:{draft.id}", f"dc:{draft.id}", f"dx:{draft.id}:0"):
        await citizen.click_data(data, menu)
    mine = [m for m in fake.sent[mark:] if m.chat_id == citizen.chat_id]
    assert mine and all(texts.DRAFT_UNKNOWN in (m.text or "") for m in mine), [m.text for m in mine]
    assert not any(m.method == "sendDocument" for m in mine), "no file of it"
    assert not any(title in (m.current_text() or "") for m in fake.sent), "not even its title"
    front.clock.advance(days=8)  # now it opens (the scheduler's job): the same button reads it
    for _ in range(200):
        if (await regulations.get(desk, draft.id)).status is DraftStatus.OPEN:
            break
        await asyncio.sleep(0.05)
    await citizen.click_data(f"dr:{draft.id}", menu)
    await fake.wait_for(lambda m: m.chat_id == citizen.chat_id and m.method == "sendDocument")


async def test_a_withdrawn_draft_is_closed_to_every_button_and_commenters_are_told(
    timed, platform
) -> None:
    """An admin withdraws an open draft with a reason: the commenter is told why (with the
    comment's code), the admins are told how many were told, and from then on no button (the
    announcement's, or one pressed mid-comment) shows its text or files a comment."""
    front = timed
    fake = front.bot(platform)
    draft = await publish(front, title="طرح پس‌گرفتنی کشت گلخانه‌ای")
    assert draft.id is not None
    commenter = fake.private_chat(32001, "نظردهنده")
    writer = fake.private_chat(32002, "نیمه‌کاره")
    menu = (await commenter.send("/start"))[-1]
    await commenter.click_data(f"dx:{draft.id}:0", menu)
    code = tracking_code(
        await commenter.send("این طرح باید برای باغداران کوچک هم یارانه داشته باشد.")
    )
    await front.delivered()
    writer_menu = (await writer.send("/start"))[-1]
    await writer.click_data(f"dx:{draft.id}:0", writer_menu)  # writing, not yet sent

    admin = front.admins(platform).as_admin(7001, "مریم", "احمدی")
    assert "/withdraw_draft" in said(await admin.send(f"/withdraw_draft {draft.id}")), "no reason"
    assert (await regulations.get(front.app.dispatcher["deps"].desk, draft.id)).status is (
        DraftStatus.OPEN
    )
    reason = "قانون تازه مجلس <همه> را دگرگون کرد & طرح دوباره نوشته می‌شود"
    done = said(await admin.send(f"/withdraw_draft {draft.id} {reason}"))
    assert "پس گرفته شد" in done and "۱ نفر" in done
    told = await fake.wait_for(
        lambda m: m.chat_id == commenter.chat_id and "پس گرفت" in (m.text or ""), timeout=10
    )
    assert Renderer(platform).shown(reason) in told.seen()
    assert to_persian_digits(code) in told.seen()

    mark = len(fake.sent)
    lost = await writer.send("نظر من درباره این طرح این است که زودتر اجرا شود.")
    assert texts.DRAFT_WITHDRAWN in said(lost), "told, not a receipt"
    for data in (f"dr:{draft.id}", f"dc:{draft.id}", f"dx:{draft.id}:1"):
        await commenter.click_data(data, menu)
    mine = [m for m in fake.sent[mark:] if m.chat_id in (commenter.chat_id, writer.chat_id)]
    assert len(mine) == 4 and all(texts.DRAFT_WITHDRAWN in (m.text or "") for m in mine)
    assert not any(m.method == "sendDocument" for m in mine), "no file of it"
    async with front.app.dispatcher["deps"].uow() as tx:
        assert len(await tx.drafts.comments(draft.id)) == 1, "the late comment was not filed"
    again = said(await admin.send(f"/withdraw_draft {draft.id} دوباره"))
    assert texts.ADMIN_DRAFT_ERROR["status"] in again
