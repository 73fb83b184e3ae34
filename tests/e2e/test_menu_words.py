"""Nothing a citizen sends in the main menu is lost: while a staff question waits, a typed text,
a photo or a voice note answers it; a sentence that reads like a request is offered to be filed
as it is, and survives a restart; a short unknown text still gets the help."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ui import texts
from desk.model import DESCRIPTION_ROLE, AttachmentKind, Platform, Status
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


def _offered_to_file(replies) -> bool:
    return texts.BTN_KEEP_AS_COMPLAINT in [b for m in replies for b in m.buttons()]


async def test_a_voice_note_sent_in_the_menu_is_not_dropped(front, platform: Platform) -> None:
    """Voice first: a farmer who cannot type opens the bot and speaks the complaint. The voice
    is kept and offered to be filed; the complaint then has it as its description (review
    bug 7: «متوجه پیام شما نشدم…» and the voice was gone)."""
    citizen = front.bot(platform).private_chat(14108, "علی")
    await citizen.send("/start")
    replies = await citizen.send_voice()
    assert texts.LOST not in said(replies), said(replies)
    assert _offered_to_file(replies), said(replies)
    await front.restart()  # kept in the durable FSM data, the voice too
    await citizen.click(texts.BTN_KEEP_AS_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    after_code = said(await citizen.click(texts.BTN_NO_NATIONAL_CODE))
    assert texts.ASK_DESCRIPTION[:20] not in after_code, "the voice is the description"
    summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
    assert texts.VOICE_DESCRIPTION in summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == texts.VOICE_DESCRIPTION
    assert [(a.kind, a.role) for a in request.attachments] == [
        (AttachmentKind.VOICE, DESCRIPTION_ROLE)
    ]


async def test_a_photo_with_a_caption_sent_in_the_menu_is_not_dropped(
    front, platform: Platform
) -> None:
    """A photo of the dry well whose caption is the complaint: kept, offered, and filed with
    the caption as the description and the photo as its attachment."""
    citizen = front.bot(platform).private_chat(14109, "علی")
    await citizen.send("/start")
    caption = "آب چاه کشاورزی ما از سه هفته پیش قطع شده است"
    replies = await citizen.send_photo(caption=caption)
    assert texts.LOST not in said(replies), said(replies)
    assert _offered_to_file(replies), said(replies)
    await citizen.click(texts.BTN_KEEP_AS_SUGGESTION)
    await citizen.click("آب و آبیاری")
    summary = said(await citizen.click(texts.BTN_WITH_NAME))
    assert caption in summary and "۱ عکس" in summary, summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == caption
    assert [a.kind for a in request.attachments] == [AttachmentKind.PHOTO]


async def test_back_on_the_first_step_offers_a_kept_voice_again(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14110, "علی")
    await citizen.send("/start")
    await citizen.send_voice()
    await citizen.click(texts.BTN_KEEP_AS_COMPLAINT)
    left = await citizen.click(texts.BTN_BACK)
    assert texts.BACK_TO_MENU in said(left) and _offered_to_file(left), said(left)
    assert texts.ASK_TOPIC in said(await citizen.click(texts.BTN_KEEP_AS_COMPLAINT))


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_a_photo_alone_answering_a_question_says_so_to_staff(
    front, platform: Platform
) -> None:
    """A clarification that is only a photo: staff read that it is a photo, under the card,
    not «💬 توضیح متقاضی:» over an empty line (review bug 10b)."""
    fake = front.bot(platform)
    citizen = fake.private_chat(14111, "علی")
    _code, card = await asked(front, platform, citizen)
    water = front.group(WATER, platform)
    mark = len(fake.sent)
    await citizen.send_photo(size=40_000)
    note = await next_to(front, platform, water.id, mark, "توضیح متقاضی")
    body = (note.text or "").split("\n", 1)[1].strip()
    assert body, f"an empty note: {note.text!r}"
    assert texts.ATTACHMENT_NAMES[AttachmentKind.PHOTO] in body
    assert note.reply_to_message_id == card.message_id


async def test_a_photo_alone_in_the_menu_is_kept_and_the_description_asked(
    front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14112, "علی")
    await citizen.send("/start")
    replies = await citizen.send_photo()
    assert texts.OFFER_KEPT_FILE.format(what="عکس") in said(replies), said(replies)
    assert texts.LOST not in said(replies) and _offered_to_file(replies)
    started = said(await citizen.click(texts.BTN_KEEP_AS_COMPLAINT))
    assert texts.KEPT_FILE_USED in started and texts.ASK_TOPIC in started
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    asked_text = said(await citizen.click(texts.BTN_NO_NATIONAL_CODE))
    assert texts.ASK_DESCRIPTION[:20] in asked_text, "a photo is no description"
    sentence = "آب چاه ما قطع شده و کسی جواب نمی‌دهد"
    await citizen.send(sentence)
    assert texts.BTN_DONE in citizen.keyboard(), "the attachments step counts the photo"
    summary = said(await citizen.click(texts.BTN_DONE))
    assert sentence in summary and "۱ عکس" in summary, summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == sentence
    assert [a.kind for a in request.attachments] == [AttachmentKind.PHOTO]
