"""A suggestion filed «بدون نام، ولی پاسخ را همین‌جا بگیرم»: staff never see who filed it (not
on the card, not in their group, not in the admins' export), yet their question and their
answer reach the citizen in the chat it was filed from. Plain «بدون نام» stays unanswerable."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bot.ui import texts
from desk.calendar import gregorian_to_jalali, local_date
from desk.model import ChatRef, Platform, Status
from desk.text import to_persian_digits
from storage.repositories import SqlUnitOfWork
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_staff_desk import card_in, next_to

EXTENSION = "extension"  # «ترویج و آموزش» goes there
TEXT = "لطفاً کلاس‌های آموزشی آبیاری قطره‌ای را در روستاهای سربیشه برگزار کنید."
CHAT_ID = 53_117
FIRST, LAST = "نرگس", "ملکی‌زاده"


def _identity_in(text: str) -> list[str]:
    """What of the citizen's identity a text shows: profile name, chat or account id."""
    marks = (FIRST, LAST, str(CHAT_ID), to_persian_digits(str(CHAT_ID)))
    return [mark for mark in marks if mark in text]


async def _file(citizen, choice: str) -> tuple[str, str]:
    """File the suggestion with one of the naming choices; (the words at the choice, code)."""
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("ترویج و آموزش")
    offered = await citizen.send(TEXT)
    assert texts.BTN_UNNAMED_REPLY in offered[-1].buttons(), "the third choice is offered"
    chosen = said(await citizen.click(choice))
    return chosen, tracking_code(await citizen.click(texts.BTN_CONFIRM))


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_an_unnamed_suggestion_hides_who_and_still_gets_the_answer(
    front, platform: Platform
) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(CHAT_ID, FIRST, last_name=LAST)
    chosen, code = await _file(citizen, texts.BTN_UNNAMED_REPLY)
    assert texts.UNNAMED_NOTE in chosen and texts.UNNAMED_NAME in chosen, "told, and summarised"
    request = await stored(front, code)
    assert request.unnamed and not request.anonymous
    assert request.chat == ChatRef(platform, CHAT_ID), "the chat is kept for the answer"
    assert request.contact.name is None and request.contact.phone is None

    # The card says the citizen chose to stay unnamed but can be answered; nothing of who.
    card = await card_in(front, platform, EXTENSION, code)
    assert texts.CARD_UNNAMED in (card.text or "")
    assert TEXT in (card.text or "")
    assert _identity_in(card.text or "") == []

    # A staff question reaches the citizen; the reply lands in the thread, still unnamed.
    group = front.group(EXTENSION, platform)
    staff = group.as_admin(6101, "مهدی")
    mark = len(fake.sent)
    await staff.click(texts.BTN_ASK, message=card)
    await staff.send("در کدام روستا بیشتر نیاز است؟")
    question = await next_to(front, platform, citizen.chat_id, mark, "کدام روستا")
    mark = len(fake.sent)
    await citizen.click(texts.BTN_REPLY_QUESTION, message=question)
    await citizen.send("روستای مود و درح.")
    await next_to(front, platform, group.id, mark, "روستای مود")

    # The answer, by a reply to the card, reaches the citizen in the same chat.
    mark = len(fake.sent)
    await staff.send("کلاس‌ها از ماه آینده در روستای مود برگزار می‌شود.", reply_to=card)
    answer = await next_to(front, platform, citizen.chat_id, mark, "از ماه آینده")
    assert to_persian_digits(code) in (answer.text or "")
    assert (await stored(front, code)).status is Status.ANSWERED
    await front.delivered()
    assert texts.CARD_UNNAMED in (card.current_text() or ""), "the refreshed card too"

    # Nothing the group ever got names the citizen, nor does the audit trail.
    in_group = [m.current_text() or "" for m in fake.sent if m.chat_id == group.id]
    assert in_group and all(_identity_in(t) == [] for t in in_group), in_group
    async with SqlUnitOfWork(front.app.sessions) as tx:
        actors = [e.actor for e in await tx.requests.events(code)]
    assert all(_identity_in(a) == [] for a in actors), actors

    # Tracking by code from the filing chat shows it all, as for any request.
    status = said(await citizen.send(code))
    assert "از ماه آینده" in status and TEXT in status
    # From another chat: the status only (there is no phone to prove anything with).
    other = said(await fake.private_chat(CHAT_ID + 1, "دیگری").send(code))
    assert TEXT not in other and "از ماه آینده" not in other

    # The admins' export names nobody either.
    day = gregorian_to_jalali(local_date(request.created_at))
    jalali = "-".join(f"{part:02d}" for part in day)
    admin = front.admins(platform).as_admin(7001, "مریم")
    replies = await admin.send(f"/export {jalali} {jalali}")
    document = next(m for m in replies if m.method == "sendDocument")
    assert document.media is not None
    book = load_workbook(io.BytesIO(fake.file_content(document.media["file_id"])))
    rows = list(book["درخواست‌ها"].iter_rows(values_only=True))
    row = next(r for r in rows[1:] if r[0] == code)
    assert row[12] == texts.UNNAMED_NAME and row[13] is None
    everything = [str(cell) for sheet in book for r in sheet.iter_rows(values_only=True)
                  for cell in r if cell is not None]  # fmt: skip
    assert all(_identity_in(cell) == [] for cell in everything)


async def test_a_plain_anonymous_suggestion_still_cannot_be_answered(
    front, platform: Platform
) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(CHAT_ID + 2, FIRST, last_name=LAST)
    chosen, code = await _file(citizen, texts.BTN_ANONYMOUS)
    assert "پاسخی به شما نخواهد رسید" in chosen
    request = await stored(front, code)
    assert request.anonymous and not request.unnamed and request.chat is None

    card = await card_in(front, platform, EXTENSION, code)
    assert texts.CARD_UNNAMED not in (card.text or "")
    assert f"متقاضی: {texts.CARD_ANONYMOUS} |" in (card.text or "")
    group = front.group(EXTENSION, platform)
    mark = len(fake.sent)
    await group.as_admin(6101, "مهدی").send("سپاس از پیشنهاد شما.", reply_to=card)
    await next_to(front, platform, group.id, mark, "این پاسخ به کسی فرستاده نشد")
    assert not [m for m in fake.sent[mark:] if m.chat_id == citizen.chat_id], "nothing reaches"
