"""Who comments on a draft, and what staff read (issue 14, items 8 and 6): a citizen may say
they comment as a farmer, an expert, an official or other; the card in the unit's group names
the draft, the section and the role; the closing digest counts comments per role and the
workbook has a column for it. A comment whose author does not say still files. `/help` in a
unit's group and in the admins' group answers their staff, and nobody else."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bot.ui import texts
from desk import regulations
from desk.model import DraftFile, Platform
from desk.text import to_persian_digits
from tests.e2e.helpers import said, stored, tracking_code

TITLE = "دستورالعمل آب کشاورزی"  # short enough to show whole on the list's buttons
SUMMARY = (
    "مقدمه: این دستورالعمل شیوه توزیع آب کشاورزی در سال‌های کم‌آبی را روشن می‌کند.\n\n"
    "۱. سهمیه هر بهره‌بردار بر پایه سطح زیر کشت و نوع محصول تعیین می‌شود.\n\n"
    "۲. در خشک‌سالی، اولویت با باغ‌های مثمر و دام است."
)
WATER = "water_soil"
EXPERT = texts.COMMENTER_ROLES["expert"]
FARMER = texts.COMMENTER_ROLES["farmer"]


async def _publish(front):
    draft = await regulations.publish(
        front.app.dispatcher["deps"].desk,
        title=TITLE,
        summary=SUMMARY,
        unit=WATER,
        document=DraftFile("دستورالعمل.pdf", b"%PDF-1.4\n" + b"x" * 2000, "application/pdf"),
    )
    front.app.delivery.wake()
    return draft


async def _open_comment(citizen, section: str) -> str:
    """From the menu to the role question of a comment on `section`; what the bot asked."""
    await citizen.send("/start")
    await citizen.click(texts.BTN_DRAFTS)
    await citizen.click(f"{texts.BTN_COMMENT_DRAFT}: {TITLE}")
    return said(await citizen.click(section))


async def _card(front, platform: Platform, code: str):
    group = front.group(WATER, platform)
    shown = to_persian_digits(code)
    return await front.bot(platform).wait_for(
        lambda m: m.chat_id == group.id and shown in (m.text or "") and m.method == "sendMessage",
        timeout=15,
    )


@pytest.mark.slow  # over 3 s (README, Testing: slow)
async def test_a_comment_says_who_commented_and_the_digest_counts_them(
    front, platform: Platform
) -> None:
    fake = front.bot(platform)
    draft = await _publish(front)

    # An expert on section 2: the role is one tap, then the comment.
    expert = fake.private_chat(14801, "مهندس کریمی")
    asked = await _open_comment(expert, "بخش ۲")
    assert "به‌عنوان چه کسی" in asked
    roles = [m for m in expert.messages() if EXPERT in m.buttons()]
    assert roles and texts.BTN_ROLE_SKIP in roles[-1].buttons() and FARMER in roles[-1].buttons()
    assert "نظر خود را" in said(await expert.click(EXPERT))
    expert_code = tracking_code(
        await expert.send("سهمیه باید بر پایه حقابه تاریخی هم باشد، نه فقط سطح زیر کشت.")
    )
    assert (await stored(front, expert_code)).commenter_role == "expert"
    card = (await _card(front, platform, expert_code)).text or ""
    assert f"پیش‌نویس: «{TITLE}»" in card
    assert "بخش: بخش ۲" in card
    assert f"به‌عنوان: {EXPERT}" in card

    # A farmer on the whole draft.
    farmer = fake.private_chat(14802, "حسن")
    await _open_comment(farmer, texts.BTN_WHOLE_DRAFT)
    await farmer.click(FARMER)
    farmer_code = tracking_code(await farmer.send("به دامداران کوچک هم در خشک‌سالی اولویت بدهید."))
    card = (await _card(front, platform, farmer_code)).text or ""
    assert f"به‌عنوان: {FARMER}" in card and f"بخش: {texts.DRAFT_WHOLE}" in card

    # Not saying still files: the skip button, or simply writing the comment at once.
    quiet = fake.private_chat(14803, "بی‌نام")
    await _open_comment(quiet, "بخش ۱")
    assert "نظر خود را" in said(await quiet.click(texts.BTN_ROLE_SKIP))
    quiet_code = tracking_code(await quiet.send("برای باغ‌های جوان هم سهمیه جداگانه بگذارید."))
    hurried = fake.private_chat(14804, "عجول")
    await _open_comment(hurried, "بخش ۱")
    hurried_code = tracking_code(await hurried.send("زمان‌بندی نوبت آب را زودتر اعلام کنید."))
    for code in (quiet_code, hurried_code):
        assert (await stored(front, code)).commenter_role is None
        card = (await _card(front, platform, code)).text or ""
        assert f"به‌عنوان: {texts.ROLE_UNSAID}" in card and f"«{TITLE}»" in card
        assert "بخش: بخش ۱" in card

    # Closing: the digest counts per role, the workbook has the column.
    admin = front.admins(platform).as_admin(14809, "مدیر")
    await admin.send(f"/close_draft {draft.id}")
    water = front.group(WATER, platform)
    digest = await fake.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendDocument", timeout=15
    )
    text = digest.text or ""
    assert "تعداد نظرها: ۴" in text
    assert "به تفکیک نظردهنده" in text
    assert f"{EXPERT}: ۱" in text and f"{FARMER}: ۱" in text
    assert f"{texts.ROLE_UNSAID}: ۲" in text
    assert texts.COMMENTER_ROLES["official"] not in text, "a role nobody chose is not listed"
    sheet = load_workbook(io.BytesIO(fake.file_content(digest.media["file_id"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == texts.XLSX_HEADERS and "به‌عنوان" in rows[0]
    column = rows[0].index("به‌عنوان")
    by_code = {r[0]: r[column] for r in rows[1:]}
    assert by_code == {
        expert_code: EXPERT,
        farmer_code: FARMER,
        quiet_code: texts.ROLE_UNSAID,
        hurried_code: texts.ROLE_UNSAID,
    }


async def test_help_answers_staff_and_admins_in_their_groups_only(
    front, platform: Platform
) -> None:
    water = front.group(WATER, platform)
    staff_help = said(await water.as_admin(14811, "مریم").send("/help"))
    assert "راهنمای کارشناسان" in staff_help
    for words in (texts.BTN_CLAIM, texts.BTN_TRANSFER, texts.BTN_ASK, "/staff_list", "/unstaff",
                  texts.BTN_TEMPLATES, "/templates", "/find"):  # fmt: skip
        assert words in staff_help, words
    assert "/publish" not in staff_help

    admins = front.admins(platform)
    admin_help = said(await admins.as_admin(14812, "مدیر").send("/help"))
    assert "راهنمای مدیران" in admin_help
    for command in ("/publish", "/drafts", "/close_draft", "/withdraw_draft", "/final",
                    "/report", "/overdue", "/export", "/staff_list"):  # fmt: skip
        assert command in admin_help, command

    # Outsiders: a plain member is told only staff may; a citizen's private /help is not it.
    member = said(await water.as_member(14813, "رهگذر").send("/help"))
    assert "راهنمای" not in member and texts.STAFF_ONLY in member
    assert "راهنمای" not in said(await admins.as_member(14814, "عضو").send("/help"))
    citizen = front.bot(platform).private_chat(14815, "علی")
    assert "راهنمای کارشناسان" not in said(await citizen.send("/help"))
