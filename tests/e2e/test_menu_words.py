"""Nothing a citizen sends in the main menu is lost: while a staff question waits, a typed text,
a photo or a voice note answers it; a sentence that reads like a request is offered to be filed
as it is, and survives a restart; a short unknown text still gets the help."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ui import texts
from desk.model import Platform, Status
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

QUESTION = "لطفاً بفرمایید مساحت زمین چند هکتار است؟"


async def asked(front, platform: Platform, citizen) -> tuple[str, Any]:
    """A water complaint (no attachment) whose unit has asked the citizen a question."""
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    clerk = water.as_admin(501, "احمد")
    mark = len(front.bot(platform).sent)
    await clerk.click(texts.BTN_ASK, message=card)
    await clerk.send(QUESTION)
    await next_to(front, platform, citizen.chat_id, mark, "مساحت زمین")
    assert (await stored(front, code)).status is Status.WAITING
    return code, card


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_a_typed_answer_in_the_menu_reaches_the_thread(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14101, "علی")
    code, card = await asked(front, platform, citizen)
    water = front.group(WATER, platform)

    mark = len(fake.sent)
    reply = said(await citizen.send("حدود پنج هکتار است."))  # no button pressed first
    assert texts.LOST[:20] not in reply
    assert to_persian_digits(code) in reply and "فرستاده شد" in reply
    note = await next_to(front, platform, water.id, mark, "پنج هکتار")
    assert note.reply_to_message_id == card.message_id
    assert (await stored(front, code)).status is Status.IN_PROGRESS

    # answered: the next unknown word is not taken for an answer any more
    assert texts.LOST[:20] in said(await citizen.send("باشه"))


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_a_photo_and_a_voice_in_the_menu_reach_the_thread(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14102, "علی")
    code, card = await asked(front, platform, citizen)
    water = front.group(WATER, platform)

    mark = len(fake.sent)
    reply = said(await citizen.send_photo(size=40_000))
    assert to_persian_digits(code) in reply and "فرستاده شد" in reply
    photo = await fake.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendPhoto", since=mark, timeout=15
    )
    assert photo.reply_to_message_id == card.message_id
    assert (await stored(front, code)).status is Status.IN_PROGRESS

    # asked again: a voice note answers the new question the same way
    clerk = water.as_admin(501, "احمد")
    mark = len(fake.sent)
    await clerk.click(texts.BTN_ASK, message=card)
    await clerk.send("صدای موتور پمپ را هم بفرستید.")
    await next_to(front, platform, citizen.chat_id, mark, "موتور پمپ")
    assert (await stored(front, code)).status is Status.WAITING
    mark = len(fake.sent)
    reply = said(await citizen.send_voice())
    assert to_persian_digits(code) in reply and "فرستاده شد" in reply
    voice = await fake.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendVoice", since=mark, timeout=15
    )
    assert voice.reply_to_message_id == card.message_id
    assert (await stored(front, code)).status is Status.IN_PROGRESS


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_the_newest_question_gets_the_answer(front) -> None:
    platform = Platform.TELEGRAM
    fake = front.bot(platform)
    citizen = fake.private_chat(14103, "علی")
    first, _ = await asked(front, platform, citizen)
    second, _ = await asked(front, platform, citizen)
    reply = said(await citizen.send("زمین ما سه هکتار است."))
    assert to_persian_digits(second) in reply and to_persian_digits(first) not in reply
    assert (await stored(front, second)).status is Status.IN_PROGRESS
    assert (await stored(front, first)).status is Status.WAITING
    # the menu's buttons still do what they say while a question waits
    assert texts.ASK_CODE in said(await citizen.click(texts.BTN_TRACK))


async def test_a_sentence_in_the_menu_is_filed_as_a_complaint(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14104, "علی")
    await citizen.send("/start")
    sentence = "آب چاه ما قطع شده و کسی جواب نمی‌دهد"
    offer = await citizen.send(sentence)
    assert texts.OFFER_KEPT_TEXT in said(offer)
    assert texts.LOST[:20] not in said(offer)

    await front.restart()  # the sentence is kept in the durable FSM data
    started = said(await citizen.click(texts.BTN_KEEP_AS_COMPLAINT))
    assert texts.KEPT_TEXT_USED in started and texts.ASK_TOPIC in started
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    after_code = said(await citizen.click(texts.BTN_NO_NATIONAL_CODE))
    assert texts.ASK_ATTACHMENTS[:30] in after_code, "the description step is passed over"
    assert texts.ASK_DESCRIPTION[:20] not in after_code
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    assert sentence in summary
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert request.text == sentence and request.topic == "water"
    card = await card_in(front, platform, WATER, code)
    assert sentence in (card.text or "")

    # the offer was used: pressing its button again files nothing more
    assert texts.KEPT_TEXT_GONE in said(await citizen.click(texts.BTN_KEEP_AS_COMPLAINT))


async def test_a_sentence_in_the_menu_is_filed_as_a_suggestion(front) -> None:
    fake = front.bot(Platform.BALE)
    citizen = fake.private_chat(14105, "علی")
    await citizen.send("/start")
    sentence = "بهتر است کلاس‌های آموزش آبیاری قطره‌ای در روستاها برگزار شود"
    await citizen.send(sentence)
    await citizen.click(texts.BTN_KEEP_AS_SUGGESTION)
    asked_next = said(await citizen.click("آب و آبیاری"))
    assert texts.ASK_ANONYMOUS in asked_next, "the text step is passed over"
    summary = said(await citizen.click(texts.BTN_WITH_NAME))
    assert sentence in summary
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert request.text == sentence


async def test_a_newer_sentence_replaces_the_offer(front) -> None:
    fake = front.bot(Platform.TELEGRAM)
    citizen = fake.private_chat(14106, "علی")
    await citizen.send("/start")
    older = await citizen.send("کود اوره در شهرستان ما پیدا نمی‌شود")
    await citizen.send("قیمت بذر گندم امسال خیلی گران شده است")
    stale = said(await citizen.click(texts.BTN_KEEP_AS_COMPLAINT, message=older[-1]))
    assert texts.KEPT_TEXT_GONE in stale


async def test_a_short_unknown_text_still_gets_help(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14107, "علی")
    await citizen.send("/start")
    for gibberish in ("سلام", "asdfgh", "۱۲ ۳۴ ۵۶ ۷۸", "/help"):
        reply = said(await citizen.send(gibberish))
        assert texts.LOST[:20] in reply, gibberish
        assert texts.OFFER_KEPT_TEXT not in reply
