"""Where a staff member's words go: after «درخواست توضیح از متقاضی» the next message is the
question for that request's citizen, unless it is a reply that answers another thread (another
request's card or message, a ready answer shown); a reply answers a request only when it replies
to that request's thread (a card, a later message of it, a ready answer shown), never to another
bot message that merely names a code (a /find list, a ready-answer question); a question may be a
voice note, as an answer may (review of issue 14, bugs 1, 2 and 10(c))."""

from __future__ import annotations

import pytest

from bot.ui import texts
from desk.model import Status
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored
from tests.e2e.test_staff_desk import WATER, card_in, events_of, file_water_complaint, next_to


@pytest.mark.slow
async def test_an_answer_to_one_request_never_reaches_another_citizen(front, platform) -> None:
    """«درخواست توضیح» pressed on Ali's card, then a ready answer edited for Zahra's request (a
    reply to the text shown for Zahra): the words meant for Zahra, about her case, must not go
    to Ali as a question about his request; they are Zahra's answer."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(17202, "مریم")
    ali = fake.private_chat(17302, "علی")
    zahra = fake.private_chat(17303, "زهرا")
    first = await file_water_complaint(ali, photo=False)
    second = await file_water_complaint(zahra, photo=False)
    card_a = await card_in(front, platform, WATER, first)
    card_b = await card_in(front, platform, WATER, second)
    await maryam.click(texts.BTN_ASK, message=card_a)
    listed = (await maryam.click(texts.BTN_TEMPLATES, message=card_b))[-1]
    visit = front.rules.units[WATER].templates[0]
    shown = (await maryam.click(visit.title, message=listed))[-1]
    edited = visit.text + " خانم زهرا، چاه شما در روستای خراشاد شنبه بازدید می‌شود."
    to_ali = len(fake.messages_to(ali.chat_id))
    await maryam.send(edited, reply_to=shown)
    await front.delivered()
    leaked = [m.current_text() or "" for m in fake.messages_to(ali.chat_id)[to_ali:]]
    assert not any("خانم زهرا" in text for text in leaked), leaked
    assert (await stored(front, second)).answer == edited
    assert (await stored(front, first)).status is Status.ROUTED, "nothing was asked of Ali"


@pytest.mark.slow
async def test_a_reply_to_another_card_after_ask_answers_that_request(front, platform) -> None:
    """«درخواست توضیح» pressed on Ali's card, and no other button: Maryam answers Zahra by a
    reply to Zahra's card. That is Zahra's answer; the question for Ali is still awaited and
    a reply to its prompt is it."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(17204, "مریم")
    ali = fake.private_chat(17304, "علی")
    zahra = fake.private_chat(17305, "زهرا")
    first = await file_water_complaint(ali, photo=False)
    second = await file_water_complaint(zahra, photo=False)
    card_a = await card_in(front, platform, WATER, first)
    card_b = await card_in(front, platform, WATER, second)
    prompt = (await maryam.click(texts.BTN_ASK, message=card_a))[-1]
    to_ali = len(fake.messages_to(ali.chat_id))
    for_zahra = "خانم زهرا، کارشناس ما شنبه برای بازدید چاه شما می‌آید."
    await maryam.send(for_zahra, reply_to=card_b)
    await front.delivered()
    assert (await stored(front, second)).answer == for_zahra
    assert not any("خانم زهرا" in (m.current_text() or "")
                   for m in fake.messages_to(ali.chat_id)[to_ali:])  # fmt: skip
    assert (await stored(front, first)).status is Status.ROUTED

    question = "آقای رضایی، شماره پروانه چاه خود را بفرمایید."
    mark = len(fake.sent)
    done = said(await maryam.send(question, reply_to=prompt))
    assert to_persian_digits(first) in done and "پرسش" in done, done
    await next_to(front, platform, ali.chat_id, mark, "شماره پروانه")
    request = await stored(front, first)
    assert request.status is Status.WAITING and request.answer is None


