"""Returning citizens (issue 14, item 3): the name and phone of the last filing offered back as
one button «همان قبلی: …», on Telegram and on Bale; /forget and retention erase them; the reach
of a first and a second complaint measured; nothing remembered reaches the logs."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import setup_logging
from bot.cli.data import apply_retention
from bot.ui import texts
from desk.model import Kind, Platform
from desk.text import to_persian_digits
from tests.e2e.conftest import Front
from tests.e2e.helpers import said, stored, tracking_code

NAME = "نرگس امینی"
PHONE = "09151234567"
SAME = f"همان قبلی: {NAME}، {to_persian_digits(PHONE)}"
DESCRIPTION = "دامپزشک برای واکسیناسیون گوسفندها به روستا نیامد."


class Counted:
    """A citizen whose messages and button presses are counted: the reach of a filing."""

    def __init__(self, citizen: Any) -> None:
        self.citizen = citizen
        self.actions = 0

    async def click(self, label: str) -> Any:
        assert label in self.citizen.keyboard(), f"{label!r} is not offered"
        self.actions += 1
        return await self.citizen.click(label)

    async def send(self, text: str) -> Any:
        self.actions += 1
        return await self.citizen.send(text)

    async def share_contact(self, phone: str) -> Any:
        self.actions += 1
        return await self.citizen.send_contact(phone)


async def first_complaint(citizen: Counted) -> str:
    """Every step, as a citizen with nothing remembered walks it; the tracking code."""
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("دام و طیور")
    await citizen.click("نهبندان")
    await citizen.send(NAME)
    await citizen.share_contact("+98" + PHONE[1:])
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    return tracking_code(await citizen.click(texts.BTN_CONFIRM))


async def second_complaint(citizen: Counted) -> tuple[str, str]:
    """With «همان قبلی»: the summary comes right after the description; (summary, code)."""
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("دام و طیور")
    await citizen.click("نهبندان")
    await citizen.click(SAME)
    summary = said(await citizen.send(DESCRIPTION))
    return summary, tracking_code(await citizen.click(texts.BTN_CONFIRM))


async def test_second_complaint_offers_the_same_name_and_phone_in_one_tap(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(61001, "نرگس")
    await citizen.send("/start")
    first = Counted(citizen)
    code1 = await first_complaint(first)

    second = Counted(citizen)
    await second.click(texts.BTN_COMPLAINT)
    await second.click("دام و طیور")
    asked = said(await second.click("نهبندان"))
    assert texts.ASK_NAME_OR_SAME in asked
    assert citizen.keyboard() == [SAME, texts.BTN_BACK, texts.BTN_CANCEL], (
        "one button: name and phone in order"
    )
    summary = said(await second.click(SAME))
    assert texts.ASK_DESCRIPTION[:20] in summary, "the phone and national code steps are skipped"
    summary = said(await second.send(DESCRIPTION))
    assert texts.SUMMARY_TITLE in summary and texts.SUMMARY_ATTACH_HINT in summary
    assert NAME in summary and to_persian_digits(PHONE) in summary
    # a photo sent now is kept, and the summary shown again
    again = said(await citizen.send_photo(size=60_000))
    assert texts.SUMMARY_TITLE in again and "۱ عکس" in again
    code2 = tracking_code(await second.click(texts.BTN_CONFIRM))

    one, two = await stored(front, code1), await stored(front, code2)
    assert two.kind is Kind.COMPLAINT and two.contact == one.contact
    assert (two.contact.name, two.contact.phone) == (NAME, PHONE)
    assert len(two.attachments) == 1
    assert first.actions == 9
    assert second.actions == 6, "a second complaint on the same account: six actions or fewer"


async def test_reach_of_a_first_and_a_second_complaint_on_bale(front: Front) -> None:
    """The figures in the README: 9 actions the first time, 6 the second."""
    citizen = front.bale.private_chat(61002, "نرگس")
    await citizen.send("/start")
    first, second = Counted(citizen), Counted(citizen)
    await first_complaint(first)
    _, code = await second_complaint(second)
    assert (await stored(front, code)).contact.phone == PHONE
    assert first.actions == 9
    assert second.actions <= 6
    assert second.actions == 6


async def test_typing_a_new_name_still_asks_the_phone(front: Front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(61003, "نرگس")
    await citizen.send("/start")
    await first_complaint(Counted(citizen))
    await citizen.click(texts.BTN_HEAD)
    assert SAME in citizen.keyboard(), "the message to the head offers it too"
    asked = said(await citizen.send("نرگس امینی‌پور"))
    assert "شماره همراه" in asked
    await citizen.send("09351112233")
    await citizen.send("پیشنهاد دارم جلسه‌ای با کشاورزان نهبندان برگزار شود.")
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert (request.contact.name, request.contact.phone) == ("نرگس امینی‌پور", "09351112233")
    # the latest details are the ones offered next
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("دام و طیور")
    await citizen.click("نهبندان")
    assert f"همان قبلی: نرگس امینی‌پور، {to_persian_digits('09351112233')}" in citizen.keyboard()


async def test_head_and_suggestion_file_with_the_remembered_details(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(61004, "نرگس")
    await citizen.send("/start")
    await first_complaint(Counted(citizen))

    await citizen.click(texts.BTN_HEAD)
    await citizen.click(SAME)
    summary = said(await citizen.send("درخواست دارم به وضعیت آب روستای ما رسیدگی شود، سپاس."))
    assert NAME in summary and to_persian_digits(PHONE) in summary
    head = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert head.kind is Kind.HEAD and (head.contact.name, head.contact.phone) == (NAME, PHONE)

    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("آب و آبیاری")
    await citizen.send("پیشنهاد می‌کنم کلاس آبیاری قطره‌ای در روستا برگزار شود.")
    assert SAME in citizen.keyboard()
    summary = said(await citizen.click(SAME))
    assert NAME in summary and to_persian_digits(PHONE) in summary
    idea = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert idea.kind is Kind.SUGGESTION and not idea.anonymous
    assert (idea.contact.name, idea.contact.phone) == (NAME, PHONE)


async def test_details_belong_to_one_account_on_one_platform(front: Front) -> None:
    """Nobody else is offered them: not another account, not the same id on the other
    messenger; and a phone reused with «همان قبلی» proves ownership exactly as a typed one."""
    owner = front.bale.private_chat(61005, "نرگس")
    await owner.send("/start")
    await first_complaint(Counted(owner))
    _, code = await second_complaint(Counted(owner))

    others = (front.bale.private_chat(61006, "غریبه"), front.telegram.private_chat(61005, "نرگس"))
    for other in others:
        await other.send("/start")
        await other.click(texts.BTN_COMPLAINT)
        await other.click("دام و طیور")
        await other.click("نهبندان")
        assert texts.ASK_NAME in said(other.messages()[-1:]) and SAME not in other.keyboard()
        assert not any(SAME in b for b in other.keyboard())
        await other.click(texts.BTN_CANCEL)

    # another account knows the code and the number: a phone-book card proves nothing
    stranger = front.bale.private_chat(61006, "غریبه")
    status = said(await stranger.send(code))
    assert DESCRIPTION not in status
    proof = said(await stranger.send_contact("+98" + PHONE[1:], phone_book=True))
    assert DESCRIPTION not in proof


async def test_forget_erases_what_is_remembered(front: Front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(61007, "نرگس")
    await citizen.send("/start")
    assert texts.NOTHING_TO_FORGET in said(await citizen.send("/forget"))
    await first_complaint(Counted(citizen))

    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("دام و طیور")
    await citizen.click("نهبندان")
    assert SAME in citizen.keyboard()
    replies = said(await citizen.send("/forget"))
    assert texts.FORGOTTEN in replies
    assert texts.ASK_NAME in replies and SAME not in citizen.keyboard(), "asked again, no button"
    asked = said(await citizen.send(NAME))
    assert "شماره همراه" in asked, "the phone is asked again"
    # the draft in hand is filed, and what it carries is not remembered again
    await citizen.send(PHONE)
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    assert (await stored(front, code)).contact.phone == PHONE
    assert texts.NOTHING_TO_FORGET in said(await citizen.send("/forget"))

    await citizen.click(texts.BTN_HEAD)
    assert SAME not in citizen.keyboard()


async def test_retention_clears_remembered_details(front: Front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(61008, "نرگس")
    await citizen.send("/start")
    await first_complaint(Counted(citizen))
    args = argparse.Namespace(days=30, dry_run=False)

    class Later:
        def __init__(self, days: int) -> None:
            self.at = datetime.now(UTC) + timedelta(days=days)

        def now(self) -> datetime:
            return self.at

    line = await apply_retention(args, front.db_url, clock=Later(10))
    assert "remembered" not in line, "ten days later they are still remembered"
    await citizen.click(texts.BTN_HEAD)
    assert SAME in citizen.keyboard()
    await citizen.click(texts.BTN_CANCEL)

    line = await apply_retention(args, front.db_url, clock=Later(31))
    assert "forgot the remembered name and phone of 1 account" in line, line
    await citizen.click(texts.BTN_HEAD)
    assert SAME not in citizen.keyboard() and texts.ASK_NAME in said(citizen.messages()[-1:])


@pytest.mark.slow
async def test_remembered_details_never_reach_the_logs(
    api: Any, tmp_path: Path, platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    """At LOG_LEVEL=DEBUG through the real setup_logging (as in test_security.py): a first
    filing, one with «همان قبلی», /forget; neither the name nor the phone is logged."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    capsys.readouterr()
    setup_logging("DEBUG")
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    try:
        await front.start()
        citizen = front.bot(platform).private_chat(61009, "نرگس")
        await citizen.send("/start")
        await first_complaint(Counted(citizen))
        await second_complaint(Counted(citizen))
        assert texts.FORGOTTEN in said(await citizen.send("/forget"))
        await front.stop()
    finally:
        await front.stop()
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in loggers.items():
            logging.getLogger(name).setLevel(old)
    text = capsys.readouterr().err
    assert text.count("\n") > 20 and "is handled" in text, "every update's line was captured"
    for secret in ("9151234567", "۹۱۵۱۲۳۴۵۶۷", NAME, "همان قبلی", "امینی"):
        assert secret not in text, f"{secret!r} reached the logs"
