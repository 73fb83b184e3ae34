"""The staff desk end to end: cards in unit chats, claim, transfer, ask, answer by reply,
rating and reopening, who may act, and delivery that survives crashes and API faults."""

from __future__ import annotations

import pytest

from bot.ui import texts
from desk.model import AttachmentKind, Platform, Status
from desk.text import to_persian_digits
from storage.repositories import SqlUnitOfWork
from storage.tables import MessageLinkRow
from tests.e2e.helpers import said, stored, tracking_code

WATER = "water_soil"
AGRONOMY = "agronomy"
DESCRIPTION = "آب چاه کشاورزی ما از سه هفته پیش قطع شده و کسی پاسخگو نیست."


async def file_water_complaint(
    citizen, *, photo: bool = True, files: tuple[str, ...] = (), description: str = DESCRIPTION
) -> str:
    """A complaint on water (routed to water and soil) with an optional photo, or with the
    attachments named in `files` (photo, video, document, voice ...)."""
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await citizen.send(description)
    if files:
        for kind in files:
            await getattr(citizen, f"send_{kind}")()
        if len(files) < 5:  # the fifth attachment leads to the summary by itself
            await citizen.click(texts.BTN_DONE)
    elif photo:
        await citizen.send_photo(size=60_000)
        await citizen.click(texts.BTN_DONE)
    else:
        await citizen.click(texts.BTN_NO_ATTACHMENTS)
    return tracking_code(await citizen.click(texts.BTN_CONFIRM))


async def card_in(front, platform: Platform, unit: str, code: str, timeout: float = 15):
    """Wait for the card of a request in a unit's group."""
    group = front.group(unit, platform)
    fake = front.bot(platform)
    shown = to_persian_digits(code)
    card = await fake.wait_for(
        lambda m: (
            m.chat_id == group.id
            and shown in (m.text or "")
            and m.method == "sendMessage"
            and "کد رهگیری" in (m.text or "")
        ),
        timeout=timeout,
    )
    # the worker links the card to the request right after the API confirms it
    await front.delivered(timeout=timeout)
    return card


async def next_to(front, platform: Platform, chat_id: int, since: int, contains: str):
    """Wait for a message to a chat, sent after index `since`, containing a text."""
    found = await front.bot(platform).wait_for(
        lambda m: m.chat_id == chat_id and contains in (m.current_text() or ""),
        since=since,
        timeout=15,
    )
    await front.delivered()
    return found


async def events_of(front, code: str) -> list[str]:
    async with SqlUnitOfWork(front.app.sessions) as tx:
        return [e.action for e in await tx.requests.events(code)]


