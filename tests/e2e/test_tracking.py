"""Checking a request by its tracking code: who sees what, typos, unknown codes, throttling."""

from __future__ import annotations

from typing import Any

from bot.ui import texts
from desk import tracking
from desk.model import Platform
from desk.text import to_latin_digits, to_persian_digits
from tests.e2e.conftest import Front
from tests.e2e.helpers import said, tracking_code

ROUTED = "ثبت شد و به"
DESCRIPTION = "کود شیمیایی سهمیه ما هنوز تحویل نشده است و فصل کشت می‌گذرد."


async def file(citizen) -> str:
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("نهاده‌ها (بذر، کود، سم، علوفه)")
    await citizen.click("خوسف")
    await citizen.send("حمید نوری")
    await citizen.send_contact("989153334455")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    return tracking_code(await citizen.click(texts.BTN_CONFIRM))


def typo(code: str) -> str:
    """The same code with its last digit changed: the check digit no longer fits."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


async def test_owner_sees_content_others_see_status_only(front, platform: Platform) -> None:
    owner = front.bot(platform).private_chat(8001, "حمید")
    code = await file(owner)

    # «پیگیری درخواست» then the code, typed with spaces and dashes in Persian digits
    await owner.click(texts.BTN_TRACK)
    spaced = to_persian_digits(f"{code[:3]} {code[3:6]}-{code[6:]}")
    status = said(await owner.send(spaced))
    assert DESCRIPTION in status and ROUTED in status
    assert "مدیریت توسعه بازرگانی" in status  # the unit

    stranger = front.bot(platform).private_chat(8002, "غریبه")
    await stranger.send("/start")
    seen = said(await stranger.send(code))
    assert ROUTED in seen
    assert DESCRIPTION not in seen and "حمید نوری" not in seen and "۰۹۱۵۳۳۳۴۴۵۵" not in seen
    # A different phone proves nothing
    mismatch = said(await stranger.send_contact("09150000000"))
    assert texts.PHONE_MISMATCH in mismatch and DESCRIPTION not in mismatch

    # The owner on another account shares the phone given at filing: content is shown.
    second_account = front.bot(platform).private_chat(8003, "حمید")
    await second_account.send(code)
    shown = said(await second_account.send_contact("+98 915 333 4455"))
    assert DESCRIPTION in shown

    # Someone else's contact card is not proof
    other = front.bot(platform).private_chat(8004, "دیگری")
    await other.send(code)
    refused = said(await other.send_contact("09153334455", user_id=8001))
    assert NOT_OWN in refused and ROUTED in refused and DESCRIPTION not in refused


async def test_a_phone_book_card_or_another_users_card_proves_nothing_and_counts(
    front, platform: Platform
) -> None:
    """The attacker knows the victim's number: a phone-book card (no user_id) or the victim's
    account card shows the status only, and each is a failed look-up toward the chat's limit."""
    code = await file(front.bot(platform).private_chat(8401, "حمید"))
    attacker = front.bot(platform).private_chat(8402, "مهاجم")
    await attacker.send("/start")
    await attacker.send(code)
    book = said(await attacker.send_contact("09153334455", phone_book=True))
    assert NOT_OWN in book and ROUTED in book
    assert DESCRIPTION not in book and "حمید نوری" not in book
    foreign = said(await attacker.send_contact("+989153334455", user_id=8401))
    assert NOT_OWN in foreign and ROUTED in foreign and DESCRIPTION not in foreign
    # 2 failures so far; 8 unknown codes make the 10 an hour allows, then even the code is refused
    for _ in range(8):
        assert "پیدا نشد" in said(await attacker.send(unknown_code(code)))
    refused = said(await attacker.send(code))
    assert "تعداد جستجوهای ناموفق شما زیاد" in refused and ROUTED not in refused


async def test_own_contact_with_the_filing_phone_shows_the_content(
    front, platform: Platform
) -> None:
    code = await file(front.bot(platform).private_chat(8501, "حمید"))
    new_phone = front.bot(platform).private_chat(8502, "حمید")  # the owner's other account
    offered = await new_phone.send(code)
    assert texts.BTN_SHARE_PHONE in new_phone.keyboard() and DESCRIPTION not in said(offered)
    shown = said(await new_phone.send_contact("09153334455"))
    assert DESCRIPTION in shown and NOT_OWN not in shown and texts.CODE_LOCKED not in shown


