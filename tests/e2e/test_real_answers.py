"""The staff desk on Telegram and Bale as they really answer (bot/runtime/boundary.py,
bot/workers/delivery/):
stub edits, rate limits in every shape, a group that refuses the bot for a while, answers that
cannot be parsed, refusals that park a row, start-up calls that fail, a refused token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.config import load_settings
from bot.sandbox.run import report_handling
from bot.ui import texts
from desk.model import Platform, Status
from desk.text import to_persian_digits
from storage.delivery import SqlDelivery
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN, Front, wait_until
from tests.e2e.helpers import stored, tracking_code
from tests.e2e.test_soak import saying
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint
from tests.fakebotapi import FakeBotAPI, SentMessage

TOKEN = {Platform.TELEGRAM: TELEGRAM_TOKEN, Platform.BALE: BALE_TOKEN}


def sessions(front: Front) -> Any:
    assert front.app is not None
    return front.app.sessions


def cards_to(front: Front, platform: Platform, chat_id: int, code: str) -> list[SentMessage]:
    shown = to_persian_digits(code)
    return [
        m
        for m in front.bot(platform).sent
        if m.chat_id == chat_id
        and m.method == "sendMessage"
        and shown in (m.text or "")
        and "کد رهگیری" in (m.text or "")
    ]


@pytest.mark.slow
async def test_a_bale_group_keeps_receiving_cards_after_stub_edits(front: Front) -> None:
    """The regression: Bale answers an edit with {"message_id": 0}; the card refresh must count
    as done, and the next card for the same group must arrive."""
    fake = front.bale
    assert fake.edit_answer == "stub"
    water = front.group(WATER, Platform.BALE)
    first = await file_water_complaint(fake.private_chat(13001, "علی"), photo=False)
    card = await card_in(front, Platform.BALE, WATER, first)
    await water.as_admin(9201, "مریم").click(texts.BTN_CLAIM, message=card)
    await front.delivered()
    assert fake.edit_answers and set(fake.edit_answers) == {"stub"}
    assert "مریم" in (card.current_text() or ""), "the card shows who took it"
    second = await file_water_complaint(fake.private_chat(13002, "رضا"), photo=False)
    await card_in(front, Platform.BALE, WATER, second)
    await front.delivered()
    assert len(card.edits) == 1, "the refresh went once, not again and again"
    assert (await front.outbox())["failed"] == 0


async def test_replies_thread_on_bale_by_reply_to_message_id(front: Front, platform) -> None:
    fake = front.bot(platform)
    code = await file_water_complaint(fake.private_chat(13003, "علی"), photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    staff = water.as_admin(9202, "کارشناس")
    (said,) = [
        m for m in await staff.send("پاسخ کوتاه کارشناس.", reply_to=card) if m.chat_id == water.id
    ]
    assert said.reply_to_message_id is not None, "the bot's note is threaded under the staff reply"
    last = fake.calls_of("sendMessage")[-1]
    if platform is Platform.BALE:
        assert "reply_to_message_id" in last and "reply_parameters" not in last


@pytest.mark.parametrize(
    "kind", ["429", "429_bare", "429_text", "429_html", "420", "bale_limit", "bale_limit_any"]
)
@pytest.mark.slow
async def test_rate_limits_of_every_shape_delay_cards_never_lose_them(
    front: Front, platform: Platform, kind: str
) -> None:
    fake = front.bot(platform)
    water = front.group(WATER, platform).id
    front.api.fail("sendMessage", kind, times=3, retry_after=1, token=TOKEN[platform])
    code = await file_water_complaint(fake.private_chat(13004, "علی"), photo=False)
    await card_in(front, platform, WATER, code, timeout=30)
    await front.delivered(timeout=30)
    assert len(cards_to(front, platform, water, code)) == 1, "the card once"
    assert (await front.outbox())["failed"] == 0
    assert front.api.injected[kind] == 3


@pytest.mark.slow
async def test_a_group_refusing_the_bot_for_a_while_is_held_then_catches_up(
    front: Front, platform: Platform
) -> None:
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    front.api.refuse_chat(TOKEN[platform], water.id, seconds=4, kind="403_kicked")
    started = time.monotonic()
    codes = [
        await file_water_complaint(fake.private_chat(13010 + i, "علی"), photo=False)
        for i in range(3)
    ]
    for p in Platform:
        alert = await front.bot(p).wait_for(
            saying(front.admins(p).id, "نمی‌تواند در گروه"), timeout=15
        )
        assert "مدیریت آب و خاک" in (alert.text or ""), "the unit is named"
    for code in codes:
        await card_in(front, platform, WATER, code, timeout=40)
    assert time.monotonic() - started < 40, "the queue resumed by itself within the bound"
    await front.delivered(timeout=30)
    for code in codes:
        assert len(cards_to(front, platform, water.id, code)) == 1
    outbox = await front.outbox()
    assert outbox["failed"] == 0, "held, never failed"
    admin_alerts = [
        m
        for p in Platform
        for m in front.bot(p).sent
        if m.chat_id == front.admins(p).id and "نمی‌تواند در گروه" in (m.text or "")
    ]
    assert len(admin_alerts) == 2, "told once, on each platform's admin chat"
    back = [
        m
        for p in Platform
        for m in front.bot(p).sent
        if m.chat_id == front.admins(p).id and "دوباره پیام‌های ربات" in (m.text or "")
    ]
    assert len(back) == 2
    assert fake.refused, "the fake did refuse"
    assert await SqlDelivery(sessions(front)).held() == []


@pytest.mark.slow
async def test_a_group_refusing_a_direct_reply_is_held_and_told_then_released(
    front: Front, platform: Platform
) -> None:
    """The refusal is found by a handler's own reply (staff ask for /templates), not by the
    outbox: the admin chats are told all the same, and the next card released the group."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    staff = water.as_admin(700, "کارشناس")
    await staff.send("/templates")  # the group's administrators are known from here on
    front.api.refuse_chat(TOKEN[platform], water.id, seconds=1.5, kind="403_kicked")
    await staff.send("/templates")
    assert ("sendMessage", water.id) in fake.refused, "the reply was refused"
    for p in Platform:
        alert = await front.bot(p).wait_for(
            saying(front.admins(p).id, "نمی‌تواند در گروه"), timeout=15
        )
        assert "مدیریت آب و خاک" in (alert.text or ""), "the unit is named"
    assert [h.chat_id for h in await SqlDelivery(sessions(front)).held()] == [water.id]
    await asyncio.sleep(1.6)  # the group takes the bot back
    code = await file_water_complaint(fake.private_chat(13030, "علی"), photo=False)
    await card_in(front, platform, WATER, code, timeout=15)
    for p in Platform:
        await front.bot(p).wait_for(saying(front.admins(p).id, "دوباره پیام‌های ربات"), timeout=15)
    assert await SqlDelivery(sessions(front)).held() == []


