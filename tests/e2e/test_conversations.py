"""Every citizen conversation, end to end over HTTP, on Telegram and on Bale."""

from __future__ import annotations

from bot.ui import texts
from desk import tracking
from desk.model import AttachmentKind, ChatRef, Kind, Platform, Status
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored, tracking_code

DESCRIPTION = "آب چاه کشاورزی ما از سه هفته پیش قطع شده و کسی پاسخگو نیست."


async def file_complaint(citizen, *, attachments: bool = True):
    """Walk the whole complaint conversation with valid answers; returns the receipt."""
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.send("۰۰۸۴۵۷۵۹۴۸")  # a valid national code typed with Persian digits
    await citizen.send(DESCRIPTION)
    if attachments:
        await citizen.send_photo(size=80_000)
        await citizen.send_voice()
        await citizen.send_location(32.87, 59.22)
        await citizen.click(texts.BTN_DONE)
    else:
        await citizen.click(texts.BTN_NO_ATTACHMENTS)
    return await citizen.click(texts.BTN_CONFIRM)


async def test_complaint_end_to_end(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(5001, "علی")
    await citizen.send("/start")
    receipt = await file_complaint(citizen)
    text = said(receipt)
    assert "کد رهگیری" in text and "ثبت شد" in text
    assert "آذر" in text or "۱۴۰" in text  # a Jalali date
    code = tracking_code(receipt)
    assert tracking.is_valid(code)
    assert texts.BTN_COMPLAINT in citizen.keyboard(), "the main menu is back after filing"

    request = await stored(front, code)
    assert request.kind is Kind.COMPLAINT and request.status is Status.ROUTED
    assert request.chat == ChatRef(platform, 5001)
    assert (request.topic, request.county) == ("water", "ferdows")
    assert request.unit == "water_soil"
    assert request.contact.name == "علی رضایی"
    assert request.contact.phone == "09151234567"
    assert request.contact.national_code == "0084575948"
    assert request.text == DESCRIPTION
    assert [a.kind for a in request.attachments] == [
        AttachmentKind.PHOTO,
        AttachmentKind.VOICE,
        AttachmentKind.LOCATION,
    ]

    # The owner looks it up by sending the code in Persian digits: status, text.
    status = said(await citizen.send(to_persian_digits(code)))
    assert "ثبت شد و به «مدیریت آب و خاک و امور فنی و مهندسی» رسید" in status
    assert DESCRIPTION in status

    mine = said(await citizen.click(texts.BTN_MINE))
    assert to_persian_digits(code) in mine and "شکایت" in mine


async def test_summary_edit_comes_back_to_summary(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(5002, "زهرا")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("باغبانی")
    await citizen.click("بیرجند")
    await citizen.send("زهرا احمدی")
    await citizen.send("09351112233")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(DESCRIPTION)
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    assert "بیرجند" in summary and "۰۹۳۵۱۱۱۲۲۳۳" in summary

    await citizen.click(texts.BTN_EDIT)
    await citizen.click(texts.FIELD_LABELS["county"])
    summary = said(await citizen.click("قائنات"))
    assert texts.SUMMARY_TITLE in summary, "editing one field returns to the summary"
    assert "قائنات" in summary and "بیرجند" not in summary
    assert "زهرا احمدی" in summary, "nothing else was lost"

    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert request.county == "qaenat" and request.unit == "horticulture"
    assert request.contact.national_code is None


async def test_anonymous_suggestion_says_no_answer_can_reach(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(5003, "حسن")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("ترویج و آموزش")
    await citizen.send("لطفاً کلاس‌های آموزشی آبیاری قطره‌ای را در روستاها برگزار کنید.")
    warned = said(await citizen.click(texts.BTN_ANONYMOUS))
    assert "پاسخی به شما نخواهد رسید" in warned
    receipt = await citizen.click(texts.BTN_CONFIRM)
    assert "پاسخی برایتان فرستاده نمی‌شود" in said(receipt)
    request = await stored(front, tracking_code(receipt))
    assert request.anonymous and request.chat is None and request.user_id is None
    assert request.contact.name is None
    assert request.kind is Kind.SUGGESTION and request.unit == "extension"


async def test_named_suggestion(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(5004, "رضا", last_name="کریمی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("سایر موارد")
    await citizen.send("ساعت کاری اداره در روزهای برداشت محصول طولانی‌تر شود.")
    await citizen.click(texts.BTN_WITH_NAME)
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.chat == ChatRef(platform, 5004) and not request.anonymous
    assert request.contact.name == "رضا کریمی"
    assert request.unit == "public_relations"  # the default unit


async def test_message_to_the_head(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(5005, "فاطمه")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("فاطمه محمدی")
    await citizen.send("0915 123 4567")
    await citizen.send("جناب رئیس، درخواست بازدید از مزارع زعفران روستای ما را داریم.")
    await citizen.send_document(size=120_000, file_name="نامه.pdf")
    await citizen.click(texts.BTN_DONE)
    receipt = await citizen.click(texts.BTN_CONFIRM)
    request = await stored(front, tracking_code(receipt))
    assert request.kind is Kind.HEAD and request.unit == "head_office"
    assert request.contact.phone == "09151234567"
    assert request.attachments[0].kind is AttachmentKind.DOCUMENT
    assert request.attachments[0].file_name == "نامه.pdf"
    assert "دفتر ریاست سازمان" in said(receipt)


async def test_service_survey(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(5006, "مهدی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SURVEY)
    first = await citizen.click("بیمه محصولات کشاورزی")
    assert "پرسش ۱ از ۴" in said(first)
    await citizen.click("۵ عالی")
    # A press on the first question's buttons again (a replay) changes nothing.
    replay = await citizen.click_data("lk:0:1", first[-1])
    assert replay == []
    await citizen.click("۴ خوب")
    await citizen.send("۳")  # typed digits work too
    last = await citizen.click("۲ بد")
    assert texts.BTN_NO_COMMENT in citizen.keyboard(), f"comment step expected: {said(last)}"
    receipt = await citizen.send("کارشناس بیمه دیر به مزرعه آمد.")
    request = await stored(front, tracking_code(receipt))
    assert request.kind is Kind.SURVEY and request.unit == "inspection"
    assert request.survey is not None
    assert request.survey["service"] == "بیمه محصولات کشاورزی"
    answers = request.survey["answers"]
    assert isinstance(answers, list)
    assert [a["score"] for a in answers] == [5, 4, 3, 2]
    assert request.text == "کارشناس بیمه دیر به مزرعه آمد."
