"""Hostile profile names and long inputs on a staff card: a name with a right-to-left override
shows without it, and a transfer reason that would make the card undeliverable is refused."""

from __future__ import annotations

from bot.ui import texts
from desk.model import Platform
from desk.text import to_persian_digits
from desk.validation import STAFF_NOTE_MAX
from tests.e2e.test_staff_desk import AGRONOMY, WATER, card_in, file_water_complaint, next_to

LONG_COMPLAINT = ("آب چاه کشاورزی ما قطع شده است و کسی پاسخگو نیست. " * 60)[:2990]


async def test_a_claim_shows_the_staff_name_without_a_direction_override(
    front, platform: Platform
) -> None:
    from tests.e2e.test_staff_desk import file_water_complaint

    fake = front.bot(platform)
    citizen = fake.private_chat(11301, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    maryam = water.as_admin(502, "\u202eRTL مریم")
    mark = len(fake.sent)
    await maryam.click(texts.BTN_CLAIM, message=card)
    await next_to(front, platform, citizen.chat_id, mark, "در حال بررسی")
    await front.delivered()
    shown = card.current_text() or ""
    assert "RTL مریم" in shown
    assert "\u202e" not in shown
    assert all("\u202e" not in (m.current_text() or "") for m in fake.sent[mark:])


async def test_a_too_long_transfer_reason_is_refused_and_a_short_one_transfers(
    front, platform: Platform
) -> None:

    fake = front.bot(platform)
    citizen = fake.private_chat(11302, "علی")
    code = await file_water_complaint(citizen, photo=False, description=LONG_COMPLAINT)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    ahmad = water.as_admin(503, "احمد")
    await ahmad.click(texts.BTN_TRANSFER, message=card)
    await ahmad.click("مدیریت زراعت", message=card)

    mark = len(fake.sent)
    await ahmad.send("د" * 1500)
    refusal = await fake.wait_for(
        lambda m: m.chat_id == water.id and to_persian_digits(1500) in (m.text or ""),
        since=mark,
        timeout=15,
    )
    assert f"بیش از {to_persian_digits(STAFF_NOTE_MAX)} حرف" in (refusal.text or "")
    assert "نویسه" not in (refusal.text or "")
    assert "دیگر در این گروه قابل اقدام نیست" not in (card.current_text() or "")

    await ahmad.send("موضوع مربوط به آبیاری مزارع گندم است")
    new_card = await card_in(front, platform, AGRONOMY, code)
    assert "گندم" in (new_card.text or "")
    assert LONG_COMPLAINT[:200] in (new_card.text or "")
    await front.delivered()
    assert "دیگر در این گروه قابل اقدام نیست" in (card.current_text() or "")
