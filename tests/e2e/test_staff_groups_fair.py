"""Fair to staff groups: a card before its attachments, attachments as one album where the
platform has albums, several refreshes of one card sent as one edit."""

from __future__ import annotations

import pytest

from bot.ui import texts
from desk.model import Platform, Status
from tests.e2e.helpers import stored
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint


@pytest.mark.slow
async def test_attachments_follow_the_card_as_one_album(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(12001, "علی")
    mark = len(fake.sent)
    code = await file_water_complaint(
        citizen, files=("photo", "voice", "photo", "video", "document")
    )
    card = await card_in(front, platform, WATER, code)
    await front.delivered()
    water = front.group(WATER, platform)
    in_group = [m for m in fake.sent[mark:] if m.chat_id == water.id]
    assert in_group[0].message_id == card.message_id, "the card goes first"
    methods = [m.method for m in in_group[1:]]
    # photos and the video share one album on both platforms; the voice note goes alone
    assert methods == ["sendMediaGroup"] * 3 + ["sendVoice", "sendDocument"], methods
    album = in_group[1:4]
    assert [m.media["type"] for m in album] == ["photo", "photo", "video"]
    assert all(m.reply_to_message_id == card.message_id for m in in_group[1:]), (
        "every attachment is threaded under the card"
    )
    # a reply to the album's second photo answers the request, like a reply to the card
    await water.send("پاسخ کارشناس زیر عکس دوم.", reply_to=album[1])
    await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and "زیر عکس دوم" in (m.current_text() or ""),
        since=mark,
    )
    assert (await stored(front, code)).status is Status.ANSWERED


@pytest.mark.slow
async def test_documents_share_an_album_on_telegram_only(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(12002, "علی")
    mark = len(fake.sent)
    code = await file_water_complaint(citizen, files=("document", "document"))
    await card_in(front, platform, WATER, code)
    await front.delivered()
    water = front.group(WATER, platform)
    methods = [m.method for m in fake.sent[mark:] if m.chat_id == water.id][1:]
    # Bale's libraries document albums of photos and videos only (Balethon)
    expected = ["sendMediaGroup"] * 2 if platform is Platform.TELEGRAM else ["sendDocument"] * 2
    assert methods == expected


@pytest.mark.slow
async def test_several_refreshes_of_one_card_go_as_one_edit(front, platform: Platform) -> None:
    """Held back while three changes happen, the card's three refreshes become one edit that
    shows the latest state."""
    fake = front.bot(platform)
    citizen = fake.private_chat(12003, "علی")
    code = await file_water_complaint(citizen, files=("photo",))
    card = await card_in(front, platform, WATER, code)
    await front.delivered()
    water = front.group(WATER, platform)
    await front.restart(deliver=False)  # the worker is off: the refreshes pile up
    member = water.as_admin(9101, "مریم احمدی")
    await member.click(texts.BTN_CLAIM, message=card)
    await member.send("پاسخ اول کارشناس.", reply_to=card)
    assert (await front.outbox())["pending"] >= 3
    edits_before = len(card.edits)
    await front.restart()
    await front.delivered()
    assert len(card.edits) == edits_before + 1, "one edit for the claim and the answer"
    assert "پاسخ اول کارشناس" in (card.current_text() or "")