@pytest.mark.slow
async def test_an_answer_that_cannot_be_parsed_is_delivered_once(
    front: Front, platform: Platform
) -> None:
    """The card is sent, but the platform's answer makes no sense: the card counts as sent
    (not sent again), and a staff reply to it still answers the request (by the code on it)."""
    fake = front.bot(platform)
    front.api.fail("sendMessage", "ok_garbage", times=1, token=TOKEN[platform])
    citizen = fake.private_chat(13020, "علی")
    code = await file_water_complaint(citizen, photo=False)
    # the receipt took the odd answer: the citizen got it once, and no apology
    receipts = [m for m in fake.sent if m.chat_id == citizen.chat_id and "ثبت شد" in (m.text or "")]
    assert len(receipts) == 1
    assert not any(texts.ERR_TRY_AGAIN in (m.text or "") for m in fake.sent)
    card = await card_in(front, platform, WATER, code)
    front.api.fail("editMessageText", "ok_garbage", times=1, token=TOKEN[platform])
    water = front.group(WATER, platform)
    await water.as_admin(9203, "مریم").click(texts.BTN_CLAIM, message=card)
    await front.delivered()
    assert len(card.edits) == 1
    await water.as_admin(9203, "مریم").send("پاسخ کارشناس.", reply_to=card)
    await front.delivered()
    assert (await stored(front, code)).status is Status.ANSWERED
    assert len(cards_to(front, platform, water.id, code)) == 1


