"""Bad input gets a clear Persian message, the same step is asked again, nothing is lost."""

from __future__ import annotations

from bot.ui import texts
from desk.model import Platform
from tests.e2e.helpers import said, stored, tracking_code


async def test_every_bad_input_is_refused_politely_and_nothing_is_lost(
    front, platform: Platform
) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(6001, "کاربر")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)

    # topic: free text instead of a button
    reply = said(await citizen.send("یک موضوع دیگر"))
    assert texts.ERR_PICK_BUTTON in reply and texts.ASK_TOPIC in reply
    await citizen.click("زراعت")
    await citizen.click("سربیشه")

    # name: a sticker, a GIF, digits, an empty (invisible-only) message
    assert texts.ERR_TEXT_WANTED in said(await citizen.send_sticker())
    assert texts.ERR_TEXT_WANTED in said(await citizen.send_animation())
    assert "عدد یا نماد" in said(await citizen.send("12345"))
    assert texts.ERR_EMPTY in said(await citizen.send("\u200f\u200b "))
    await citizen.send("محمد حسینی")

    # phone: invalid number, someone else's contact
    reply = said(await citizen.send("12345"))
    assert "شماره همراه معتبر نیست" in reply
    assert texts.ERR_FOREIGN_CONTACT in said(
        await citizen.send_contact("+989121111111", user_id=999)
    )
    await citizen.send("+98 915 765 4321")

    # national code: wrong check digit
    assert "کد ملی واردشده معتبر نیست" in said(await citizen.send("0084575949"))
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)

    # description: too short, too long (10,000 characters), a sticker; a photo instead of
    # text is kept (issue 14, item 2), and the description asked again
    assert "دست‌کم" in said(await citizen.send("کوتاه"))
    too_long = said(await citizen.send("الف" * 5000))
    assert "بیش از حد مجاز (۳۰۰۰ حرف)" in too_long and "حدود ۵۰۰ کلمه" in too_long
    assert texts.ERR_DESCRIPTION_WANTED in said(await citizen.send_sticker())
    assert "عکس شما نگه داشته شد؛ حالا" in said(await citizen.send_photo())
    await citizen.send("گندم‌های ما به خاطر بذر نامرغوب سبز نشدند و خسارت دیدیم.")

    # attachments: a sticker, a file over the platform's limit, then a good photo
    assert texts.ERR_ATTACHMENT_KIND in said(await citizen.send_sticker())
    big = said(await citizen.send_document(size=25 * 1024 * 1024, file_name="big.zip"))
    assert "حجم این فایل" in big and "۲۰" in big
    if platform is Platform.BALE:
        big_photo = said(await citizen.send_photo(size=11 * 1024 * 1024))
        assert "حجم این فایل" in big_photo and "۱۰" in big_photo
    await citizen.send_photo(size=200_000)
    summary = said(await citizen.click(texts.BTN_DONE))

    # everything entered before the mistakes is still there
    for expected in ("زراعت", "سربیشه", "محمد حسینی", "۰۹۱۵۷۶۵۴۳۲۱", "بذر نامرغوب", "۲ عکس"):
        assert expected in summary, f"{expected!r} missing from the summary"
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.contact.phone == "09157654321" and len(request.attachments) == 2


async def test_at_most_five_attachments(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(6002, "کاربر")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("سارا کاظمی")
    await citizen.send("09151234567")
    await citizen.send("درخواست رسیدگی به وضعیت جاده دسترسی به مزارع روستا.")
    for _ in range(4):
        await citizen.send_photo()
    last = said(await citizen.send_voice())
    assert "۵" in last and texts.SUMMARY_TITLE in last
    assert "۴ عکس" in last and "۱ پیام صوتی" in last


async def test_markup_in_citizen_text_is_shown_literally(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(6003, "<b>هکر</b>")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("سایر موارد")
    body = "متن <b>پررنگ</b> & <a href='x'>لینک</a> *ستاره* _زیرخط_ [پیوند](http://x) `کد`"
    await citizen.send(body)
    summary = (await citizen.click(texts.BTN_WITH_NAME))[-1].text or ""
    if platform is Platform.TELEGRAM:
        assert "&lt;b&gt;پررنگ&lt;/b&gt;" in summary and "&amp;" in summary
    else:
        assert "‹b›پررنگ‹/b›" in summary, "Bale shows look-alikes, never a tag"
        for markup in "*_[]`<>":
            assert markup not in summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == body, "the stored text is exactly what the citizen wrote"


async def test_arabic_letters_and_digits_are_normalised(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(6004, "کاربر")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("علي كريمي")  # Arabic yeh and kaf
    await citizen.send("٠٩١٥١٢٣٤٥٦٧")  # Arabic-Indic digits
    await citizen.send("سلام، لطفاً به مشكل آب كشاورزي ما رسيدگي كنيد.")
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.contact.name == "علی کریمی"
    assert request.contact.phone == "09151234567"
    assert "ي" not in request.text and "ك" not in request.text
