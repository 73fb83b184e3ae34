"""Checking a request by its tracking code: who sees what, typos, unknown codes, throttling."""

from __future__ import annotations

from bot import texts
from desk import tracking
from desk.model import Platform
from desk.text import to_persian_digits
from tests.e2e.helpers import said, tracking_code

ROUTED = "ارجاع شده به"
DESCRIPTION = "کود شیمیایی سهمیه ما هنوز تحویل نشده است و فصل کشت می‌گذرد."


async def file(citizen) -> str:
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("نهاده‌ها (بذر، کود، سم، علوفه)")
    await citizen.click("خوسف")
    await citizen.send("حمید نوری")
    await citizen.send_contact("989153334455")
    await citizen.click(texts.BTN_SKIP)
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
    assert texts.ERR_FOREIGN_CONTACT in refused and DESCRIPTION not in refused


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
