"""Voice first (issue 14, item 2), on Telegram and on Bale (whose voice notes have no duration):
a voice note is the description of a complaint, a message to the head, a suggestion and a draft
comment; staff hear it under the card, which says the description is a voice note; staff may
answer with a voice note and the citizen receives it; a photo sent where the description is
asked is kept, and the description asked again. The reach with voice is counted on Bale."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ui import texts
from desk import regulations
from desk.model import DESCRIPTION_ROLE, AttachmentKind, DraftFile, Kind, Platform, Status
from desk.text import to_persian_digits
from tests.e2e.conftest import Front
from tests.e2e.helpers import said, stored, tracking_code
from tests.e2e.test_returning import SAME, Counted, first_complaint
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

HEAD = "head_office"
DESCRIPTION = "آب چاه کشاورزی ما از سه هفته پیش قطع شده و کسی پاسخگو نیست."


async def _to_description(citizen: Any) -> str:
    """A complaint on water, from the menu to its description question; what was asked."""
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    return said(await citizen.click(texts.BTN_NO_NATIONAL_CODE))


async def _voice_under_card(front: Front, platform: Platform, unit: str, code: str) -> Any:
    """The card of `code` in the unit's group, and the voice note sent after it as a reply to
    it: (card, voice)."""
    fake = front.bot(platform)
    group = front.group(unit, platform)
    card = await card_in(front, platform, unit, code)
    voice = await fake.wait_for(
        lambda m: m.chat_id == group.id and m.method == "sendVoice", timeout=15
    )
    assert voice.reply_to_message_id == card.message_id, "the voice is on the card's thread"
    assert fake.sent.index(card) < fake.sent.index(voice), "the card first, the voice after"
    heard = fake.file_content((voice.media or {})["file_id"])
    assert heard.startswith(b"OggS"), "the citizen's own voice note"
    return card, voice


def _voice_is_the_description(request: Any) -> None:
    """The request as stored: its description says it is a voice note, the voice is its first
    file, marked as the description."""
    assert request.text == texts.VOICE_DESCRIPTION
    first = request.attachments[0]
    assert first.kind is AttachmentKind.VOICE and first.role == DESCRIPTION_ROLE


@pytest.mark.slow  # over 2 s (README, Testing: slow)
async def test_a_voice_note_is_the_description_of_a_complaint(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14201, "علی")
    asked = await _to_description(citizen)
    assert texts.VOICE_INVITE in asked, "the question says a voice note will do"
    summary = said(await citizen.send_voice())
    # no length is asked of a voice; the attachments step is passed over (one action fewer),
    # and the summary invites a file instead
    assert texts.VOICE_DESCRIPTION_KEPT in summary and texts.SUMMARY_TITLE in summary
    assert texts.VOICE_DESCRIPTION in summary and texts.SUMMARY_ATTACH_HINT in summary
    assert texts.ERR_TEXT_WANTED not in summary and "دست‌کم" not in summary
    assert texts.ASK_ATTACHMENTS[:30] not in summary
    again = said(await citizen.send_photo())  # a photo at the summary is kept too
    assert "۱ عکس" in again and "۱ پیام صوتی" not in again, "the voice is no attachment there"
    receipt = await citizen.click(texts.BTN_CONFIRM)
    code = tracking_code(receipt)
    request = await stored(front, code)
    _voice_is_the_description(request)
    assert [a.kind for a in request.attachments] == [AttachmentKind.VOICE, AttachmentKind.PHOTO]

    card, _ = await _voice_under_card(front, platform, WATER, code)
    assert texts.CARD_VOICE_DESCRIPTION.strip() in (card.text or "")
    assert texts.VOICE_DESCRIPTION in (card.text or "")

    # the citizen's own view of it reads sensibly too
    await citizen.click(texts.BTN_TRACK)
    status = said(await citizen.send(to_persian_digits(code)))
    assert texts.VOICE_DESCRIPTION in status


async def test_a_voice_with_a_caption_keeps_its_words(front: Front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14202, "علی")
    await _to_description(citizen)
    summary = said(await citizen.send_voice(caption="چاه شماره ۲"))
    assert f"{texts.VOICE_DESCRIPTION}\nچاه شماره ۲" in summary, "a short caption is no error"
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == f"{texts.VOICE_DESCRIPTION}\nچاه شماره ۲", "as typed, digits kept"


async def test_typing_the_description_after_a_voice_replaces_it_the_voice_stays_a_file(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14203, "علی")
    await _to_description(citizen)
    await citizen.send_voice()
    await citizen.click(texts.BTN_EDIT)
    await citizen.click(texts.FIELD_LABELS["text"])
    summary = said(await citizen.send(DESCRIPTION))
    assert DESCRIPTION in summary and "۱ پیام صوتی" in summary, "nothing sent is lost"
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == DESCRIPTION
    assert [a.role for a in request.attachments] == [None], "now an ordinary attachment"
    card = await card_in(front, platform, WATER, request.code)
    assert texts.CARD_VOICE_DESCRIPTION.strip() not in (card.text or "")


async def test_a_voice_note_is_a_message_to_the_head(front: Front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14204, "سارا")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("سارا کاظمی")
    asked = said(await citizen.send("09151234567"))
    assert texts.VOICE_INVITE in asked
    summary = said(await citizen.send_voice())
    assert texts.SUMMARY_TITLE in summary and texts.VOICE_DESCRIPTION in summary
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert request.kind is Kind.HEAD
    _voice_is_the_description(request)
    card, _ = await _voice_under_card(front, platform, HEAD, code)
    assert texts.CARD_VOICE_DESCRIPTION.strip() in (card.text or "")


async def test_a_voice_note_is_a_suggestion(front: Front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(14205, "حسن")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    asked = said(await citizen.click("آب و آبیاری"))
    assert texts.VOICE_INVITE in asked
    naming = said(await citizen.send_voice())
    assert texts.VOICE_DESCRIPTION_KEPT in naming and texts.ASK_ANONYMOUS in naming
    summary = said(await citizen.click(texts.BTN_WITH_NAME))
    assert texts.VOICE_DESCRIPTION in summary
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    request = await stored(front, code)
    assert request.kind is Kind.SUGGESTION
    _voice_is_the_description(request)
    card, _ = await _voice_under_card(front, platform, WATER, code)
    assert texts.CARD_VOICE_DESCRIPTION.strip() in (card.text or "")


async def _publish_draft(front: Any) -> Any:
    draft = await regulations.publish(
        front.app.dispatcher["deps"].desk,
        title="دستورالعمل آب کشاورزی",
        summary="سهمیه هر بهره‌بردار بر پایه سطح زیر کشت تعیین می‌شود.",
        unit=WATER,
        document=DraftFile("دستورالعمل.pdf", b"%PDF-1.4\n" + b"x" * 2000, "application/pdf"),
    )
    front.app.delivery.wake()
    return draft


async def _open_comment(citizen: Any) -> str:
    await citizen.send("/start")
    await citizen.click(texts.BTN_DRAFTS)
    await citizen.click(f"{texts.BTN_COMMENT_DRAFT}: دستورالعمل آب کشاورزی")
    return said(await citizen.click(texts.BTN_ROLE_SKIP))


async def test_a_voice_note_is_a_draft_comment(front: Front, platform: Platform) -> None:
    await _publish_draft(front)
    citizen = front.bot(platform).private_chat(14206, "حسن")
    asked = await _open_comment(citizen)
    assert texts.VOICE_INVITE in asked
    code = tracking_code(await citizen.send_voice())
    request = await stored(front, code)
    assert request.kind is Kind.COMMENT
    _voice_is_the_description(request)
    card, _ = await _voice_under_card(front, platform, WATER, code)
    assert texts.CARD_VOICE_DESCRIPTION.strip() in (card.text or "")


async def test_a_photo_where_a_comment_is_asked_is_kept(front: Front, platform: Platform) -> None:
    await _publish_draft(front)
    citizen = front.bot(platform).private_chat(14207, "حسن")
    await _open_comment(citizen)
    kept = said(await citizen.send_photo())
    assert "عکس شما نگه داشته شد؛ حالا نظر خود را" in kept
    assert texts.ERR_TEXT_WANTED not in kept and "کد رهگیری" not in kept
    code = tracking_code(await citizen.send("به دامداران کوچک هم در خشک‌سالی اولویت بدهید."))
    request = await stored(front, code)
    assert [a.kind for a in request.attachments] == [AttachmentKind.PHOTO]


async def test_a_photo_at_the_description_is_kept_and_the_description_asked_again(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14208, "علی")
    await _to_description(citizen)
    kept = said(await citizen.send_photo())
    assert kept.startswith("عکس شما نگه داشته شد؛ حالا شرح شکایت را")
    assert texts.ASK_DESCRIPTION[:20] in kept, "the description is asked again"
    # a caption too short for a description is said so, the second photo kept as well
    short = said(await citizen.send_photo(caption="چاه"))
    assert "عکس شما نگه داشته شد" in short and "دست‌کم" in short
    asked = said(await citizen.send(DESCRIPTION))
    assert texts.ASK_ATTACHMENTS[:30] in asked, "then the attachments step, as after text"
    assert texts.BTN_DONE in citizen.keyboard(), "two photos already count as attachments"
    summary = said(await citizen.click(texts.BTN_DONE))
    assert "۲ عکس" in summary and DESCRIPTION in summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == DESCRIPTION
    assert [a.kind for a in request.attachments] == [AttachmentKind.PHOTO] * 2


async def test_a_photo_with_a_caption_is_the_description_and_the_photo(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14209, "حسن")
    await citizen.send("/start")
    await citizen.click(texts.BTN_SUGGESTION)
    await citizen.click("آب و آبیاری")
    naming = said(await citizen.send_photo(caption=DESCRIPTION))
    assert texts.ASK_ANONYMOUS in naming, "the caption was the suggestion: the next step"
    assert "عکس شما نگه داشته شد و نوشته زیر آن شرح درخواست شد." in naming, "and it says so"
    summary = said(await citizen.click(texts.BTN_WITH_NAME))
    assert DESCRIPTION in summary and "۱ عکس" in summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert request.text == DESCRIPTION and len(request.attachments) == 1
    fake = front.bot(platform)
    await card_in(front, platform, WATER, request.code)
    group = front.group(WATER, platform)
    await fake.wait_for(lambda m: m.chat_id == group.id and m.method == "sendPhoto", timeout=15)


@pytest.mark.slow  # over 2 s (README, Testing: slow)
async def test_staff_answer_with_a_voice_and_the_citizen_hears_it(
    front: Front, platform: Platform
) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14210, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    clerk = water.as_admin(14291, "مریم")

    # a voice note answers a staff question (the button first): staff read that it is one
    await clerk.click(texts.BTN_ASK, message=card)
    mark = len(fake.sent)
    await clerk.send("شماره پروانه چاه را بگویید.")
    await next_to(front, platform, citizen.chat_id, mark, "شماره پروانه")
    asked = said(await citizen.click(texts.BTN_REPLY_QUESTION))
    assert texts.ASK_CLARIFICATION in asked and texts.VOICE_INVITE in asked
    mark = len(fake.sent)
    assert "فرستاده شد" in said(await citizen.send_voice())
    note = await fake.wait_for(
        lambda m: m.chat_id == water.id and texts.VOICE_DESCRIPTION in (m.text or ""),
        since=mark,
        timeout=15,
    )
    voice = await fake.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendVoice", since=mark, timeout=15
    )
    assert note.reply_to_message_id == card.message_id == voice.reply_to_message_id

    # the answer as a voice note, a reply to the card
    mark = len(fake.sent)
    await clerk.send_voice(reply_to=card)
    told = await next_to(front, platform, citizen.chat_id, mark, texts.VOICE_ANSWER)
    heard = await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and m.method == "sendVoice", since=mark, timeout=15
    )
    assert fake.sent.index(told) < fake.sent.index(heard), "the answer's words, then the voice"
    assert fake.file_content((heard.media or {})["file_id"]).startswith(b"OggS")
    request = await stored(front, code)
    assert request.status is Status.ANSWERED and request.answer == texts.VOICE_ANSWER


class Spoken(Counted):
    """A counted citizen who may also speak."""

    async def send_voice(self) -> Any:
        self.actions += 1
        return await self.citizen.send_voice()


async def test_reach_with_voice_on_bale(front: Front) -> None:
    """The figures in the README: a first complaint told in one voice note takes 8 actions (the
    attachments step passed over), a second one 6 (as with text)."""
    citizen = front.bale.private_chat(14211, "نرگس")
    await citizen.send("/start")
    first = Spoken(citizen)
    await first.click(texts.BTN_COMPLAINT)
    await first.click("دام و طیور")
    await first.click("نهبندان")
    await first.send("نرگس امینی")
    await first.share_contact("+989151234567")
    await first.click(texts.BTN_NO_NATIONAL_CODE)
    await first.send_voice()
    code1 = tracking_code(await first.click(texts.BTN_CONFIRM))

    second = Spoken(citizen)
    await second.click(texts.BTN_COMPLAINT)
    await second.click("دام و طیور")
    await second.click("نهبندان")
    await second.click(SAME)
    await second.send_voice()
    code2 = tracking_code(await second.click(texts.BTN_CONFIRM))
    for code in (code1, code2):
        _voice_is_the_description(await stored(front, code))
    assert first.actions == 8
    assert second.actions == 6

    # and with text, measured the same way, for the README's comparison
    typed = Spoken(front.bale.private_chat(14212, "نرگس"))
    await typed.citizen.send("/start")
    await first_complaint(typed)
    assert typed.actions == 9


async def test_files_kept_at_the_description_count_among_the_five(
    front: Front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(14213, "علی")
    await _to_description(citizen)
    for _ in range(5):
        assert "عکس شما نگه داشته شد" in said(await citizen.send_photo())
    full = said(await citizen.send_photo())
    assert "حداکثر ۵ پیوست" in full and texts.ASK_DESCRIPTION[:20] in full
    await citizen.send(DESCRIPTION)
    summary = said(await citizen.send_photo())
    assert "حداکثر ۵ پیوست" in summary and texts.SUMMARY_TITLE in summary and "۵ عکس" in summary
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    assert len(request.attachments) == 5


async def test_a_new_voice_after_five_files_never_makes_six(
    front: Front, platform: Platform
) -> None:
    """A voice description, five photos, then «ویرایش» → «شرح» and a new voice: the new voice
    is the description, the citizen is told the earlier one gave way (no room left among the
    five), and the request has five files plus its description (review bug 10a: six files)."""
    citizen = front.bot(platform).private_chat(14214, "علی")
    await _to_description(citizen)
    await citizen.send_voice()
    for _ in range(5):
        await citizen.send_photo()
    await citizen.click(texts.BTN_EDIT)
    await citizen.click(texts.FIELD_LABELS["attachments"])
    summary = said(await citizen.send_photo())
    assert "۵ عکس" in summary and texts.SUMMARY_TITLE in summary, summary
    await citizen.click(texts.BTN_EDIT)
    await citizen.click(texts.FIELD_LABELS["text"])
    told = said(await citizen.send_voice(size=9_000))
    assert texts.VOICE_REPLACED_NO_ROOM.format(max="۵") in told, told
    assert "۵ عکس" in told and "۱ پیام صوتی" not in told, "five files, no sixth"
    request = await stored(front, tracking_code(await citizen.click(texts.BTN_CONFIRM)))
    extra = [a for a in request.attachments if a.role != DESCRIPTION_ROLE]
    assert len(extra) == 5 and len(request.attachments) == 6
    assert request.attachments[0].kind is AttachmentKind.VOICE
    assert request.attachments[0].file_size == 9_000, "the new voice is the description"