async def test_three_failed_proofs_lock_a_code_for_every_chat_but_the_filing_one(
    front, platform: Platform
) -> None:
    owner = front.bot(platform).private_chat(8601, "حمید")
    code = await file(owner)
    # the owner's other account asked before the attack and holds the share button
    late = front.bot(platform).private_chat(8602, "حمید")
    await late.send(code)
    other_platform = Platform.BALE if platform is Platform.TELEGRAM else Platform.TELEGRAM
    attempts: list[tuple[Any, dict[str, Any]]] = [
        (front.bot(platform).private_chat(8603, "الف"), {"phone_book": True}),
        (front.bot(other_platform).private_chat(8604, "ب"), {"user_id": 8601}),
        (front.bot(platform).private_chat(8605, "ج"), {}),  # own account, its own number
    ]
    for chat, how in attempts:
        await chat.send(code)
        phone = "09151112233" if not how else "09153334455"
        assert DESCRIPTION not in said(await chat.send_contact(phone, **how))

    shown = said(await late.send_contact("09153334455"))  # a right proof, after the attack
    assert texts.CODE_LOCKED in shown and ROUTED in shown and DESCRIPTION not in shown
    fresh = front.bot(platform).private_chat(8606, "د")
    told = said(await fresh.send(code))
    assert texts.CODE_LOCKED in told and DESCRIPTION not in told
    assert texts.BTN_SHARE_PHONE not in fresh.keyboard()  # a number would not help now
    assert DESCRIPTION in said(await owner.send(code))  # the filing chat still sees everything


async def test_a_wave_of_failed_look_ups_is_told_to_the_admins_once(api, tmp_path) -> None:
    """Many chats on both messengers fail: the admin chat of each platform gets exactly one
    alert with the count, none again within the hour (not after a restart either), and no
    phone or code in it."""
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", failed_lookups_alert=5)
    await front.start()
    try:
        code = await file(front.telegram.private_chat(8701, "حمید"))
        guessed: list[str] = []

        async def fail(chat_id: int) -> None:
            platform = Platform.BALE if chat_id % 2 else Platform.TELEGRAM
            guess = unknown_code(code)
            guessed.append(guess)
            assert "پیدا نشد" in said(await front.bot(platform).private_chat(chat_id).send(guess))

        for chat_id in range(8710, 8715):  # 5 failures: at the threshold, not above it
            await fail(chat_id)
        await front.delivered()
        assert alerts(front) == {Platform.TELEGRAM: [], Platform.BALE: []}
        await fail(8715)  # the 6th
        stranger = front.bale.private_chat(8716, "غریبه")
        await stranger.send(code)
        await stranger.send_contact("09153334455", phone_book=True)  # the 7th, a failed proof
        await front.delivered()
        await front.restart()
        for chat_id in range(8720, 8730):
            await fail(chat_id)
        await front.delivered()
        told = alerts(front)
        for platform in (Platform.TELEGRAM, Platform.BALE):
            assert len(told[platform]) == 1, told
            text = told[platform][0]
            assert to_persian_digits(6) in text and "یک ساعت" in text
            for secret in (code, *guessed, "9153334455"):
                assert secret not in to_latin_digits(text)
    finally:
        await front.stop()


NOT_OWN = texts.CONTACT_NOT_OWN.split(":")[0]


def unknown_code(taken: str) -> str:
    code = tracking.generate()
    while code == taken:
        code = tracking.generate()
    return code


def alerts(front: Front) -> dict[Platform, list[str]]:
    """The look-up alerts each platform's admin chat received."""
    head = texts.ALERT_LOOKUPS.split("{count}")[0]
    return {
        p: [m.text or "" for m in front.admins(p).messages() if head in (m.text or "")]
        for p in (Platform.TELEGRAM, Platform.BALE)
    }


async def test_the_same_chat_id_on_the_other_platform_is_another_chat(front) -> None:
    code = await file(front.telegram.private_chat(8100, "حمید"))
    twin = front.bale.private_chat(8100, "حمید")
    assert DESCRIPTION not in said(await twin.send(code))
    await twin.click(texts.BTN_CANCEL)
    assert texts.MINE_EMPTY in said(await twin.click(texts.BTN_MINE))


async def test_typos_unknown_codes_and_throttling(front, platform: Platform) -> None:
    owner = front.bot(platform).private_chat(8201, "حمید")
    code = await file(owner)
    guesser = front.bot(platform).private_chat(8202, "حدس")
    await guesser.send("/start")

    wrong = said(await guesser.send(typo(code)))
    assert "احتمالاً یک رقم اشتباه" in wrong

    unknown = tracking.generate()
    while unknown == code:
        unknown = tracking.generate()
    assert "پیدا نشد" in said(await guesser.send(unknown))

    # after a failure the bot keeps waiting for a code
    assert texts.ERR_CODE_FORMAT in said(await guesser.send("12345"))

    for _ in range(7):  # 3 failures so far; 10 in an hour is the limit
        await guesser.send(tracking.generate())
    refused = said(await guesser.send(code))
    assert "تعداد جستجوهای ناموفق شما زیاد" in refused
    assert DESCRIPTION not in refused and ROUTED not in refused

    # The owner is not affected by someone else's guessing
    assert DESCRIPTION in said(await owner.send(code))


async def test_my_requests_lists_only_mine(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8301, "حمید")
    first = await file(citizen)
    second = await file(citizen)
    await file(front.bot(platform).private_chat(8302, "دیگری"))
    listing = said(await citizen.click(texts.BTN_MINE))
    assert listing.index(to_persian_digits(second)) < listing.index(to_persian_digits(first))
    assert listing.count("شکایت") == 2
