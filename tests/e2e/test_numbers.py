"""Numbers as people read them, on Telegram and Bale: what people type keeps its digits (they
are folded only to check and to search), and every number the bot writes itself is Persian."""

from __future__ import annotations

import re

from bot.ui import texts
from desk.text import to_persian_digits
from tests.e2e.conftest import Front
from tests.e2e.helpers import stored
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

LATIN_DIGIT = re.compile(r"[0-9]")
DESCRIPTION = "آب چاه روستای خراشاد قطع شده است، پروانه ۱۲۳۴ به نام پدرم است."
ANSWER = "با شماره ۰۵۶۳۲۲۳۱۵۰۰ تماس بگیرید."


async def test_people_s_digits_reach_the_other_side_as_typed(front: Front, platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14401, "علی")
    code = await file_water_complaint(citizen, photo=False, description=DESCRIPTION)
    card = await card_in(front, platform, WATER, code)
    assert "پروانه ۱۲۳۴" in (card.text or ""), "staff read the citizen's digits as typed"
    assert "1234" not in (card.text or "")
    assert (await stored(front, code)).text == DESCRIPTION

    water = front.group(WATER, platform)
    mark = len(fake.sent)
    await water.as_admin(9441, "مریم").send(ANSWER, reply_to=card)
    notice = await next_to(front, platform, citizen.chat_id, mark, "تماس بگیرید")
    assert "۰۵۶۳۲۲۳۱۵۰۰" in (notice.text or ""), "the citizen reads the staff's digits as typed"
    assert "05632231500" not in (notice.text or "")
    assert (await stored(front, code)).answer == ANSWER
    # folded where it is matched: the code typed in Persian digits still finds the request
    status = await citizen.send(to_persian_digits(code))
    assert any(to_persian_digits(code) in (m.text or "") for m in status)


async def test_every_number_the_bot_writes_is_persian(front: Front, platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(14402, "علی")
    await citizen.send("/start")
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    await citizen.click("فردوس")
    refused = await citizen.send("ع")
    assert any("۳ تا ۸۰" in (m.text or "") for m in refused), [m.text for m in refused]
    await citizen.send("علی رضایی")
    await citizen.send_contact("+989151234567")
    await citizen.click(texts.BTN_NO_NATIONAL_CODE)
    short = await citizen.send("کوتاه")
    assert any("۱۰" in (m.text or "") for m in short), [m.text for m in short]
    await citizen.send(DESCRIPTION)
    await citizen.click(texts.BTN_NO_ATTACHMENTS)
    await citizen.click(texts.BTN_CONFIRM)
    await front.delivered()
    to_citizen = [m.text or "" for m in fake.sent if m.chat_id == citizen.chat_id]
    assert to_citizen
    latin = [t for t in to_citizen if LATIN_DIGIT.search(t)]
    assert not latin, f"the bot wrote Latin digits: {latin}"
