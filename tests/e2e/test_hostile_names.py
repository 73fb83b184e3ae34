"""Every staff and admin action (card buttons, answers, /staff, /staff_list, /unstaff,
/publish to /withdraw_draft), on both platforms, by people whose names are hostile: markup
(«R<D & Co», a link), a right-to-left override, 200 characters. Each prompt, card and notice
arrives (the fake refuses HTML Telegram would refuse, and flags markup sent to Bale), and a
name reads as it was typed, tidied (`desk.text.profile_name`) and made safe for the platform.

A staff member named `R<D` once got no prompt at all: it was built with `str.format` into
HTML. `tests/unit/test_one_way_to_format.py` keeps the handlers to the escaping renderer;
this file proves the result over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime.platforms import Renderer
from bot.ui import texts
from desk import regulations
from desk.calendar import gregorian_to_jalali, local_date
from desk.model import DraftStatus, Platform, Status
from desk.text import profile_name, to_persian_digits
from tests.e2e.helpers import said, stored
from tests.e2e.test_staff_desk import AGRONOMY, WATER, card_in, file_water_complaint, next_to
from tests.e2e.test_staff_people import _newest_id

NAMES = {
    "markup": ("R<D", "& Co"),
    "link": ('<a href="https://evil.example/">بازرس</a>', None),
    "rtl-override": ("\u202eمریم", "احمدی\u202c"),
    "200-chars": ("ن" * 200, None),
}
TITLE = "طرح <b>آب</b> & خاک «۱۴۰۵»"
SUMMARY = "بند یک: سهمیه آب <هر> بهره‌بردار.\n\nبند دو: تحویل حجمی & پایش."


def shown(platform: Platform, first: str, last: str | None) -> str:
    """How the person's name reads in what the bot sends."""
    return Renderer(platform).shown(profile_name(" ".join(p for p in (first, last) if p)))


