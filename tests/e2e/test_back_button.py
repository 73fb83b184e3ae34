"""«بازگشت» on every step of every citizen conversation (issue 14, item 5), on Telegram and on
Bale: one step back with everything answered before kept, «ادامه با همان پاسخ قبلی» to go on
without typing an answer again, and the main menu from a first step (a kept sentence offered
again, a look-up ended)."""

from __future__ import annotations

from bot.ui import texts
from desk.model import Platform
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_drafts import announced, publish, subscribe_by_start
from tests.e2e.test_staff_desk import DESCRIPTION, file_water_complaint

NAV = [texts.BTN_BACK, texts.BTN_CANCEL]


def menu_shown(citizen) -> bool:
    return texts.BTN_COMPLAINT in citizen.keyboard()


async def test_complaint_back_step_by_step(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14801, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    assert citizen.keyboard()[-2:] == NAV, "the first step has «بازگشت» too"
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    # the name step: back to the county, which is asked again; another county goes on
    assert texts.ASK_COUNTY in said(await citizen.click(texts.BTN_BACK))
    assert texts.ASK_NAME in said(await citizen.click("بیرجند"))
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    # the national code step: back to the phone, then on again
    assert texts.ASK_PHONE[:20] in said(await citizen.click(texts.BTN_BACK))
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    # attachments: back to the description; its answer is kept and offered as it was
    back = said(await citizen.click(texts.BTN_BACK))
    assert texts.ASK_DESCRIPTION[:20] in back
    assert citizen.keyboard() == [texts.BTN_KEEP_ANSWER, *NAV]
    assert texts.ASK_ATTACHMENTS[:20] in said(await citizen.click(texts.BTN_KEEP_ANSWER))
    assert texts.BTN_KEEP_ANSWER not in citizen.keyboard(), "nothing is ahead any more"
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    # the summary: back to the attachments, then two steps back, and on again untyped
    assert texts.ASK_ATTACHMENTS[:20] in said(await citizen.click(texts.BTN_BACK))
    assert texts.ASK_DESCRIPTION[:20] in said(await citizen.click(texts.BTN_BACK))
    await citizen.click(texts.BTN_KEEP_ANSWER)
    again = said(await citizen.click(texts.BTN_KEEP_ANSWER))
    assert again == summary, "the same summary: nothing was lost on the way"
    assert "بیرجند" in summary and "علی رضایی" in summary and DESCRIPTION in summary

    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert (request.county, request.contact.name, request.text) == (
        "birjand",
        "علی رضایی",
        DESCRIPTION,
    )


async def test_back_on_the_first_step_is_the_menu(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14802, "علی")
    await citizen.send("/start")
    for button, first in (
        (texts.BTN_COMPLAINT, texts.ASK_TOPIC),
        (texts.BTN_SUGGESTION, texts.ASK_TOPIC),
        (texts.BTN_HEAD, texts.ASK_NAME),
        (texts.BTN_SURVEY, texts.ASK_SURVEY_SERVICE),
        (texts.BTN_TRACK, texts.ASK_CODE),
    ):
        assert first in said(await citizen.click(button)), button
        assert citizen.keyboard()[-2:] == NAV, button
        left = said(await citizen.click(texts.BTN_BACK))
        assert texts.BACK_TO_MENU in left or texts.TRACKING_ENDED in left, button
        assert texts.CANCELLED not in left and menu_shown(citizen), button
    # «بازگشت» from an old keyboard, with nothing going on: just the menu
    assert texts.BACK_TO_MENU in said(await citizen.send(texts.BTN_BACK))
    assert menu_shown(citizen)


async def test_head_and_suggestion_go_back(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14803, "مریم")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("مریم احمدی")
    assert texts.ASK_NAME in said(await citizen.click(texts.BTN_BACK))
    assert texts.ASK_PHONE[:20] in said(await citizen.click(texts.BTN_KEEP_ANSWER))
    await citizen.send_contact("+989151234567")
    assert texts.ASK_PHONE[:20] in said(await citizen.click(texts.BTN_BACK))
    await citizen.click(texts.BTN_KEEP_ANSWER)
    await citizen.send("لطفاً به وضعیت آب روستای ما رسیدگی کنید، چند بار نامه دادیم.")
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert (request.contact.name, request.contact.phone) == ("مریم احمدی", "09151234567")

    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("زراعت")
    await citizen.send("بهتر است بذر اصلاح‌شده زودتر به دست کشاورزان برسد.")
    # the naming step (its own three buttons): back to the text, then to the topic
    assert texts.ASK_SUGGESTION_TEXT[:20] in said(await citizen.click(texts.BTN_BACK))
    assert texts.ASK_TOPIC in said(await citizen.click(texts.BTN_BACK))
    await citizen.click("باغبانی")  # another topic; the text is still there
    await citizen.click(texts.BTN_KEEP_ANSWER)
    summary = said(await citizen.click(texts.BTN_WITH_NAME))
    assert "باغبانی" in summary and "بذر اصلاح‌شده" in summary


async def test_survey_goes_back_one_question(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14804, "مهدی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SURVEY)
    await citizen.click("بیمه محصولات کشاورزی")
    await citizen.click("۵ عالی")
    await citizen.click("۴ خوب")
    # the third question: back to the second, its answer taken back, the first kept
    assert "پرسش ۲ از ۴" in said(await citizen.click(texts.BTN_BACK))
    await citizen.click("۲ بد")
    await citizen.click("۳ متوسط")
    await citizen.click("۱ خیلی بد")
    # the comment: back to the last question
    assert "پرسش ۴ از ۴" in said(await citizen.click(texts.BTN_BACK))
    await citizen.click("۴ خوب")
    code = tracking_code(await citizen.click(texts.BTN_NO_COMMENT))
    answers = ((await stored(front, code)).survey or {}).get("answers")
    assert isinstance(answers, list) and [a["score"] for a in answers] == [5, 2, 3, 4]
    # the first question: back to the services, then the menu
    await citizen.click(texts.BTN_SURVEY)
    await citizen.click("مشاوره و ترویج")
    assert texts.ASK_SURVEY_SERVICE in said(await citizen.click(texts.BTN_BACK))
    assert "مشاوره و ترویج" in citizen.keyboard()
    assert texts.BACK_TO_MENU in said(await citizen.click(texts.BTN_BACK))


async def test_draft_comment_goes_back(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14805, "مریم")
    await subscribe_by_start(citizen)
    draft = await publish(front)
    announcement = await announced(front, platform, citizen, draft.title)
    await citizen.click(texts.BTN_COMMENT_DRAFT, message=announcement)
    await citizen.click(texts.BTN_WHOLE_DRAFT)
    assert citizen.keyboard()[-2:] == NAV
    await citizen.click(texts.COMMENTER_ROLES["expert"])
    assert citizen.keyboard() == NAV
    asked = said(await citizen.click(texts.BTN_BACK))
    assert "به‌عنوان چه کسی نظر می‌دهید" in asked
    await citizen.click(texts.COMMENTER_ROLES["farmer"])
    code = tracking_code(await citizen.send("سهمیه آب باید بر پایه حقابه تاریخی هم باشد."))
    assert (await stored(front, code)).commenter_role == "farmer"
    # the role step is the first: back is the menu
    await citizen.click(texts.BTN_COMMENT_DRAFT, message=announcement)
    await citizen.click(texts.BTN_WHOLE_DRAFT)
    assert texts.BACK_TO_MENU in said(await citizen.click(texts.BTN_BACK))
    assert menu_shown(citizen)


async def test_tracking_goes_back_to_the_code(front, platform: Platform) -> None:
    owner = front.bot(platform).private_chat(14806, "علی")
    code = await file_water_complaint(owner, photo=False)
    other = front.bot(platform).private_chat(14807, "حسن")
    await other.send("/start")
    await other.click(texts.BTN_TRACK)
    await other.send(code)  # another chat: the status only, and the contact is asked
    assert texts.BTN_SHARE_PHONE in other.keyboard() and other.keyboard()[-2:] == NAV
    assert texts.ASK_CODE in said(await other.click(texts.BTN_BACK))
    assert other.keyboard()[-2:] == NAV
    ended = said(await other.click(texts.BTN_BACK))
    assert texts.TRACKING_ENDED in ended and menu_shown(other)


async def test_a_kept_sentence_survives_going_back(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14808, "علی")
    await citizen.send("/start")
    sentence = "آب چاه ما قطع شده و کسی جواب نمی‌دهد"
    await citizen.send(sentence)
    await citizen.click(texts.BTN_KEEP_AS_COMPLAINT)
    # back on the first step: the menu, and the sentence offered again as it was
    left = said(await citizen.click(texts.BTN_BACK))
    assert texts.BACK_TO_MENU in left and texts.OFFER_KEPT_TEXT in left
    await citizen.click(texts.BTN_KEEP_AS_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    # attachments (the description was passed over): back is the national code, and on
    # again the description is still passed over
    assert texts.ASK_NATIONAL_CODE[:20] in said(await citizen.click(texts.BTN_BACK))
    assert texts.ASK_ATTACHMENTS[:20] in said(await citizen.click(texts.BTN_NO_NATIONAL_CODE))
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    assert sentence in summary


async def test_back_from_a_field_edited_at_the_summary(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14809, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    await citizen.click(texts.BTN_EDIT)
    assert texts.ASK_NAME[:20] in said(await citizen.click(texts.FIELD_LABELS["name"]))
    # the field: back to «which field?», then to the summary, which is as it was
    assert texts.ASK_EDIT_FIELD in said(await citizen.click(texts.BTN_BACK))
    assert said(await citizen.click(texts.BTN_BACK)) == summary
    assert texts.BTN_KEEP_ANSWER not in citizen.keyboard(), "the summary's own buttons lead on"
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    assert (await stored(front, code)).contact.name == "علی رضایی"


async def _to_summary_with_a_photo(citizen) -> str:
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    await citizen.send_photo(size=60_000)
    return said(await citizen.click(texts.BTN_DONE))


async def test_back_from_editing_the_attachments_keeps_the_photo(front, platform: Platform) -> None:
    """«ویرایش», «پیوست‌ها», then «بازگشت» twice (the citizen changed their mind): the photo
    is still on the summary and filed (review bug 5: it was dropped when «پیوست‌ها» was
    pressed)."""
    citizen = front.bot(platform).private_chat(14810, "علی")
    summary = await _to_summary_with_a_photo(citizen)
    assert "۱ عکس" in summary, summary
    await citizen.click(texts.BTN_EDIT)
    await citizen.click(texts.FIELD_LABELS["attachments"])
    assert texts.ASK_EDIT_FIELD in said(await citizen.click(texts.BTN_BACK))
    again = said(await citizen.click(texts.BTN_BACK))
    assert texts.SUMMARY_TITLE in again
    assert "۱ عکس" in again, f"the photo is gone from the summary: {again}"
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    assert len((await stored(front, code)).attachments) == 1, "filed without the photo"


async def test_editing_the_attachments_adds_to_them(front, platform: Platform) -> None:
    """«ویرایش» → «پیوست‌ها» → another photo → «پایان»: both photos are filed."""
    citizen = front.bot(platform).private_chat(14811, "علی")
    await _to_summary_with_a_photo(citizen)
    await citizen.click(texts.BTN_EDIT)
    await citizen.click(texts.FIELD_LABELS["attachments"])
    assert "پیوست ۲ از ۵" in said(await citizen.send_photo(size=30_000))
    summary = said(await citizen.click(texts.BTN_DONE))
    assert "۲ عکس" in summary, summary
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    assert len((await stored(front, code)).attachments) == 2


async def test_one_back_too_many_does_not_throw_away_a_whole_complaint(
    front, platform: Platform
) -> None:
    """From the summary back step by step to the topic, then once more: the bot asks «رها
    کنم؟» as /start in the middle does; «نه، ادامه می‌دهم» keeps every answer (review bug 6:
    the whole draft was dropped with «به منوی اصلی برگشتید.»)."""
    citizen = front.bot(platform).private_chat(14812, "علی")
    summary = await _to_summary_with_a_photo(citizen)
    assert "۱ عکس" in summary
    asked = ""
    for _ in range(10):  # summary → attachments → … → topic
        asked = said(await citizen.click(texts.BTN_BACK))
        if texts.ASK_TOPIC in asked:
            break
    assert texts.ASK_TOPIC in asked
    assert texts.BTN_KEEP_ANSWER in citizen.keyboard(), "the answers are still there"
    told = said(await citizen.click(texts.BTN_BACK))  # one tap too many
    assert texts.ABANDON_QUESTION in told, f"the whole draft was dropped without a word: {told}"
    assert texts.BACK_TO_MENU not in told
    assert texts.ASK_TOPIC in said(await citizen.click(texts.BTN_CONTINUE))
    for _ in range(10):  # on again, every answer kept
        if texts.SUMMARY_TITLE in (shown := said(await citizen.click(texts.BTN_KEEP_ANSWER))):
            break
    assert texts.SUMMARY_TITLE in shown and "۱ عکس" in shown and DESCRIPTION in shown
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    assert len((await stored(front, code)).attachments) == 1
