"""What a citizen reads after filing and around it (issue 14, item 5), on Telegram and on Bale:
labelled ratings that close after a tap, honest receipts for surveys and draft comments, a
look-up that ends without «cancelled», the survey's service keyboard cleared, a directory search
that stays open with «بازگشت», and the deadline on the status view."""

from __future__ import annotations

import pytest

from bot.ui import texts
from bot.ui.render import jalali
from desk.model import Platform
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_drafts import announced, publish, subscribe_by_start
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

TRACK_PROMISE = "وضعیت درخواست را می‌بینید"


async def answered(front, platform: Platform, chat_id: int, text: str):
    """A complaint filed by `chat_id` and answered by the water unit: the answer message."""
    citizen = front.bot(platform).private_chat(chat_id, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    mark = len(front.bot(platform).sent)
    await front.group(WATER, platform).send(text, reply_to=card)
    return citizen, code, await next_to(front, platform, citizen.chat_id, mark, text)


async def test_rating_is_labelled_and_final(front, platform: Platform) -> None:
    citizen, code, answer = await answered(front, platform, 14501, "کارشناس فردا می‌آید.")
    # each button says what it means, «۵ عالی» first
    assert answer.buttons() == ["۵ عالی", "۴ خوب", "۳ متوسط", "۲ بد", "۱ خیلی بد"]

    rated = said(await citizen.click("۲ بد", message=answer))
    assert "امتیاز شما ثبت شد: ۲ بد" in rated and texts.OFFER_REOPEN in rated
    # the buttons are gone from the answer; in their place, what was recorded
    assert answer.buttons() == ["امتیاز شما: ۲ بد"]

    # a second tap (the recorded button, or an old «۵» from a copy of the keyboard): recorded,
    # nothing changes and reopening is not offered again
    for again in (
        await citizen.click("امتیاز شما: ۲ بد", message=answer),
        await citizen.click_data(f"rt:{code}:5", answer),
    ):
        assert "پیش‌تر ثبت شده است (۲ بد)" in said(again)
        assert texts.OFFER_REOPEN not in said(again)
    assert (await stored(front, code)).rating == 2
    assert answer.buttons() == ["امتیاز شما: ۲ بد"]


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_a_reopened_request_is_rated_again(front, platform: Platform) -> None:
    citizen, code, answer = await answered(front, platform, 14502, "پاسخ نخست.")
    await citizen.click("۱ خیلی بد", message=answer)
    await citizen.click(texts.BTN_REOPEN)
    await citizen.send("مشکل هنوز هست.")
    card = await card_in(front, platform, WATER, code)
    mark = len(front.bot(platform).sent)
    await front.group(WATER, platform).send("پاسخ دوم.", reply_to=card)
    second = await next_to(front, platform, citizen.chat_id, mark, "پاسخ دوم")
    assert "امتیاز شما ثبت شد: ۵ عالی" in said(await citizen.click("۵ عالی", message=second))
    assert (await stored(front, code)).rating == 5


async def test_survey_receipt_and_keyboard(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14503, "مهدی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SURVEY)
    assert "بیمه محصولات کشاورزی" in citizen.keyboard()
    first = await citizen.click("بیمه محصولات کشاورزی")
    # the services' keyboard is gone: the question has only its own answer buttons
    assert citizen.keyboard() == [texts.BTN_BACK, texts.BTN_CANCEL]
    assert "«بیمه محصولات کشاورزی»" in said(first) and "پرسش ۱ از ۴" in said(first)
    for label in ("۵ عالی", "۴ خوب", "۳ متوسط"):
        await citizen.click(label)
    comment_step = said(await citizen.click("۲ بد"))
    assert "حدود ۱۶۰ کلمه" in comment_step and "نویسه" not in comment_step
    assert citizen.keyboard() == [texts.BTN_NO_COMMENT, texts.BTN_BACK, texts.BTN_CANCEL], (
        "no «رد کردن»"
    )
    receipt = said(await citizen.click(texts.BTN_NO_COMMENT))
    assert "پاسخ شما به نظرسنجی" in receipt and "سپاسگزاریم" in receipt
    assert TRACK_PROMISE not in receipt and "این کد را نگه دارید" not in receipt


async def test_draft_comment_receipt_is_honest(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14504, "مریم")
    await subscribe_by_start(citizen)
    draft = await publish(front)
    announcement = await announced(front, platform, citizen, draft.title)
    await citizen.click(texts.BTN_COMMENT_DRAFT, message=announcement)
    await citizen.click(texts.BTN_WHOLE_DRAFT)
    replies = await citizen.send("سهمیه آب باید بر پایه حقابه تاریخی هم باشد.")
    receipt = said(replies)
    assert tracking_code(replies)
    assert receipt.startswith(f"نظر شما درباره پیش‌نویس «{draft.title}» در تاریخ"), receipt
    assert "سپاس از مشارکت شما" in receipt
    assert "بازنگری پیش‌نویس" in receipt, "what happens with it"
    assert TRACK_PROMISE not in receipt and "این کد را نگه دارید" not in receipt


async def test_complaint_receipt_still_says_how_to_track(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14505, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send("آب چاه کشاورزی ما از سه هفته پیش قطع شده و کسی پاسخگو نیست.")
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    assert TRACK_PROMISE in said(await citizen.click(texts.BTN_CONFIRM))


async def test_ending_a_look_up_cancels_nothing(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14506, "حسن")
    await citizen.send("/start")
    for leave in (lambda: citizen.click(texts.BTN_CANCEL), lambda: citizen.send("/cancel")):
        await citizen.click(texts.BTN_TRACK)
        ended = said(await leave())
        assert texts.TRACKING_ENDED in ended and "نیمه‌کاره" not in ended
        assert texts.BTN_COMPLAINT in citizen.keyboard()
    # /start while a code is awaited: no «abandon your request?», the look-up just ends
    await citizen.click(texts.BTN_TRACK)
    ended = said(await citizen.send("/start"))
    assert texts.TRACKING_ENDED in ended and texts.ABANDON_QUESTION not in ended
    assert texts.LOST[:20] in said(await citizen.send("سلام")), "no look-up is waiting"
    # an old «abandon?» question (from a complaint) pressed while a code is awaited
    await citizen.click(texts.BTN_COMPLAINT)
    question = (await citizen.send("/start"))[-1]
    await citizen.click(texts.BTN_ABANDON, message=question)
    await citizen.click(texts.BTN_TRACK)
    ended = said(await citizen.click(texts.BTN_ABANDON, message=question))
    assert texts.TRACKING_ENDED in ended and texts.CANCELLED not in ended


async def test_directory_search_stays_open(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14507, "فاطمه")
    await citizen.send("/start")
    office = (await citizen.click(texts.BTN_CONTACT))[0]
    assert office.buttons()[-1] == texts.BTN_BACK
    await citizen.click(texts.BTN_DIRECTORY_SEARCH)
    first = said(await citizen.send("باغبانی"))
    assert "مهندس ابوالفضل شریفی" in first and texts.BTN_BACK in first
    assert citizen.keyboard() == [texts.BTN_BACK]
    # the next word is searched too, not «متوجه نشدم»
    second = said(await citizen.send("بیمه"))
    assert "علی اکبری" in second and texts.LOST[:20] not in second
    ended = said(await citizen.send(texts.BTN_BACK))  # the reply keyboard's button
    assert texts.DIRECTORY_SEARCH_ENDED in ended and texts.BTN_COMPLAINT in citizen.keyboard()
    assert texts.LOST[:20] in said(await citizen.send("باغبانی")), "the search is over"
    # «بازگشت» under the office, in the middle of a search: the menu
    await citizen.click(texts.BTN_DIRECTORY_SEARCH, message=office)
    back = said(await citizen.click(texts.BTN_BACK, message=office))
    assert texts.DIRECTORY_SEARCH_ENDED in back and texts.BTN_COMPLAINT in citizen.keyboard()
    assert texts.LOST[:20] in said(await citizen.send("بیمه"))
    # and outside any search: just the menu
    back = said(await citizen.click(texts.BTN_BACK, message=office))
    assert texts.DIRECTORY_BACK in back and texts.BTN_COMPLAINT in citizen.keyboard()


async def test_back_under_the_office_keeps_a_complaint(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14508, "مهدی")
    await citizen.send("/start")
    office = (await citizen.click(texts.BTN_CONTACT))[0]
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    asked = said(await citizen.click(texts.BTN_BACK, message=office))
    assert texts.ASK_COUNTY in asked, "the draft goes on at its step"
    assert texts.ASK_NAME in said(await citizen.click("فردوس"))


async def test_status_view_shows_the_deadline(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14509, "علی")
    code = await file_water_complaint(citizen, photo=False)
    request = await stored(front, code)
    assert request.due_at is not None
    due = jalali(request.due_at)
    status = said(await citizen.send(code))
    assert f"مهلت پاسخ: {due}" in status
    assert to_persian_digits("14") in due and not any(c.isascii() and c.isdigit() for c in due)
    # answered: no deadline any more
    card = await card_in(front, platform, WATER, code)
    mark = len(front.bot(platform).sent)
    await front.group(WATER, platform).send("پاسخ کارشناس.", reply_to=card)
    await next_to(front, platform, citizen.chat_id, mark, "پاسخ کارشناس")
    assert "مهلت پاسخ" not in said(await citizen.send(code))


async def test_a_staff_question_says_how_to_answer_in_plain_words(
    front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14510, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    mark = len(front.bot(platform).sent)
    await water.as_admin(501, "احمد").click(texts.BTN_ASK, message=card)
    await water.as_admin(501, "احمد").send("مساحت زمین چند هکتار است؟")
    question = await next_to(front, platform, citizen.chat_id, mark, "مساحت زمین")
    text = question.current_text() or ""
    assert "روی همین پیام بزنید و «پاسخ» را انتخاب کنید" in text
    assert "Reply" not in text and texts.BTN_REPLY_QUESTION in text
