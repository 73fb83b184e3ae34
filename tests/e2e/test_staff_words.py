"""Staff and the head read their own words: cards in the staff's wording (not the citizen's),
anonymous cards that offer nothing that cannot reach anyone, «بستن» asked once more with the
sentence the citizen will read, and /report's figures that add up."""

from __future__ import annotations

import re

from bot.ui import texts
from desk.model import Platform, Status
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

EXTENSION = "extension"


def shown(message) -> str:
    """What a reader sees: the text without its markup (Telegram HTML, Bale's code marks)."""
    return re.sub(r"<[^>]+>|`", "", message.current_text() or "")


async def test_cards_use_the_staffs_words(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14601, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    assert "وضعیت: جدید — هنوز کسی برنداشته" in (card.text or "")
    assert "ارجاع شده به" not in (card.text or ""), "a fresh card arrived here, it was not sent off"

    water = front.group(WATER, platform)
    ahmad = water.as_admin(14602, "احمد")
    await ahmad.click(texts.BTN_CLAIM, message=card)
    await front.delivered()
    assert "وضعیت: در حال بررسی — احمد" in (card.current_text() or "")

    mark = len(fake.sent)
    await ahmad.click(texts.BTN_ASK, message=card)
    await ahmad.send("شماره پرونده چاه را بفرمایید.")
    await next_to(front, platform, citizen.chat_id, mark, "شماره پرونده")
    await front.delivered()
    shown = card.current_text() or ""
    assert "وضعیت: در انتظار پاسخ متقاضی" in shown
    assert "توضیح شما" not in shown, "the clerk is not the one who owes an explanation"

    # the citizen keeps their own words
    status = said(await citizen.send(to_persian_digits(code)))
    assert "منتظر توضیح شما" in status


async def _anonymous_suggestion(front, platform: Platform, chat_id: int) -> str:
    citizen = front.bot(platform).private_chat(chat_id, "حسن")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("ترویج و آموزش")
    await citizen.send("لطفاً کلاس‌های آموزشی آبیاری قطره‌ای را در روستاها برگزار کنید.")
    await citizen.click(texts.BTN_ANONYMOUS)
    return tracking_code(await citizen.click(texts.BTN_CONFIRM))


async def test_an_anonymous_card_offers_only_what_can_be_done(front, platform: Platform) -> None:
    fake = front.bot(platform)
    code = await _anonymous_suggestion(front, platform, 14611)
    card = await card_in(front, platform, EXTENSION, code)
    assert texts.BTN_ASK not in card.buttons(), "there is nobody to ask"
    assert texts.BTN_CLAIM in card.buttons() and texts.BTN_CLOSE in card.buttons()
    assert "پاسخ در پرونده ثبت می‌شود ولی به کسی خبر داده نمی‌شود" in (card.text or "")
    assert "برای پاسخ به متقاضی" not in (card.text or "")

    group = front.group(EXTENSION, platform)
    clerk = group.as_admin(14612, "مریم")
    await clerk.click(texts.BTN_TRANSFER, message=card)
    await clerk.click(texts.BTN_BACK, message=card)
    assert texts.BTN_ASK not in card.buttons(), "«بازگشت» brings back the same buttons"

    mark = len(fake.sent)
    replies = await clerk.send("از پیشنهاد شما سپاسگزاریم؛ در برنامه سال آینده است.", reply_to=card)
    await front.delivered()
    done = said(replies)
    assert "در پرونده ثبت شد" in done and "به کسی فرستاده نشد" in done
    later = [m.current_text() or "" for m in fake.sent[mark:] if m.chat_id == group.id]
    assert not any("برای متقاضی فرستاده شد" in text for text in later), later
    assert not any("پاسخ به متقاضی نمی‌رسد" in text for text in later), "said once, plainly"
    assert (await stored(front, code)).status is Status.ANSWERED

    # closing it says nobody will be told, not a sentence nobody reads
    other = await _anonymous_suggestion(front, platform, 14613)
    other_card = await card_in(front, platform, EXTENSION, other)
    await clerk.click(texts.BTN_CLOSE, message=other_card)
    asked = said(await clerk.click("تکراری", message=other_card))
    assert texts.STAFF_CLOSE_TELLS_NOBODY["nobody"] in asked
    assert "متقاضی این پیام را می‌خواند" not in asked


async def test_close_asks_first_with_the_citizens_sentence(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14621, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    ahmad = water.as_admin(14622, "احمد")

    await ahmad.click(texts.BTN_CLOSE, message=card)
    asked = await ahmad.click("خارج از حیطه وظایف سازمان", message=card)
    question = asked[-1]
    number = to_persian_digits(code)
    sentence = f"شکایت شما با کد رهگیری {number} بسته شد. دلیل: خارج از حیطه وظایف سازمان"
    assert "بسته شود؟" in shown(question) and sentence in shown(question)
    assert texts.BTN_CONFIRM_CLOSE in question.buttons() and texts.BTN_BACK in question.buttons()
    assert texts.BTN_CLOSE in card.buttons(), "the card keeps its buttons while asked"
    assert (await stored(front, code)).status is Status.ROUTED, "one tap closes nothing"

    # «بازگشت»: still open, and the question cannot be pressed again
    await ahmad.click(texts.BTN_BACK, message=question)
    assert "بسته نشد" in (question.current_text() or "") and question.buttons() == []
    assert (await stored(front, code)).status is Status.ROUTED

    # picked again and confirmed: closed, and the citizen reads exactly that sentence
    mark = len(fake.sent)
    await ahmad.click(texts.BTN_CLOSE, message=card)
    question = (await ahmad.click("خارج از حیطه وظایف سازمان", message=card))[-1]
    await ahmad.click(texts.BTN_CONFIRM_CLOSE, message=question)
    told = await next_to(front, platform, citizen.chat_id, mark, "بسته شد")
    assert shown(told) == sentence, "the citizen reads the very sentence staff were shown"
    assert question.buttons() == [] and "بسته شد" in (question.current_text() or "")
    await front.delivered()
    assert "بسته شده — خارج از حیطه وظایف سازمان" in (card.current_text() or "")
    assert (await stored(front, code)).status is Status.CLOSED