@pytest.mark.slow
async def test_a_refused_refresh_is_parked_alerted_and_the_group_goes_on(
    front: Front, platform: Platform
) -> None:
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    code = await file_water_complaint(fake.private_chat(13030, "علی"), photo=False)
    card = await card_in(front, platform, WATER, code)
    front.api.fail("editMessageText", "400", times=1, token=TOKEN[platform])
    await water.as_admin(9204, "مریم").click(texts.BTN_CLAIM, message=card)
    later = await file_water_complaint(fake.private_chat(13031, "رضا"), photo=False)
    await card_in(front, platform, WATER, later)
    for p in Platform:
        await front.bot(p).wait_for(saying(front.admins(p).id, "کنار گذاشته شد"), timeout=30)
    parked = await SqlDelivery(sessions(front)).parked()
    assert [(r.kind.value, r.code) for r in parked] == [("card_refresh", code)]
    assert "can't parse entities" in parked[0].error


@pytest.mark.slow
async def test_start_up_survives_polish_that_fails(api: FakeBotAPI, tmp_path: Path) -> None:
    """deleteWebhook and setMyCommands answer HTML 502 pages and getMe a 503 at start: the bot
    starts all the same, serves citizens, and the calls succeed later in the background."""
    api.fail("deleteWebhook", "502_html", times=2)
    api.fail("setMyCommands", "502_html", times=2)
    api.fail("getMe", "503_text", times=1)
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    await front.start()
    try:
        citizen = front.bale.private_chat(13040, "علی")
        code = await file_water_complaint(citizen, photo=False)
        assert code
        await wait_until(
            lambda: len(front.telegram.calls_of("setMyCommands")) >= 3,
            what="commands set",
            timeout=20,
        )
        assert front.telegram.commands, "the command menu was set in the end"
        await wait_until(
            lambda: len(front.bale.calls_of("deleteWebhook")) >= 1,
            what="Bale's webhook deleted too",
        )
        assert front.bale.calls_of("setMyCommands") == [], "Bale documents no setMyCommands"
    finally:
        await front.stop()


async def test_a_refused_token_stops_only_its_platform(
    api: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    settings = front.settings().model_copy(
        update={
            "telegram_bot_token": load_settings(
                telegram_bot_token="999999:not-the-right-token-XXXX"
            ).telegram_bot_token
        }
    )
    app = build_app(settings)
    report_handling(app, (front.telegram, front.bale))
    task = asyncio.create_task(app.run(handle_signals=False))
    try:
        await wait_until(lambda: bool(front.bale.calls_of("getUpdates")), what="Bale polling")
        code = await file_water_complaint(front.bale.private_chat(13050, "علی"), photo=False)
        assert code, "Bale is served"
        refused = [r for r in caplog.records if "refuses the bot token" in r.getMessage()]
        assert len(refused) == 1 and "TELEGRAM_BOT_TOKEN" in refused[0].getMessage()
        assert "999999" not in caplog.text, "the token is never logged"
    finally:
        await app.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)


@pytest.mark.slow
async def test_polling_without_a_long_poll_does_not_spin(api: FakeBotAPI, tmp_path: Path) -> None:
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", polling_timeout=0)
    await front.start()
    try:
        before = len(front.bale.calls_of("getUpdates"))
        await asyncio.sleep(3)
        idle = len(front.bale.calls_of("getUpdates")) - before
        assert idle <= 5, f"{idle} getUpdates in 3 s of quiet"
        code = await file_water_complaint(front.bale.private_chat(13060, "علی"), photo=False)
        assert code, "and it still answers"
    finally:
        await front.stop()


async def test_a_lost_receipt_and_a_second_confirm_file_once(front: Front, platform) -> None:
    """The receipt is refused by the platform after the request was filed; the citizen is
    asked to try again and confirms again: the same request, filed once, one card."""
    fake = front.bot(platform)
    citizen = fake.private_chat(13070, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("سایر موارد")
    await citizen.send("پیشنهاد می‌کنم نوبت‌دهی اینترنتی راه‌اندازی شود.")
    await citizen.click(texts.BTN_ANONYMOUS)  # the summary
    front.api.fail("sendMessage", "400", times=1, token=TOKEN[platform])  # the receipt
    first = await citizen.click(texts.BTN_CONFIRM)
    assert any(texts.ERR_TRY_AGAIN in (m.text or "") for m in first), [m.text for m in first]
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    assert front.app is not None
    async with front.app.engine.connect() as conn:
        filed = (await conn.exec_driver_sql("select count(*) from requests")).scalar()
    assert filed == 1, "filed once"
    await front.delivered()
    shown = to_persian_digits(code)
    cards = [m for m in fake.sent if shown in (m.text or "") and m.chat_id != citizen.chat_id]
    assert len(cards) == 1