@pytest.mark.slow
async def test_from_filing_to_answered_and_rated(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(11001, "علی")
    code = await file_water_complaint(citizen)

    # The card reaches the unit's group on the citizen's platform, with everything staff need.
    card = await card_in(front, platform, WATER, code)
    for expected in (
        "شکایت",
        "علی رضایی",
        "۰۹۱۵۱۲۳۴۵۶۷",
        "آب و آبیاری",
        "فردوس",
        DESCRIPTION,
        "مهلت پاسخ",
        "۱۴۰",
    ):
        assert expected in (card.text or ""), expected
    assert texts.BTN_CLAIM in card.buttons() and texts.BTN_TRANSFER in card.buttons()
    water = front.group(WATER, platform)
    photo = await fake.wait_for(lambda m: m.chat_id == water.id and m.method == "sendPhoto")
    assert photo.reply_to_message_id == card.message_id, "attachments are copied under the card"

    # Claim: the card shows it, the citizen is told.
    ahmad = water.as_admin(501, "احمد")
    mark = len(fake.sent)
    await ahmad.click(texts.BTN_CLAIM, message=card)
    await next_to(front, platform, citizen.chat_id, mark, "در حال بررسی")
    await front.delivered()
    assert "در حال بررسی" in (card.current_text() or "")
    assert texts.BTN_CLAIM not in card.buttons()

    # Transfer to agronomy with a reason: the old card says where it went, a new card appears.
    mark = len(fake.sent)
    await ahmad.click(texts.BTN_TRANSFER, message=card)
    await ahmad.click("مدیریت زراعت", message=card)
    await ahmad.send("موضوع مربوط به آبیاری مزارع گندم است")
    new_card = await card_in(front, platform, AGRONOMY, code)
    assert "ارجاع از «مدیریت آب و خاک و امور فنی و مهندسی»" in (new_card.text or "")
    assert "گندم" in (new_card.text or "")
    await next_to(front, platform, citizen.chat_id, mark, "مدیریت زراعت")
    await front.delivered()
    assert "دیگر در این گروه قابل اقدام نیست" in (card.current_text() or "")
    assert card.buttons() == []

    # Agronomy asks the citizen; the citizen answers with the button; it lands in the thread.
    agronomy = front.group(AGRONOMY, platform)
    sara = agronomy.as_admin(502, "سارا")
    await sara.click(texts.BTN_ASK, message=new_card)
    await sara.send("لطفاً بفرمایید مساحت زمین چند هکتار است؟")
    question = await next_to(front, platform, citizen.chat_id, mark, "مساحت زمین")
    assert (await stored(front, code)).status is Status.WAITING
    mark = len(fake.sent)
    await citizen.click(texts.BTN_REPLY_QUESTION, message=question)
    await citizen.send("حدود پنج هکتار است.")
    note = await next_to(front, platform, agronomy.id, mark, "پنج هکتار")
    assert note.reply_to_message_id == new_card.message_id

    # Staff answer by replying to the note (any message of the thread will do).
    mark = len(fake.sent)
    await sara.send("کارشناس آبیاری روز شنبه برای بازدید مراجعه می‌کند.", reply_to=note)
    answer = await next_to(front, platform, citizen.chat_id, mark, "روز شنبه")
    assert to_persian_digits(code) in (answer.text or "")
    request = await stored(front, code)
    assert request.status is Status.ANSWERED and request.unit == AGRONOMY
    assert "شنبه" in (request.answer or "")

    # Unsatisfied: rate 2, reopen once with a note; the unit sees it and can answer again.
    offer = await citizen.click(texts.RATE_LABELS[1], message=answer)
    assert texts.OFFER_REOPEN in said(offer)
    await citizen.click(texts.BTN_REOPEN)
    mark = len(fake.sent)
    reopened = await citizen.send("بازدید انجام نشد و هنوز آب نداریم.")
    assert "بازگشایی شد" in said(reopened)
    await next_to(front, platform, agronomy.id, mark, "هنوز آب نداریم")
    assert (await stored(front, code)).status is Status.REOPENED
    await sara.send("عذرخواهی می‌کنیم؛ فردا بازدید انجام می‌شود.", reply_to=new_card)
    second = await next_to(front, platform, citizen.chat_id, mark, "فردا بازدید")
    assert "پیشنهاد" not in said(await citizen.click(texts.RATE_LABELS[4], message=second))
    final = await stored(front, code)
    assert final.rating == 5 and final.reopen_count == 1

    # The audit trail holds every step.
    assert await events_of(front, code) == [
        "filed", "routed", "claimed", "transferred", "asked", "clarified", "answered",
        "rated", "reopened", "answered", "rated",
    ]  # fmt: skip

    # The citizen's look-up now shows the answer.
    status = said(await citizen.send(code))
    assert "فردا بازدید" in status and "وضعیت: پاسخ داده شد\n" in status


@pytest.mark.slow
async def test_reopen_is_offered_once(front) -> None:
    fake = front.telegram
    citizen = fake.private_chat(11002, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, Platform.TELEGRAM, WATER, code)
    water = front.group(WATER, Platform.TELEGRAM)
    mark = len(fake.sent)
    await water.send("پاسخ اول کارشناس.", reply_to=card)
    answer = await next_to(front, Platform.TELEGRAM, citizen.chat_id, mark, "پاسخ اول")
    await citizen.click(texts.RATE_LABELS[0], message=answer)
    await citizen.click(texts.BTN_REOPEN)
    await citizen.send("پاسخ کافی نبود.")
    mark = len(fake.sent)
    await water.send("پاسخ دوم کارشناس.", reply_to=card)
    answer = await next_to(front, Platform.TELEGRAM, citizen.chat_id, mark, "پاسخ دوم")
    again = said(await citizen.click(texts.RATE_LABELS[0], message=answer))
    assert texts.OFFER_REOPEN not in again, "a request is reopened once at most"


async def test_who_may_act(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(11003, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)

    # A citizen forges the claim button in their private chat: nothing changes.
    receipt = citizen.messages()[-1]
    await citizen.click_data(f"sc:claim:{code}", receipt)
    await citizen.click_data(f"sx:{code}:spam", receipt)
    # Another unit's staff press forged buttons on a card of their own group, and reply to it.
    other_citizen = fake.private_chat(11010, "حسن")
    await other_citizen.send("/start")
    await other_citizen.click(texts.BTN_COMPLAINT)
    await other_citizen.click("دام و طیور")
    await other_citizen.click("بیرجند")
    await other_citizen.send("حسن کریمی")
    await other_citizen.send("09150001122")
    await other_citizen.click(texts.BTN_NO_NATIONAL_CODE)
    await other_citizen.send("واکسن دام‌های روستا هنوز نرسیده است.")
    await other_citizen.click(texts.BTN_NO_ATTACHMENTS)
    other_code = tracking_code(await other_citizen.click(texts.BTN_CONFIRM))
    livestock_card = await card_in(front, platform, "livestock", other_code)
    intruder = front.group("livestock", platform).as_admin(777, "غریبه")
    refused = await intruder.click_data(f"sc:claim:{code}", livestock_card)
    await intruder.click_data(f"sx:{code}:spam", livestock_card)
    await intruder.click_data(f"st:{code}:livestock", livestock_card)
    assert refused == [] and fake.callback_answers[-1].get("show_alert")
    # A group that is not configured at all replies with a fake answer.
    stranger = fake.group_chat(-100999 if platform is Platform.TELEGRAM else 999, "غریبه")
    assert await stranger.send("پاسخ جعلی") == []

    request = await stored(front, code)
    assert request.status is Status.ROUTED and request.claimed_by is None
    assert await events_of(front, code) == ["filed", "routed"]
    assert texts.BTN_CLAIM in card.buttons()


@pytest.mark.slow
async def test_close_with_reason(front) -> None:
    fake = front.bale
    citizen = fake.private_chat(11004, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, Platform.BALE, WATER, code)
    water = front.group(WATER, Platform.BALE)
    mark = len(fake.sent)
    await water.click(texts.BTN_CLOSE, message=card)
    asked = await water.click("تکراری", message=card)
    await water.click(texts.BTN_CONFIRM_CLOSE, message=asked[-1])
    told = await next_to(front, Platform.BALE, citizen.chat_id, mark, "بسته شد")
    assert "تکراری" in (told.text or "")
    await front.delivered()
    assert "بسته شده — تکراری" in (card.current_text() or "") and card.buttons() == []

    spam_citizen = fake.private_chat(11005, "علی")
    spam = await file_water_complaint(spam_citizen, photo=False)
    spam_card = await card_in(front, Platform.BALE, WATER, spam)
    before = len(spam_citizen.messages())
    await water.click(texts.BTN_CLOSE, message=spam_card)
    asked = await water.click("نامرتبط", message=spam_card)
    assert texts.STAFF_CLOSE_TELLS_NOBODY["spam"] in said(asked)
    await water.click(texts.BTN_CONFIRM_CLOSE, message=asked[-1])
    await front.delivered()
    assert len(spam_citizen.messages()) == before, "spam is closed without telling the sender"
    assert (await stored(front, spam)).close_reason == "spam"


async def test_staff_answer_with_a_photo_reaches_the_citizen(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(11006, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    mark = len(fake.sent)
    await water.send_photo(caption="عکسی برای همکاران، نه برای متقاضی.")
    await front.delivered()
    assert (await stored(front, code)).status is Status.ROUTED, "a photo that is no reply is talk"
    await water.send_photo(caption="نقشه مسیر لوله‌کشی جدید پیوست است.", reply_to=card)
    await next_to(front, platform, citizen.chat_id, mark, "نقشه مسیر")
    photo = await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and m.method == "sendPhoto", since=mark
    )
    assert photo.media, "the staff's photo itself reaches the citizen"
    assert (await stored(front, code)).answer == "نقشه مسیر لوله‌کشی جدید پیوست است."


async def test_a_photo_alone_as_the_answer_says_what_it_is(front, platform: Platform) -> None:
    """No caption: the citizen still reads a sentence with the rating buttons, then the photo."""
    fake = front.bot(platform)
    citizen = fake.private_chat(11016, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    mark = len(fake.sent)
    await front.group(WATER, platform).send_photo(reply_to=card)
    told = await next_to(front, platform, citizen.chat_id, mark, "پاسخ یک عکس است")
    assert texts.RATE_LABELS[-1] in told.buttons()
    photo = await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and m.method == "sendPhoto", since=mark
    )
    assert fake.sent.index(told) < fake.sent.index(photo)
    answer = texts.FILE_ANSWER.format(what=texts.ATTACHMENT_NAMES[AttachmentKind.PHOTO])
    assert (await stored(front, code)).answer == answer


async def test_a_reply_to_a_card_whose_link_was_lost_still_answers(front, platform) -> None:
    """Killed between sending a card and recording its link, the bot sends the card again;
    staff may reply to the first copy. Its code is on it: the answer still goes through."""
    fake = front.bot(platform)
    citizen = fake.private_chat(11007, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    await front.delivered()
    async with front.app.engine.begin() as conn:
        await conn.execute(MessageLinkRow.__table__.delete())  # type: ignore[attr-defined]
    water = front.group(WATER, platform)
    staff = water.as_admin(502, "مریم")
    mark = len(fake.sent)
    await staff.send("کارشناس فردا صبح برای بازدید می‌آید.", reply_to=card)
    await next_to(front, platform, citizen.chat_id, mark, "فردا صبح")
    assert (await stored(front, code)).status is Status.ANSWERED


async def test_a_staff_answer_too_long_for_one_message_is_refused_the_longest_goes_through(
    front, platform
) -> None:
    """An answer the citizen could not receive in one message is refused in the staff chat,
    with its length; the longest accepted one reaches the citizen, and the card, which shows
    the answer too, still fits (the fake refuses messages over 4,096 as the platforms do)."""
    fake = front.bot(platform)
    citizen = fake.private_chat(11008, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    staff = front.group(WATER, platform).as_admin(503, "رضا")
    too_long = "آ" * 3501
    refused = said(await staff.send(too_long, reply_to=card))
    assert "۳۵۰۱" in refused and "۳۵۰۰" in refused, refused
    assert (await stored(front, code)).status is Status.ROUTED, "nothing stored"
    longest = "ب" * 3498 + "😀"  # 3,500 units as the messengers count (an emoji is two)
    mark = len(fake.sent)
    await staff.send(longest, reply_to=card)
    await next_to(front, platform, citizen.chat_id, mark, longest)
    await front.delivered()
    assert (await stored(front, code)).answer == longest
    assert "ببببببببببببببببببببببب" in (card.current_text() or ""), "the card shows the answer"
    assert not fake.violations, fake.violations


@pytest.mark.slow
async def test_kill_between_change_and_send_loses_nothing(front) -> None:
    """The outbox row is written with the filing; a crash before delivery loses nothing."""
    await front.restart(deliver=False)
    fake = front.telegram
    citizen = fake.private_chat(11007, "علی")
    code = await file_water_complaint(citizen)
    water = front.group(WATER, Platform.TELEGRAM)
    assert fake.messages_to(water.id) == [], "nothing was sent yet"
    assert (await front.outbox())["pending"] == 2  # the card and its photo
    await front.crash()
    await front.start()
    card = await card_in(front, Platform.TELEGRAM, WATER, code)
    await front.delivered()
    cards = [m for m in fake.messages_to(water.id) if m.method == "sendMessage"]
    assert cards == [card], "exactly one card after the restart"
    assert [m.method for m in fake.messages_to(water.id)] == ["sendMessage", "sendPhoto"]


@pytest.mark.slow
async def test_api_faults_are_retried_until_delivered(front, platform: Platform) -> None:
    await front.restart(deliver=False)
    fake = front.bot(platform)
    citizen = fake.private_chat(11008, "علی")
    code = await file_water_complaint(citizen, photo=False)
    await front.stop()
    front.api.fail("sendMessage", "429", retry_after=1, token=fake.token)
    front.api.fail("sendMessage", "500", times=2, token=fake.token)
    front.api.fail("sendMessage", "drop", token=fake.token)
    if platform is Platform.BALE:
        front.api.fail("sendMessage", "bale_limit", token=fake.token)
    await front.start()
    await card_in(front, platform, WATER, code, timeout=40)  # backs off 0.5 s, 1 s, 2 s, ...
    await front.delivered(timeout=40)
    water = front.group(WATER, platform)
    assert len([m for m in fake.messages_to(water.id) if m.method == "sendMessage"]) == 1


async def test_blocked_citizen_is_marked_unreachable(front) -> None:
    fake = front.telegram
    citizen = fake.private_chat(11009, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, Platform.TELEGRAM, WATER, code)
    citizen.block()
    await front.group(WATER, Platform.TELEGRAM).send("پاسخ به کاربری که بات را بسته است.",
                                                    reply_to=card)  # fmt: skip
    await front.delivered()
    counts = await front.outbox()
    assert counts["failed"] == 1
    assert await front.app.outbox.is_blocked(Platform.TELEGRAM, citizen.chat_id)
    assert (await stored(front, code)).status is Status.ANSWERED, "the answer itself is kept"


@pytest.mark.slow
async def test_unit_on_one_messenger_serves_citizens_of_both(api, tmp_path) -> None:
    """A unit with a Telegram group only: a Bale citizen's card and photo reach it (the photo
    re-uploaded), and the staff's answer with a photo reaches the citizen on Bale."""
    from tests.e2e.conftest import ROOT, Front

    rules = (ROOT / "routing_rules.yaml").read_text(encoding="utf-8")
    one_sided = rules.replace("    bale_chat: 5100000004\n", "", 1)
    assert one_sided != rules
    path = tmp_path / "rules.yaml"
    path.write_text(one_sided, encoding="utf-8")
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", routing_rules=path)
    await front.start()
    try:
        citizen = front.bale.private_chat(11020, "علی")
        code = await file_water_complaint(citizen, photo=True)
        card = await card_in(front, Platform.TELEGRAM, WATER, code)
        assert "بله" in (card.text or ""), "staff see which messenger the citizen uses"
        water = front.group(WATER, Platform.TELEGRAM)
        photo = await front.telegram.wait_for(
            lambda m: m.chat_id == water.id and m.method == "sendPhoto"
        )
        assert photo.media and photo.media.get("uploaded"), (
            f"re-uploaded, not a Bale file id: {photo.media}"
        )
        mark = len(front.bale.sent)
        await water.send_photo(caption="پاسخ با عکس از گروه تلگرام.", reply_to=card)
        await next_to(front, Platform.BALE, citizen.chat_id, mark, "پاسخ با عکس")
        got = await front.bale.wait_for(
            lambda m: m.chat_id == citizen.chat_id and m.method == "sendPhoto", since=mark
        )
        assert got.media
    finally:
        await front.stop()
        assert not front.telegram.violations and not front.bale.violations
