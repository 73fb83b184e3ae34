"""Staff are people, not chats: in a unit's group only its administrators and the members they
grant (`/staff`) act; a plain member, an anonymous administrator or a message sent as a channel
changes nothing and is told so. The same in the admins' group; a private chat listed as an admin
chat has no powers at all."""

from __future__ import annotations

import logging

import pytest

from bot.ui import texts
from desk.model import Platform, Status
from storage.repositories import SqlUnitOfWork
from tests.e2e.helpers import said, stored
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint

ODD_NAME = "R<D & Co"


async def _actors(front, code: str) -> list[tuple[str, str]]:
    async with SqlUnitOfWork(front.app.sessions) as tx:
        return [(e.action, e.actor) for e in await tx.requests.events(code)]


def _newest_id(group) -> int:
    """The id of the newest message in the group (the one a member just sent)."""
    return int(max(group.chat.messages))


def _answers(fake, since: int) -> list[str]:
    return [a.get("text") or "" for a in fake.callback_answers[since:]]


async def test_a_member_acts_only_once_an_admin_grants_them(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(12001, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    admin = water.as_admin(602, "مریم")
    member = water.as_member(601, ODD_NAME)
    other = water.as_member(603, "رضا")

    # A plain member presses «بررسی می‌کنم» and replies with an answer: nothing changes, the
    # citizen gets nothing, the member is told (an alert for the press, a reply for the answer).
    to_citizen = len(fake.messages_to(citizen.chat_id))
    answers = len(fake.callback_answers)
    await member.click(texts.BTN_CLAIM, message=card)
    assert _answers(fake, answers) == [texts.STAFF_ONLY]
    assert fake.callback_answers[-1].get("show_alert") is True
    replies = await member.send("پاسخ جعلی به متقاضی", reply_to=card)
    assert texts.STAFF_ONLY in said(replies)
    await front.delivered()
    assert (await stored(front, code)).status is Status.ROUTED
    assert [a for a, _ in await _actors(front, code)] == ["filed", "routed"]
    assert len(fake.messages_to(citizen.chat_id)) == to_citizen, "the citizen got nothing"

    # A plain member cannot make anyone staff, themselves included.
    await member.send("سلام، من هم کارشناس هستم")
    member_message = _newest_id(water)
    refused = await other.send("/staff", reply_to=member_message)
    assert texts.STAFF_GRANT_ERRORS["not_admin"] in said(refused)
    refused = await member.send("/staff", reply_to=member_message)
    assert texts.STAFF_GRANT_ERRORS["not_admin"] in said(refused)

    # The administrator grants them: now they act, and the event names them.
    granted = await admin.send("/staff", reply_to=member_message)
    assert "کارشناس این گروه است" in said(granted)
    await member.click(texts.BTN_CLAIM, message=card)
    await front.delivered()
    request = await stored(front, code)
    assert request.status is Status.IN_PROGRESS
    label = f"{platform.value}:601 ({ODD_NAME})"
    assert ("claimed", label) in await _actors(front, code)

    # /staff_list: administrators and granted members, every name escaped.
    listing = said(await admin.send("/staff_list"))
    assert "مریم" in listing and "به اجازه مریم" in listing
    if platform is Platform.TELEGRAM:  # HTML: the name escaped, shown as written
        assert "R&lt;D &amp; Co" in listing and ODD_NAME not in listing
    else:  # Bale: nothing shaped like a tag
        assert "R‹D & Co" in listing and "<" not in listing

    # /unstaff: refused again.
    revoked = await admin.send("/unstaff", reply_to=member_message)
    assert "دیگر کارشناس این گروه نیست" in said(revoked)
    answers = len(fake.callback_answers)
    await member.click(texts.BTN_CLOSE, message=card)
    assert _answers(fake, answers) == [texts.STAFF_ONLY], "a press always gets its pop-up"
    replies = await member.send("پاسخ پس از برداشتن اجازه", reply_to=card)
    # told at the first refused reply, ten minutes have not passed: no message this time, so
    # a member typing on and on cannot make the bot write into the group at their pace
    assert replies == []
    await front.delivered()
    assert (await stored(front, code)).status is Status.IN_PROGRESS
    assert "answered" not in [a for a, _ in await _actors(front, code)]


async def test_anonymous_admins_and_channel_senders_cannot_act(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(12002, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    water.promote(604, anonymous=True)
    anonymous = water.as_anonymous_admin()
    channel = water.as_channel(-100777, "کانال")
    to_citizen = len(fake.messages_to(citizen.chat_id))
    for sender in (anonymous, channel):
        replies = await sender.send("پاسخ بی‌نام", reply_to=card)
        assert texts.STAFF_ANONYMOUS in said(replies)
    plain = water.as_member(605, "عضو")
    await plain.send("سلام")
    refused = await anonymous.send("/staff", reply_to=_newest_id(water))
    assert texts.STAFF_ANONYMOUS in said(refused)
    await front.delivered()
    assert (await stored(front, code)).status is Status.ROUTED
    assert len(fake.messages_to(citizen.chat_id)) == to_citizen


async def test_a_member_promoted_after_the_cache_filled_acts_at_once(
    front, platform: Platform
) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(12003, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    await water.as_admin(606, "مدیر").click(texts.BTN_CLAIM, message=card)  # the list is cached
    fetched = len(fake.calls_of("getChatAdministrators"))
    newcomer = water.as_member(607, "تازه‌وارد")
    water.promote(newcomer)
    await newcomer.send("پاسخ کارشناس تازه", reply_to=card)
    await front.delivered()
    assert (await stored(front, code)).status is Status.ANSWERED
    assert ("answered", f"{platform.value}:607 (تازه‌وارد)") in await _actors(front, code)
    assert len(fake.calls_of("getChatAdministrators")) == fetched + 1, "refreshed once"


@pytest.mark.slow
async def test_unreachable_administrators_fall_back_to_the_last_known_list(
    api, tmp_path, platform: Platform
) -> None:
    from tests.e2e.conftest import Front

    front = Front(
        api,
        f"sqlite+aiosqlite:///{tmp_path / 'front.db'}",
        staff_admins_seconds=0,
        staff_confirm_seconds=3,
    )
    await front.start()
    try:
        fake = front.bot(platform)
        citizen = fake.private_chat(12004, "علی")
        code = await file_water_complaint(citizen, photo=False)
        card = await card_in(front, platform, WATER, code)
        water = front.group(WATER, platform)
        admin = water.as_admin(608, "مدیر")
        await admin.click(texts.BTN_CLAIM, message=card)  # the list is known
        api.fail("getChatAdministrators", "500", times=1000)
        stranger = water.as_member(609, "غریبه")
        replies = await stranger.send("پاسخ غریبه", reply_to=card, timeout=40)
        # asked again for STAFF_CONFIRM_SECONDS, still no answer: not let through, and told
        # to send it again (it might be a new administrator)
        assert texts.STAFF_UNCONFIRMED in said(replies), (
            "nobody is let through for want of an answer"
        )
        await admin.send("پاسخ مدیر با فهرست قبلی", reply_to=card, timeout=40)
        await front.delivered()
        assert (await stored(front, code)).status is Status.ANSWERED
        assert ("answered", f"{platform.value}:608 (مدیر)") in await _actors(front, code)
        api.clear_faults()
        assert await citizen.send("/start"), "the bot is alive"
    finally:
        await front.stop()
        assert not front.telegram.violations and not front.bale.violations


@pytest.mark.slow
async def test_a_new_administrators_answer_outlives_a_short_outage(
    api, tmp_path, platform: Platform
) -> None:
    """Promoted while the messenger does not list the administrators: the reply waits, asks
    again, and goes through once it answers; the citizen gets the answer."""
    from tests.e2e.conftest import Front

    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", staff_confirm_seconds=30)
    await front.start()
    try:
        fake = front.bot(platform)
        citizen = fake.private_chat(12006, "علی")
        code = await file_water_complaint(citizen, photo=False)
        card = await card_in(front, platform, WATER, code)
        water = front.group(WATER, platform)
        newcomer = water.as_member(610, "تازه‌کار")
        water.promote(newcomer)
        # for 8 s the messenger answers every call about the group with a 500: longer than
        # one call's own retries, shorter than STAFF_CONFIRM_SECONDS
        api.refuse_chat(fake.token, water.id, 8, kind="500")
        mark = len(fake.sent)
        await newcomer.send("کارشناس فردا تماس می‌گیرد.", reply_to=card, timeout=40)
        answer = await fake.wait_for(
            lambda m: m.chat_id == citizen.chat_id and "فردا تماس" in (m.text or ""),
            since=mark,
            timeout=40,
        )
        assert answer
        assert (await stored(front, code)).status is Status.ANSWERED
    finally:
        await front.stop()
        assert not front.telegram.violations and not front.bale.violations


async def test_admin_commands_of_a_plain_member_are_refused(front, platform: Platform) -> None:
    admins = front.admins(platform)
    member = admins.as_member(7101, "عضو")
    replies = await member.send("/report")
    assert said(replies) == texts.ADMIN_ONLY, "told once"
    for command in ("/publish", "/export 1405-09-01 1405-09-30", "/drafts", "/withdraw_draft 1 x"):
        # within ten minutes of the notice, nothing more is written into the group
        assert await member.send(command) == [], command
    report = await admins.as_admin(7102, "مدیر").send("/report")
    assert texts.REPORT_TITLE in said(report)


async def test_talk_in_the_admins_group_asks_nobody_who_is_staff(front, platform: Platform) -> None:
    """Only an admin command, a /publish step or a /publish press asks who the group's staff
    are (AdminChat on the routers; StaffOnly once a handler's own filters matched): a plain
    member's chatter costs no look-up of the administrators, and gets no answer."""
    fake = front.bot(platform)
    admins = front.admins(platform)
    member = admins.as_member(7103, "عضو")
    before = len(fake.calls_of("getChatAdministrators"))
    assert await member.send("سلام به همه") == []
    assert len(fake.calls_of("getChatAdministrators")) == before
    assert said(await member.send("/drafts")) == texts.ADMIN_ONLY
    assert len(fake.calls_of("getChatAdministrators")) > before, "a command asks"


async def test_a_private_chat_listed_as_admin_chat_gets_no_admin_powers(
    api, tmp_path, caplog
) -> None:
    from tests.e2e.conftest import ROOT, Front

    rules = (ROOT / "routing_rules.yaml").read_text(encoding="utf-8")
    private = rules.replace("  telegram: [-1001000009001]", "  telegram: [-1001000009001, 12005]")
    assert private != rules
    path = tmp_path / "rules.yaml"
    path.write_text(private, encoding="utf-8")
    front = Front(
        api,
        f"sqlite+aiosqlite:///{tmp_path / 'front.db'}",
        private_chats=(12005,),
        routing_rules=path,
    )
    await front.start()
    try:
        citizen = front.telegram.private_chat(12005, "علی")
        with caplog.at_level(logging.WARNING, logger="bot.handlers.admin"):
            for command in ("/report", "/report", "/drafts"):
                replies = await citizen.send(command)
                assert texts.REPORT_TITLE not in said(replies)
                assert texts.ADMIN_DRAFTS_LIST not in said(replies)
        ignored = [r for r in caplog.records if "not a group: ignored" in r.getMessage()]
        assert len(ignored) == 1, "one clear line, the first time"
    finally:
        await front.stop()
