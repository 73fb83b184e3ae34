"""Staff productivity end to end: a unit's ready answers (`templates:` in routing_rules.yaml,
«پاسخ آماده» on a card or `/templates` replying to it; picked, sent as is or edited) and
`/find` by tracking code, name or phone within the unit's own requests. Only the unit's staff
act, another unit's group changes nothing, forged presses change nothing, phones stay out of
the log."""

from __future__ import annotations

import logging
import re

import pytest

from bot.runtime.redact import RedactSecrets
from bot.ui import callbacks as cb
from bot.ui import texts
from desk.model import Platform, Status
from desk.routing import RoutingRules, load_rules
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored
from tests.e2e.test_staff_desk import (
    AGRONOMY,
    WATER,
    card_in,
    events_of,
    file_water_complaint,
    next_to,
)

VISIT = "بازدید کارشناس"  # the first of water and soil's templates in routing_rules.yaml
PAPERS = "مدارک لازم"


def _template(front, title: str) -> str:
    rules: RoutingRules = front.rules
    return next(t.text for t in rules.units[WATER].templates if t.title == title)


def _alerts(fake, since: int) -> list[str]:
    return [a.get("text") or "" for a in fake.callback_answers[since:]]


@pytest.mark.slow
async def test_a_ready_answer_sent_as_it_is_and_one_edited(front, platform: Platform) -> None:
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(15001, "مریم")
    citizen = fake.private_chat(15101, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    assert texts.BTN_TEMPLATES in card.buttons()

    # «پاسخ آماده» on the card: the unit's titles as buttons, under the card.
    listed = await maryam.click(texts.BTN_TEMPLATES, message=card)
    titles = [t.title for t in front.rules.units[WATER].templates]
    assert listed[-1].buttons() == titles
    assert listed[-1].reply_to_message_id == card.message_id
    assert "مریم" in said(listed) and to_persian_digits(code) in said(listed)

    # A title: its text is shown with «ارسال همین متن»; nothing is sent yet.
    shown = (await maryam.click(VISIT, message=listed[-1]))[-1]
    assert _template(front, VISIT) in (shown.current_text() or "")
    assert shown.buttons() == [texts.BTN_SEND_TEMPLATE]
    await front.delivered()
    assert (await stored(front, code)).status is Status.ROUTED

    # «ارسال همین متن»: the citizen reads it as a typed answer, with the rating buttons.
    mark = len(fake.sent)
    done = await maryam.click(texts.BTN_SEND_TEMPLATE, message=shown)
    assert "برای متقاضی فرستاده شد" in said(done)
    answer = await next_to(front, platform, citizen.chat_id, mark, _template(front, VISIT))
    assert "۵ عالی" in answer.buttons()
    request = await stored(front, code)
    assert request.status is Status.ANSWERED and request.answer == _template(front, VISIT)
    assert "پاسخ داده شده" in (card.current_text() or ""), "the card is refreshed"
    assert shown.buttons() == [], "a ready answer goes once"
    assert (await events_of(front, code)).count("answered") == 1

    # Another request: `/templates` replying to its card, a title, then a reply to the
    # shown text with it edited: the edited text is the answer, the button goes.
    second = await file_water_complaint(citizen, photo=False)
    card2 = await card_in(front, platform, WATER, second)
    listed = await maryam.send("/templates", reply_to=card2)
    assert listed[-1].buttons() == titles
    shown = (await maryam.click(PAPERS, message=listed[-1]))[-1]
    edited = _template(front, PAPERS) + " ساعت کار: شنبه تا چهارشنبه، ۸ تا ۱۴."
    mark = len(fake.sent)
    replies = await maryam.send(edited, reply_to=shown)
    assert "برای متقاضی فرستاده شد" in said(replies)
    await next_to(front, platform, citizen.chat_id, mark, "ساعت کار: شنبه تا چهارشنبه")
    assert (await stored(front, second)).answer == edited
    assert shown.buttons() == [], "after an edited answer the unedited one cannot follow"
    assert (await events_of(front, second)).count("answered") == 1
    assert not fake.violations


@pytest.mark.slow
async def test_only_the_units_staff_use_ready_answers(front, platform: Platform) -> None:
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    agronomy = front.group(AGRONOMY, platform)
    maryam = water.as_admin(15002, "مریم")
    member = water.as_member(15003, "رهگذر")
    citizen = fake.private_chat(15102, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    to_citizen = len(fake.messages_to(citizen.chat_id))

    # A plain member: /templates, the card's button, a title and «ارسال همین متن» pressed on
    # the staff's own messages: each refused, nothing shown, nothing sent.
    assert texts.STAFF_ONLY in said(await member.send("/templates", reply_to=card))
    mark = len(fake.callback_answers)
    await member.click(texts.BTN_TEMPLATES, message=card)
    listed = (await maryam.send("/templates", reply_to=card))[-1]
    await member.click(VISIT, message=listed)
    shown = (await maryam.click(VISIT, message=listed))[-1]
    before = len(fake.sent)
    await member.click(texts.BTN_SEND_TEMPLATE, message=shown)
    assert _alerts(fake, mark) == [texts.STAFF_ONLY, texts.STAFF_ONLY, "", texts.STAFF_ONLY]
    assert len(fake.sent) == before

    # Another unit's group: the same buttons forged there change nothing.
    reza = agronomy.as_admin(15004, "رضا")
    there = (await reza.send("/templates"))[-1]  # a bot message to press forged data on
    visit = cb.digest(_template(front, VISIT))
    send = f"ts:{code}:0:{visit}:{cb.digest('')}"  # the press the shown one would make
    mark = len(fake.callback_answers)
    for forged in (f"tp:{code}:0", send, f"sc:templates:{code}", f"fc:{code}"):
        await reza.click_data(forged, there)
    assert _alerts(fake, mark) == [texts.STAFF_NOT_YOURS] * 4
    # ... and a ready answer that is not (or no longer) in the rules, in the right group; a
    # send button as it was before it named its text changes nothing either
    mark = len(fake.callback_answers)
    await maryam.click_data(f"ts:{code}:99:{cb.digest('متن دیگر')}:{cb.digest('')}", shown)
    await maryam.click_data(f"ts:{code}:0:{cb.digest('متن دیگر')}:{cb.digest('')}", shown)
    await maryam.click_data(f"tp:{code}:99", shown)
    await maryam.click_data(f"ts:{code}:0", shown)
    assert _alerts(fake, mark) == [texts.STAFF_TEMPLATE_GONE] * 3 + [texts.ACTION_DONE_ALREADY]

    await front.delivered()
    request = await stored(front, code)
    assert request.status is Status.ROUTED and request.answer is None
    assert await events_of(front, code) == ["filed", "routed"]
    assert len(fake.messages_to(citizen.chat_id)) == to_citizen, "the citizen got nothing"

    # Closed: a ready answer is refused, whether asked for or pressed on an old message.
    await maryam.click(texts.BTN_CLOSE, message=card)
    await maryam.click(texts.CLOSE_REASONS["duplicate"], message=card)
    await maryam.click(texts.BTN_CONFIRM_CLOSE)
    await front.delivered()
    closed = texts.STAFF_WRONG_STATUS.format(status=texts.STAFF_STATUS_NAMES[Status.CLOSED])
    assert closed in said(await maryam.send("/templates", reply_to=card))
    mark = len(fake.callback_answers)
    await maryam.click(texts.BTN_SEND_TEMPLATE, message=shown)
    assert _alerts(fake, mark) == [closed]
    assert (await stored(front, code)).answer is None

    # Without a reply, /templates says how and lists the titles; a unit with none says so.
    how = said(await maryam.send("/templates"))
    assert VISIT in how and PAPERS in how and texts.BTN_TEMPLATES in how
    assert texts.STAFF_TEMPLATES_NONE in said([there]), "agronomy has no ready answers"
    assert texts.BTN_TEMPLATES not in (await _card_of_agronomy(front, platform)).buttons()
    assert not fake.violations


async def _card_of_agronomy(front, platform: Platform):
    """A card in agronomy's group (a unit without templates): transfer one there."""
    fake = front.bot(platform)
    citizen = fake.private_chat(15103, "حسن")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    admin = front.group(WATER, platform).as_admin(15005, "مریم")
    await admin.click(texts.BTN_TRANSFER, message=card)
    await admin.click("مدیریت زراعت", message=card)
    await admin.click(texts.BTN_NO_REASON)
    return await card_in(front, platform, AGRONOMY, code)


@pytest.mark.slow
async def test_find_by_code_name_or_phone_in_the_units_own_requests(
    front, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(15006, "مریم")
    citizen = fake.private_chat(15104, "علی")
    first = await file_water_complaint(citizen, photo=False)
    second = await file_water_complaint(citizen, photo=False)
    await card_in(front, platform, WATER, second)
    caplog.clear()  # from here on: what staff search for

    # By phone, in any usual form and any digits: both requests, newest first, one line each.
    for query in ("۰۹۱۵۱۲۳۴۵۶۷", "+98 915 123 4567", "٠٩١٥١٢٣٤٥٦٧", "9151234567", "۴۵۶۷"):
        listed = said(await maryam.send(f"/find {query}"))
        assert texts.STAFF_FIND_TITLE in listed, query
        shown = [to_persian_digits(first), to_persian_digits(second)]
        assert all(code in listed for code in shown), query
        assert listed.index(shown[1]) < listed.index(shown[0]), "newest first"
        assert "علی رضایی" in listed and "جدید" in listed and "۱۴۰" in listed
        assert "۰۹۱۵۱۲۳۴۵۶۷" not in listed, "the list shows no phone"
        assert "/find" in listed  # several: how to narrow to one

    # By name, spaces and ZWNJ aside; by the code: one request, and its card posted again.
    for query in ("رضایی", "علی‌رضایی", "علي رضايي"):
        assert to_persian_digits(second) in said(await maryam.send(f"/find {query}")), query
    one = await maryam.send(f"/find {to_persian_digits(first)}")
    assert to_persian_digits(second) not in said(one)
    assert one[-1].buttons() == [texts.BTN_CARD_AGAIN]
    mark = len(fake.sent)
    await maryam.click(texts.BTN_CARD_AGAIN, message=one[-1])
    again = await next_to(front, platform, water.id, mark, "کد رهگیری")
    assert to_persian_digits(first) in (again.current_text() or "")
    assert texts.BTN_CLAIM in again.buttons()
    # the card posted again acts like the first: a reply answers the request
    await maryam.send("پاسخ از روی کارت دوباره فرستاده", reply_to=again)
    await front.delivered()
    assert (await stored(front, first)).status is Status.ANSWERED

    # Too little to search with, nothing found, another unit's group, a plain member.
    assert "دست‌کم" in said(await maryam.send("/find ۱۲"))
    assert "دست‌کم" in said(await maryam.send("/find"))
    assert texts.STAFF_FIND_NONE in said(await maryam.send("/find کاظمی"))
    reza = front.group(AGRONOMY, platform).as_admin(15007, "رضا")
    for query in ("۰۹۱۵۱۲۳۴۵۶۷", "رضایی", first):
        assert texts.STAFF_FIND_NONE in said(await reza.send(f"/find {query}")), query
    member = water.as_member(15008, "رهگذر")
    refused = said(await member.send("/find ۰۹۱۵۱۲۳۴۵۶۷"))
    assert texts.STAFF_ONLY in refused and "علی رضایی" not in refused
    reza_there = (await reza.send("/find"))[-1]
    mark = len(fake.callback_answers)
    await reza.click_data(f"fc:{second}", reza_there)
    assert _alerts(fake, mark) == [texts.STAFF_NOT_YOURS]

    # The bot's own lines never hold the text searched; every line, filtered as the running
    # bot filters its log (RedactSecrets: SQL parameters included), holds no phone either.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "find in" in ours, "the search itself is logged, without what was searched"
    redact = RedactSecrets()
    lines = []
    for record in caplog.records:
        copy = logging.makeLogRecord(record.__dict__)
        redact.filter(copy)
        lines.append(copy.getMessage())
    for phone in ("9151234567", "۹۱۵۱۲۳۴۵۶۷", "٩١٥١٢٣٤٥٦٧", "915 123 4567"):
        assert phone not in ours, "a phone searched never reaches the bot's log lines"
        assert phone not in "\n".join(lines), "nor any line of the log"
    assert not fake.violations


def _rules_with(tmp_path, old: str, new: str):
    """routing_rules.yaml with one passage changed, written under `tmp_path`."""
    from tests.e2e.conftest import ROOT

    rules = (ROOT / "routing_rules.yaml").read_text(encoding="utf-8")
    assert old in rules
    edited = tmp_path / "routing_rules.yaml"
    edited.write_text(rules.replace(old, new), encoding="utf-8")
    return edited


async def _shown_ready_answer(front, platform: Platform, maryam, citizen, title: str):
    """A new request of the citizen, its card, and the ready answer `title` shown for it."""
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    listed = (await maryam.click(texts.BTN_TEMPLATES, message=card))[-1]
    shown = (await maryam.click(title, message=listed))[-1]
    assert _template(front, title) in (shown.current_text() or "")
    return code, card, shown


@pytest.mark.slow
async def test_send_as_is_sends_the_text_shown_after_the_templates_change(
    front, platform: Platform, tmp_path
) -> None:
    """Two ready answers shown with «ارسال همین متن»; the operator then adds a template at the
    top of the unit's list and rewords another, and restarts (as the README says to). A press
    sends the text shown above the button, wherever it now is in the list; a text that is no
    longer in the list is not sent at all: never another text than the one staff saw."""
    fake = front.bot(platform)
    maryam = front.group(WATER, platform).as_admin(16301, "مریم")
    citizen = fake.private_chat(16401, "علی")
    visit, papers = _template(front, VISIT), _template(front, PAPERS)
    code, _, shown = await _shown_ready_answer(front, platform, maryam, citizen, VISIT)
    second, _, shown_papers = await _shown_ready_answer(front, platform, maryam, citizen, PAPERS)

    added = "با سلام. درخواست شما به شهرستان ارجاع شد و پیگیری آن با اداره شهرستان است."
    top = "    templates:\n      - title: بازدید کارشناس\n"
    edited = _rules_with(
        tmp_path, top, f"    templates:\n      - title: ارجاع به شهرستان\n        text: {added}\n"
        "      - title: بازدید کارشناس\n",
    )  # fmt: skip
    reworded = edited.read_text(encoding="utf-8").replace(
        "کارت ملی و\n          پروانه", "شناسنامه و\n          پروانه"
    )
    edited.write_text(reworded, encoding="utf-8")
    now = load_rules(edited).units[WATER].templates
    assert now[0].text == added and now[1].text == visit
    assert all(t.text != papers for t in now)
    front.extra["routing_rules"] = edited
    await front.restart()

    # the first text is still in the list, one place down: that text goes, as shown
    done = await maryam.click(texts.BTN_SEND_TEMPLATE, message=shown)
    assert "برای متقاضی فرستاده شد" in said(done)
    await front.delivered()
    request = await stored(front, code)
    assert request.answer == visit, "the citizen got a text staff never saw"
    assert added not in [m.current_text() for m in fake.messages_to(citizen.chat_id)]

    # the second was reworded since it was shown: nothing goes, and staff are told why
    mark = len(fake.callback_answers)
    await maryam.click(texts.BTN_SEND_TEMPLATE, message=shown_papers)
    assert _alerts(fake, mark) == [texts.STAFF_TEMPLATE_GONE]
    await front.delivered()
    request = await stored(front, second)
    assert request.answer is None and request.status is Status.ROUTED
    assert "answered" not in await events_of(front, second)
    assert not fake.violations


@pytest.mark.slow
async def test_an_old_send_as_is_does_not_override_the_answer_that_went_out(
    front, platform: Platform
) -> None:
    """Maryam opens a ready answer, then writes her own answer as a reply to the card instead
    (the usual way, HELP_STAFF's first line). A later press of the shown ready answer's
    «ارسال همین متن» (hers by mistake, or a colleague's) sends nothing: the citizen does not
    get a second, different official answer, and the answer staff wrote stays the answer."""
    fake = front.bot(platform)
    water = front.group(WATER, platform)
    maryam = water.as_admin(16701, "مریم")
    reza = water.as_admin(16702, "رضا")
    citizen = fake.private_chat(16801, "علی")
    code, card, shown = await _shown_ready_answer(front, platform, maryam, citizen, VISIT)

    own = "با سلام. کارشناس ما فردا ساعت ۹ صبح برای بازدید چاه شماره ۲ به روستای شما می‌آید."
    await maryam.send(own, reply_to=card)
    await front.delivered()
    assert (await stored(front, code)).answer == own
    to_citizen = len(fake.messages_to(citizen.chat_id))

    mark = len(fake.callback_answers)
    await reza.click(texts.BTN_SEND_TEMPLATE, message=shown)
    assert _alerts(fake, mark) == [texts.STAFF_TEMPLATE_ANSWERED_SINCE]
    assert shown.buttons() == [], "the stale button goes"
    await front.delivered()
    assert (await stored(front, code)).answer == own, "a stale button replaced the answer"
    assert (await events_of(front, code)).count("answered") == 1
    assert len(fake.messages_to(citizen.chat_id)) == to_citizen, "a second answer went out"

    # A ready answer shown after that answer may still correct it: it goes, once.
    listed = (await maryam.send("/templates", reply_to=card))[-1]
    again = (await maryam.click(PAPERS, message=listed))[-1]
    assert "برای متقاضی فرستاده شد" in said(
        await maryam.click(texts.BTN_SEND_TEMPLATE, message=again)
    )
    await front.delivered()
    assert (await stored(front, code)).answer == _template(front, PAPERS)
    assert (await events_of(front, code)).count("answered") == 2
    assert not fake.violations


def _slash_after_persian_unmarked(text: str) -> list[str]:
    """The project's own rule (tests/unit/test_texts_bidi.py): a command after Persian words
    needs a LEFT-TO-RIGHT MARK before its slash, or the apps show «find/»."""
    from tests.unit.test_texts_bidi import _unmarked

    return _unmarked(re.sub(r"</?[a-z]+>", "", text))  # a tag's slash is no command


async def test_commands_the_staff_tools_write_keep_their_slash_in_front(
    front, platform: Platform
) -> None:
    """/find and /templates are put into their sentences through «{command}» and «{example}»:
    each written command after Persian words keeps its LEFT-TO-RIGHT MARK, so the apps show
    «/find», not «find/» («پس از /find کد رهگیری»، «مثلاً /find ۰۹۱۵…»، «و /templates را
    بفرستید»، «/find را با کد رهگیری»)."""
    fake = front.bot(platform)
    maryam = front.group(WATER, platform).as_admin(16501, "مریم")
    citizen = fake.private_chat(16601, "علی")
    await file_water_complaint(citizen, photo=False)
    await file_water_complaint(citizen, photo=False)
    await front.delivered()  # the cards are out: what the commands write is read alone
    written = []
    for command in ("/find", "/templates", "/find رضایی"):
        written += [m.current_text() or "" for m in await maryam.send(command)]
    assert sum("/find" in text for text in written) == 2 and any("/templates" in t for t in written)
    unmarked = [line for text in written for line in _slash_after_persian_unmarked(text)]
    assert unmarked == []
