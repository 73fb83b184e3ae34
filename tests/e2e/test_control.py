"""Cancel at every step, /start mid-way, and conversations that survive restarts and crashes."""

from __future__ import annotations

import pytest

from bot.ui import texts
from desk.model import ChatRef, Platform
from storage.repositories import SqlUnitOfWork
from tests.e2e.conftest import wait_until
from tests.e2e.helpers import said, stored, tracking_code

# The answers that reach each complaint step, in order.
COMPLAINT_STEPS = [
    ("click", texts.BTN_COMPLAINT),
    ("click", "دام و طیور"),
    ("click", "نهبندان"),
    ("send", "نرگس امینی"),
    ("send", "09151234567"),
    ("click", texts.BTN_NO_NATIONAL_CODE),
    ("send", "دامپزشک برای واکسیناسیون گوسفندها به روستا نیامد."),
    ("click", texts.BTN_NO_ATTACHMENTS),
]


async def walk(citizen, steps) -> None:
    await citizen.send("/start")
    for how, value in steps:
        await getattr(citizen, how)(value)


@pytest.mark.parametrize("depth", range(1, len(COMPLAINT_STEPS) + 1))
@pytest.mark.parametrize("how", ["button", "command"])
async def test_cancel_works_at_every_step(front, depth: int, how: str) -> None:
    citizen = front.telegram.private_chat(7000 + depth, "کاربر")
    await walk(citizen, COMPLAINT_STEPS[:depth])
    replies = await (
        citizen.click(texts.BTN_CANCEL) if how == "button" else citizen.send("/cancel")
    )
    assert texts.CANCELLED in said(replies)
    assert texts.BTN_COMPLAINT in citizen.keyboard()
    # The conversation is really gone: a name-like text now gets the "lost" answer.
    assert texts.LOST[:20] in said(await citizen.send("نرگس امینی"))


async def test_cancel_on_bale_too(front) -> None:
    citizen = front.bale.private_chat(7100, "کاربر")
    await walk(citizen, COMPLAINT_STEPS[:4])
    assert texts.CANCELLED in said(await citizen.send("/cancel"))


async def test_start_midway_asks_before_abandoning(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(7200, "کاربر")
    await walk(citizen, COMPLAINT_STEPS[:4])  # waiting for the phone
    question = said(await citizen.send("/start"))
    assert texts.ABANDON_QUESTION in question
    carry_on = said(await citizen.click(texts.BTN_CONTINUE))
    assert texts.CONTINUING in carry_on and "شماره همراه" in carry_on
    await citizen.send("09151234567")
    await citizen.send("/start")
    assert texts.CANCELLED in said(await citizen.click(texts.BTN_ABANDON))
    assert "میز خدمت" in said(await citizen.send("/start")), "a fresh /start welcomes again"


async def test_stale_abandon_button_changes_nothing(front) -> None:
    citizen = front.bale.private_chat(7300, "کاربر")
    await walk(citizen, COMPLAINT_STEPS[:3])
    question = await citizen.send("/start")
    await citizen.click(texts.BTN_ABANDON)
    again = said(await citizen.click_data("abandon:yes", question[-1]))
    assert texts.STALE_BUTTON in again


@pytest.mark.parametrize("stop", ["graceful", "crash"])
async def test_conversation_survives_a_restart(front, platform: Platform, stop: str) -> None:
    citizen = front.bot(platform).private_chat(7400, "کاربر")
    await walk(citizen, COMPLAINT_STEPS[:5])  # topic, county, name, phone given
    if stop == "graceful":
        await front.restart()
    else:
        await front.crash()
        await front.start()
    # The citizen carries on where they were: the national-code step.
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send("دامپزشک برای واکسیناسیون گوسفندها به روستا نیامد.")
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    assert "نرگس امینی" in summary and "نهبندان" in summary and "دام و طیور" in summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.contact.phone == "09151234567" and request.county == "nehbandan"


async def test_filed_request_survives_restart_and_is_found(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(7500, "کاربر")
    await walk(citizen, COMPLAINT_STEPS)
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    await front.restart()
    assert "دامپزشک" in said(await citizen.send(code))


async def test_redelivered_update_is_not_handled_twice(front, platform: Platform) -> None:
    """At-least-once polling: an update the messenger delivers again after it was handled
    (its confirmation was lost in a crash) does nothing the second time."""
    fake = front.bot(platform)
    citizen = fake.private_chat(7600, "کاربر")
    await walk(citizen, COMPLAINT_STEPS)
    fake.lose_confirmations = True
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    await front.stop()
    fake.lose_confirmations = False
    lost = fake.requeue_lost()
    assert lost, "the confirm update is delivered again"
    sent_before = len(citizen.messages())
    await front.start()
    await wait_until(lambda: all(fake.is_confirmed(u) for u in lost), what="redelivery handled")
    assert len(citizen.messages()) == sent_before, "no second receipt"
    async with SqlUnitOfWork(front.app.sessions) as tx:
        mine = await tx.requests.by_chat(ChatRef(platform, 7600), 10)
    assert [r.code for r in mine] == [code], "exactly one request was filed"


async def test_with_redis_the_conversation_stays_in_the_database(api, tmp_path) -> None:
    """With REDIS_URL set (the workers' shared limits), conversation state still lives in the
    database, written with each update's done mark, and survives a restart."""
    import os
    import sqlite3

    from redis.asyncio import Redis

    from tests.e2e.conftest import Front

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set: the front with Redis not tested")
    db = tmp_path / "front.db"
    running = Front(api, f"sqlite+aiosqlite:///{db}", redis_url=url)
    await running.start()
    redis = Redis.from_url(url)
    try:
        citizen = running.bale.private_chat(7700 + os.getpid() % 1000, "کاربر")
        await walk(citizen, COMPLAINT_STEPS[:4])
        with sqlite3.connect(db) as conn:
            states = conn.execute("SELECT count(*) FROM fsm_states").fetchone()[0]
        assert states >= 1, "the conversation is in the database"
        assert not [k async for k in redis.scan_iter(match=f"fsm:{running.bale.id}:*")]
        await running.restart()
        await citizen.send("09151234567")
        await citizen.click(texts.BTN_NO_NATIONAL_CODE)
        await citizen.send("دامپزشک برای واکسیناسیون گوسفندها به روستا نیامد.")
        summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
        assert "نرگس امینی" in summary
    finally:
        await redis.aclose()
        await running.stop()
