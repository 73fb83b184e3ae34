"""The words a citizen and a clerk read on real screens, on Telegram and on Bale (issue 14,
item 5): no «نویسه», «رد کردن» or «(Reply)», the county asked in plain words, receipts and
notices whose grammar agrees for each kind, and the survey's scale the same as the answer's."""

from __future__ import annotations

from bot.ui import texts
from desk.model import Platform
from desk.text import to_persian_digits
from tests.e2e.helpers import said, tracking_code
from tests.e2e.test_citizen_texts import answered
from tests.e2e.test_staff_desk import DESCRIPTION, WATER, card_in, next_to

JARGON = ("نویسه", "رد کردن", "Reply", "محل موضوع")
HEAD_OFFICE = "head_office"


def plain(text: str) -> bool:
    return not any(word in text for word in JARGON)


async def test_a_complaint_in_plain_words(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14851, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    county = said(await citizen.click("آب و آبیاری"))
    assert "این مشکل در کدام شهرستان است؟" in county and plain(county)
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    code_step = said(await citizen.send_contact("+989151234567"))
    assert "«ادامه بدون کد ملی»" in code_step and plain(code_step)
    assert texts.BTN_NO_NATIONAL_CODE in citizen.keyboard()
    assert plain(" ".join(citizen.keyboard()))
    described = said(await citizen.click(texts.BTN_NO_NATIONAL_CODE))
    assert "دست‌کم چند کلمه" in described and "حدود ۵۰۰ کلمه" in described
    assert plain(described)
    short = said(await citizen.send("آب نیست"))
    assert "دست‌کم چند کلمه (۱۰ حرف)" in short and plain(short)
    await citizen.send(DESCRIPTION)
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))

    card = await card_in(front, platform, WATER, code)
    assert "روی همین پیام بزنید و «پاسخ» را انتخاب کنید" in card.seen()
    assert plain(card.seen())


async def test_an_old_keyboards_skip_still_skips(front, platform: Platform) -> None:
    """A conversation begun before the upgrade still shows «رد کردن»: it skips as it did."""
    citizen = front.bot(platform).private_chat(14852, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    assert texts.ASK_DESCRIPTION[:20] in said(await citizen.send("رد کردن"))


async def test_receipts_and_notices_agree_for_each_kind(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14853, "مریم")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("مریم احمدی")
    await citizen.send_contact("+989151234567")
    await citizen.send("لطفاً به وضعیت آب روستای ما رسیدگی کنید، چند بار نامه دادیم.")
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    replies = await citizen.click(texts.BTN_CONFIRM)
    head = said(replies)
    assert head.startswith("پیام شما به رئیس سازمان در تاریخ"), head
    assert "پیام به رئیس سازمان شما" not in head
    code = tracking_code(replies)
    # a later notice: the same noun phrase, «شما» where Persian puts it
    card = await card_in(front, platform, HEAD_OFFICE, code)
    mark = len(front.bot(platform).sent)
    await (
        front.group(HEAD_OFFICE, platform)
        .as_admin(501, "احمد")
        .click(texts.BTN_CLAIM, message=card)
    )
    shown = to_persian_digits(code)
    notice = await next_to(front, platform, citizen.chat_id, mark, "در حال بررسی")
    assert notice.seen().startswith("پیام شما به رئیس سازمان با کد رهگیری")
    assert shown in notice.seen() and "درخواست پیام" not in notice.seen()

    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("زراعت")
    await citizen.send("بهتر است بذر اصلاح‌شده زودتر به دست کشاورزان برسد.")
    await citizen.click(texts.BTN_WITH_NAME)
    suggestion = said(await citizen.click(texts.BTN_CONFIRM))
    assert suggestion.startswith("پیشنهاد یا انتقاد شما در تاریخ"), suggestion
    assert "پیشنهاد و انتقاد شما" not in suggestion

    await citizen.click(texts.BTN_SURVEY)
    await citizen.click("مشاوره و ترویج")
    for label in texts.RATE_LABELS[:4]:
        await citizen.click(label)
    survey = said(await citizen.click(texts.BTN_NO_COMMENT))
    assert survey.startswith("پاسخ شما به نظرسنجی در تاریخ"), survey


async def test_an_answer_to_a_complaint_agrees(front, platform: Platform) -> None:
    _, code, answer = await answered(front, platform, 14854, "کارشناس فردا می‌آید.")
    text = answer.seen()
    assert text.startswith(f"پاسخ شکایت شما با کد رهگیری {to_persian_digits(code)}"), text
    assert "درخواست شکایت" not in text


async def test_the_survey_and_the_answer_rate_on_one_scale(front, platform: Platform) -> None:
    _, _, answer = await answered(front, platform, 14855, "مشکل برطرف شد.")
    citizen = front.bot(platform).private_chat(14856, "مهدی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SURVEY)
    question = (await citizen.click("بیمه محصولات کشاورزی"))[-1]
    # the same words for the same number, «۵ عالی» first, on both
    assert (
        question.buttons()
        == answer.buttons()
        == ["۵ عالی", "۴ خوب", "۳ متوسط", "۲ بد", "۱ خیلی بد"]
    )
    assert "از ۱ (خیلی بد) تا ۵ (عالی)" in question.seen()