@pytest.mark.slow
async def test_an_edited_ready_answer_is_an_answer_even_after_ask_was_pressed(
    front, platform
) -> None:
    """Maryam presses «درخواست توضیح از متقاضی», changes her mind and takes «پاسخ آماده»
    instead, edits it and sends it as a reply to the shown text, as STAFF_TEMPLATE_SHOWN tells
    her. The ask state was never left, and its handler runs before replies: her answer reaches
    the citizen as a question, and the request waits for the citizen instead of being
    answered."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(17201, "مریم")
    citizen = fake.private_chat(17301, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    await maryam.click(texts.BTN_ASK, message=card)
    listed = (await maryam.click(texts.BTN_TEMPLATES, message=card))[-1]
    visit = front.rules.units[WATER].templates[0]
    shown = (await maryam.click(visit.title, message=listed))[-1]
    edited = visit.text + " کارشناس روز شنبه می‌آید."
    replies = await maryam.send(edited, reply_to=shown)
    await front.delivered()
    request = await stored(front, code)
    assert request.status is Status.ANSWERED, f"{request.status}: {said(replies)}"
    assert request.answer == edited


@pytest.mark.slow
async def test_a_staff_reply_to_a_find_list_is_not_sent_to_a_citizen(front, platform) -> None:
    """/find lists several requests; a colleague replies to that list among staff («which
    one?»). The bot's list is no card, yet its first code is taken for the thread: the staff
    chatter goes to the citizen as the official answer and the request is marked answered."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(16001, "مریم")
    citizen = fake.private_chat(16101, "علی")
    first = await file_water_complaint(citizen, photo=False)
    second = await file_water_complaint(citizen, photo=False)
    await card_in(front, platform, WATER, first)
    await card_in(front, platform, WATER, second)

    listed = (await maryam.send("/find رضایی"))[-1]
    text = listed.current_text() or ""
    assert to_persian_digits(first) in text and to_persian_digits(second) in text, text
    to_citizen = len(fake.messages_to(citizen.chat_id))

    chatter = "کدام یک از این دو منظور است؟ من پرونده دومی را دیده‌ام."
    replies = await maryam.send(chatter, reply_to=listed)
    await front.delivered()

    for code in (first, second):
        request = await stored(front, code)
        assert request.answer is None, f"staff chatter became the answer of {code}: {said(replies)}"
        assert request.status is Status.ROUTED
        assert "answered" not in await events_of(front, code)
    assert len(fake.messages_to(citizen.chat_id)) == to_citizen, "the citizen got staff chatter"


@pytest.mark.slow
async def test_a_reply_to_the_bots_other_words_answers_nobody(front, platform) -> None:
    """The bot's own messages that name a code but are no card — «کدام پاسخ آماده برای درخواست
    …», a /find list of one — take no answer: a reply to them is staff talk."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(16002, "مریم")
    ali = fake.private_chat(16102, "علی")
    zahra = fake.private_chat(16103, "زهرا")
    first = await file_water_complaint(ali, photo=False)
    second = await file_water_complaint(zahra, photo=False)
    card_a = await card_in(front, platform, WATER, first)
    await card_in(front, platform, WATER, second)
    picking = (await maryam.click(texts.BTN_TEMPLATES, message=card_a))[-1]
    assert to_persian_digits(first) in (picking.current_text() or "")
    found = (await maryam.send("/find " + second))[-1]
    assert to_persian_digits(second) in (found.current_text() or "")
    told = len(fake.messages_to(ali.chat_id)), len(fake.messages_to(zahra.chat_id))
    await maryam.send("رضا، این یکی را تو جواب می‌دهی؟", reply_to=picking)
    await maryam.send("این همان چاه روستای خراشاد است.", reply_to=found)
    await front.delivered()
    for code in (first, second):
        assert (await stored(front, code)).status is Status.ROUTED
        assert "answered" not in await events_of(front, code)
    assert (len(fake.messages_to(ali.chat_id)), len(fake.messages_to(zahra.chat_id))) == told


@pytest.mark.slow
async def test_a_question_by_voice_reaches_the_citizen(front, platform) -> None:
    """A clerk who speaks rather than types asks by voice note, as she may answer by one: the
    citizen reads that the question is a voice note and hears it next; the request waits."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    clerk = water.as_admin(17206, "مریم")
    citizen = fake.private_chat(17306, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    await clerk.click(texts.BTN_ASK, message=card)
    mark = len(fake.sent)
    done = said(await clerk.send_voice())
    assert texts.STAFF_EMPTY_ANSWER not in done, done
    assert to_persian_digits(code) in done, done
    told = await next_to(front, platform, citizen.chat_id, mark, texts.VOICE_QUESTION)
    heard = await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and m.method == "sendVoice", since=mark, timeout=15
    )
    assert fake.sent.index(told) < fake.sent.index(heard), "the question's words, then the voice"
    assert texts.BTN_REPLY_QUESTION in told.buttons()
    request = await stored(front, code)
    assert request.status is Status.WAITING and request.answer is None


@pytest.mark.slow
async def test_an_edited_ready_answer_is_no_transfer_reason(front, platform) -> None:
    """The same with a transfer begun: Maryam picks «مدیریت زراعت» for Ali's request, then
    answers Zahra with an edited ready answer. It is Zahra's answer, not the reason of a
    transfer of Ali's request, which stays where it is."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(17207, "مریم")
    ali = fake.private_chat(17307, "علی")
    zahra = fake.private_chat(17308, "زهرا")
    first = await file_water_complaint(ali, photo=False)
    second = await file_water_complaint(zahra, photo=False)
    card_a = await card_in(front, platform, WATER, first)
    card_b = await card_in(front, platform, WATER, second)
    await maryam.click(texts.BTN_TRANSFER, message=card_a)
    await maryam.click("مدیریت زراعت", message=card_a)
    listed = (await maryam.click(texts.BTN_TEMPLATES, message=card_b))[-1]
    visit = front.rules.units[WATER].templates[0]
    shown = (await maryam.click(visit.title, message=listed))[-1]
    edited = visit.text + " خانم زهرا، چاه شما شنبه بازدید می‌شود."
    await maryam.send(edited, reply_to=shown)
    await front.delivered()
    assert (await stored(front, second)).answer == edited
    request = await stored(front, first)
    assert request.unit == WATER and "transferred" not in await events_of(front, first)