@pytest.fixture(params=list(NAMES), ids=list(NAMES))
def name(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    return NAMES[request.param]


@pytest.mark.slow
async def test_every_staff_action_arrives_whatever_the_staff_names(
    front, platform: Platform, name: tuple[str, str | None]
) -> None:
    first, last = name
    fake = front.bot(platform)
    who = shown(platform, first, last)
    citizen = fake.private_chat(41001, first, last)  # the citizen's own profile too
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    staff = water.as_admin(601, first, last)

    # claim: the pop-up (plain text, within 200 characters) and the card name the person
    mark = len(fake.sent)
    await staff.click(texts.BTN_CLAIM, message=card)
    await next_to(front, platform, citizen.chat_id, mark, "در حال بررسی")
    popup = str(fake.callback_answers[-1].get("text") or "")
    assert profile_name(first)[:20] in popup and to_persian_digits(code) in popup
    assert who[:20] in card.seen()

    # ask: the prompt names the person; the question reaches the citizen
    prompt = said(await staff.click(texts.BTN_ASK, message=card))
    assert texts.STAFF_ASK_QUESTION.split("،")[1].strip()[:20] in prompt
    assert who[:20] in "\n".join(m.seen() for m in fake.sent[mark:] if m.chat_id == water.id)
    mark = len(fake.sent)
    await staff.send("لطفاً شماره پروانه چاه را بفرمایید.")
    await next_to(front, platform, citizen.chat_id, mark, "پروانه چاه")
    assert (await stored(front, code)).status is Status.WAITING

    # transfer: the unit pick, the reason prompt naming the person, the new unit's card
    await staff.click(texts.BTN_TRANSFER, message=card)
    reason_prompt = await staff.click("مدیریت زراعت", message=card)
    assert reason_prompt and who[:20] in "\n".join(m.seen() for m in reason_prompt)
    await staff.send("به زراعت <مربوط> است & نه آب")
    new_card = await card_in(front, platform, AGRONOMY, code)
    assert Renderer(platform).shown("به زراعت <مربوط> است & نه آب") in new_card.seen()

    # answer by reply in the new unit, by someone as hostile; then close another request
    agronomy = front.group(AGRONOMY, platform)
    other = agronomy.as_admin(602, first, last)
    mark = len(fake.sent)
    await other.send("کارشناس <زراعت> شنبه & یکشنبه بازدید می‌کند.", reply_to=new_card)
    answer = await next_to(front, platform, citizen.chat_id, mark, "بازدید می‌کند")
    assert Renderer(platform).shown("کارشناس <زراعت> شنبه & یکشنبه") in answer.seen()
    assert (await stored(front, code)).status is Status.ANSWERED

    # /staff, /staff_list, /unstaff: an administrator with the hostile name grants a member
    # with the hostile name; every answer arrives and names both as typed
    member = water.as_member(603, first, last)
    await member.send("من هم کارشناس آب هستم")
    member_message = _newest_id(water)
    granted = "\n".join(m.seen() for m in await staff.send("/staff", reply_to=member_message))
    assert "کارشناس این گروه است" in granted and who[:20] in granted
    listing = "\n".join(m.seen() for m in await staff.send("/staff_list"))
    assert listing.count(who[:20]) >= 2, "the administrator and the granted member"
    revoked = "\n".join(m.seen() for m in await staff.send("/unstaff", reply_to=member_message))
    assert "دیگر کارشناس این گروه نیست" in revoked and who[:20] in revoked

    second = await file_water_complaint(fake.private_chat(41002, first, last), photo=False)
    second_card = await card_in(front, platform, WATER, second)
    await staff.click(texts.BTN_CLOSE, message=second_card)
    [question] = await staff.click("تکراری", message=second_card)
    assert "بسته شود؟" in question.seen() and who[:20] in question.seen()
    await staff.click(texts.BTN_CONFIRM_CLOSE, message=question)
    await front.delivered()
    assert (await stored(front, second)).status is Status.CLOSED
    assert "بسته شده" in second_card.seen()


async def test_every_admin_action_arrives_whatever_the_admin_names(
    front, platform: Platform, name: tuple[str, str | None], tmp_path: Path
) -> None:
    first, last = name
    admin = front.admins(platform).as_admin(7101, first, last)

    # /publish, step by step, with a hostile title and summary
    assert texts.ADMIN_ASK_TITLE in said(await admin.send("/publish"))
    assert texts.ADMIN_ASK_SUMMARY in said(await admin.send(TITLE))
    assert texts.ADMIN_ASK_FILE in said(await admin.send(SUMMARY))
    assert texts.ADMIN_ASK_UNIT in said(await admin.send_document(size=5_000, file_name="<x>&.pdf"))
    assert texts.ADMIN_ASK_DAYS in said(await admin.click("مدیریت آب و خاک و امور فنی و مهندسی"))
    preview = await admin.click(texts.BTN_DAYS_DEFAULT)
    assert Renderer(platform).shown(TITLE) in "\n".join(m.seen() for m in preview)
    published = "\n".join(m.seen() for m in await admin.click(texts.BTN_CONFIRM))
    assert Renderer(platform).shown(TITLE) in published
    (draft,) = await regulations.list_drafts(front.app.dispatcher["deps"].desk)
    assert draft.id is not None and draft.status is DraftStatus.OPEN
    assert draft.created_by.startswith(f"{platform.value}:7101")

    # the listing, the reports, the export
    drafts = "\n".join(m.seen() for m in await admin.send("/drafts"))
    assert Renderer(platform).shown(TITLE) in drafts
    assert await admin.send("/report"), "the report arrives"
    assert await admin.send("/overdue"), "the overdue list arrives"
    year, month, day = gregorian_to_jalali(local_date(front.app.clock.now()))
    today = f"{year:04d}-{month:02d}-{day:02d}"
    exported = await admin.send(f"/export {today} {today}")
    assert any(m.method == "sendDocument" for m in exported), [m.seen() for m in exported]

    # a citizen reads it: the document (its caption the title) and the sections arrive
    fake = front.bot(platform)
    citizen = fake.private_chat(41003, first, last)
    menu = (await citizen.send("/start"))[-1]
    read = await citizen.click_data(f"dr:{draft.id}", menu)
    assert [m.method for m in read] == ["sendDocument", "sendMessage"]
    assert Renderer(platform).shown(TITLE) in read[0].seen()

    # closing early, the final version, and withdrawing a second draft
    closed = "\n".join(m.seen() for m in await admin.send(f"/close_draft {draft.id}"))
    assert Renderer(platform).shown(TITLE) in closed
    water = front.group("water_soil", platform)
    digest = await fake.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendDocument", timeout=15
    )
    assert Renderer(platform).shown(TITLE) in digest.seen()
    final = await admin.send_document(
        size=4_000, file_name="نهایی.pdf", caption=f"/final {draft.id} بند <۲> & بند ۳ اصلاح شد"
    )
    assert Renderer(platform).shown(TITLE) in "\n".join(m.seen() for m in final)
    assert (await regulations.get(front.app.dispatcher["deps"].desk, draft.id)).status is (
        DraftStatus.FINAL
    )
    await admin.send("/publish")
    await admin.send("طرح دوم <پس‌گرفتنی>")
    await admin.send(SUMMARY)
    await admin.send_document(size=5_000, file_name="دوم.pdf")
    await admin.click("مدیریت آب و خاک و امور فنی و مهندسی")
    await admin.click(texts.BTN_DAYS_DEFAULT)
    await admin.click(texts.BTN_CONFIRM)
    drafts_now = await regulations.list_drafts(front.app.dispatcher["deps"].desk)
    second = next(d for d in drafts_now if d.id != draft.id)
    withdrawn = "\n".join(
        m.seen() for m in await admin.send(f"/withdraw_draft {second.id} دلیل <مهم> & فوری")
    )
    assert Renderer(platform).shown("طرح دوم <پس‌گرفتنی>") in withdrawn
    await front.delivered()
