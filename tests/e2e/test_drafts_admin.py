"""Admins publish and manage draft regulations: the /publish conversation in the admin chat,
/drafts, /close_draft and /final, who may do it, and the `python -m bot drafts` command line
working on the database of a running front office.

Nothing here waits for citizens' announcements: those belong to the delivery worker."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.ui import texts
from desk import regulations
from desk.calendar import TEHRAN, gregorian_to_jalali, local_date
from desk.model import DraftFile, DraftStatus, Platform
from desk.text import to_persian_digits
from tests.e2e.conftest import ROOT
from tests.e2e.helpers import run_main, said

TITLE = "دستورالعمل توزیع آب کشاورزی ۱۴۰۵"
SUMMARY = (
    "۱. سهمیه هر بهره‌بردار بر پایه سطح زیر کشت تعیین می‌شود.\n\n"
    "۲. در خشک‌سالی، اولویت با باغ‌های مثمر و دام است."
)
UNIT = "agronomy"
UNIT_NAME = "مدیریت زراعت"
MB = 1024 * 1024


def desk_of(front: Any) -> Any:
    """The desk the running app uses (same database, rules and clock)."""
    return front.app.dispatcher["deps"].desk


async def publish_directly(front: Any, title: str = TITLE) -> Any:
    """A draft published through the desk, for tests about what comes after."""
    return await regulations.publish(
        desk_of(front),
        title=title,
        summary=SUMMARY,
        unit=UNIT,
        document=DraftFile("پیش‌نویس.pdf", b"%PDF-1.4\n" + b"x" * 2000, "application/pdf"),
    )


def answers(front: Any, platform: Platform) -> list[str]:
    """Texts of the callback answers (toasts) so far."""
    return [str(a.get("text") or "") for a in front.bot(platform).callback_answers]


async def test_admin_publishes_a_draft_step_by_step(front, platform: Platform) -> None:
    admin = front.admins(platform).as_admin(7001, "مریم", "احمدی")

    replies = await admin.send("/publish")
    assert texts.ADMIN_ASK_TITLE in said(replies)
    if platform is Platform.TELEGRAM:  # typed answers reach the bot even with privacy mode on
        assert replies[-1].reply_markup == {"force_reply": True, "selective": True}
    else:
        assert replies[-1].reply_markup is None  # Bale documents no ForceReply

    replies = await admin.send_sticker()
    assert texts.ERR_TEXT_WANTED in said(replies) and texts.ADMIN_ASK_TITLE in said(replies)
    assert texts.ADMIN_ASK_SUMMARY in said(await admin.send(TITLE))
    assert texts.ADMIN_ASK_FILE in said(await admin.send(SUMMARY))

    # The document step wants a document: text and photos are refused, and so is > 20 MB.
    replies = await admin.send("فایل را بعداً می‌فرستم")
    assert texts.ADMIN_FILE_WANTED in said(replies) and texts.ADMIN_ASK_FILE in said(replies)
    replies = await admin.send_photo()
    assert texts.ADMIN_FILE_WANTED in said(replies)
    replies = await admin.send_document(size=21 * MB, file_name="بزرگ.pdf")
    assert "۲۰ مگابایت" in said(replies) and texts.ADMIN_ASK_FILE in said(replies)

    replies = await admin.send_document(size=30_000, file_name="پیش‌نویس.pdf")
    assert texts.ADMIN_ASK_UNIT in said(replies)
    assert UNIT_NAME in replies[-1].buttons() and texts.BTN_CANCEL in replies[-1].buttons()
    replies = await admin.send(UNIT_NAME)  # typed, not pressed
    assert texts.ERR_PICK_BUTTON in said(replies) and texts.ADMIN_ASK_UNIT in said(replies)

    replies = await admin.click(UNIT_NAME)
    assert texts.ADMIN_ASK_DAYS in said(replies)
    for bad in ("۰", "abc", "۹۱"):
        replies = await admin.send(bad)
        assert texts.ADMIN_BAD_DAYS in said(replies) and texts.ADMIN_ASK_DAYS in said(replies)

    replies = await admin.click(texts.BTN_DAYS_DEFAULT)
    preview_message = replies[-1]
    preview = said(replies)
    for expected in ("پیش‌نمایش", TITLE, "سهمیه هر بهره‌بردار", UNIT_NAME, "پیش‌نویس.pdf"):
        assert expected in preview
    assert "تعداد بخش‌ها: ۲" in preview
    assert await regulations.list_drafts(desk_of(front)) == []  # nothing until confirmed

    replies = await admin.click(texts.BTN_CONFIRM)
    drafts = await regulations.list_drafts(desk_of(front))
    assert len(drafts) == 1
    draft = drafts[0]
    assert draft.id is not None
    assert texts.ADMIN_PUBLISHED.format(
        title=TITLE, id=to_persian_digits(draft.id), deadline=""
    ).rstrip() in said(replies)
    assert (draft.title, draft.summary, draft.unit) == (TITLE, SUMMARY, UNIT)
    assert draft.status is DraftStatus.OPEN
    assert draft.created_by == f"{platform.value}:7001 (مریم احمدی)"

    # Open now, closing at the end of the 14th day after today, Tehran time.
    now = front.app.clock.now()
    assert draft.is_open_at(now)
    closes = draft.closes_at.astimezone(TEHRAN)
    assert closes.date() == local_date(now) + timedelta(days=14)
    assert (closes.hour, closes.minute, closes.second) == (23, 59, 59)

    document = await regulations.document(desk_of(front), draft.id)
    assert document is not None and document.name == "پیش‌نویس.pdf"
    assert len(document.content) == 30_000 and document.content.startswith(b"%PDF")

    # The conversation is over: the buttons are gone, and a late press does nothing.
    assert preview_message.buttons() == []
    await admin.click_data("pc:yes", preview_message)
    assert answers(front, platform)[-1] == texts.STALE_BUTTON
    assert len(await regulations.list_drafts(desk_of(front))) == 1


async def test_only_the_admin_who_started_can_confirm_and_cancel_drops_it(
    front, platform: Platform
) -> None:
    group = front.admins(platform)
    first, second = group.as_admin(7001, "مریم"), group.as_admin(7002, "رضا")
    await first.send("/publish")
    await first.send(TITLE)
    await first.send(SUMMARY)
    await first.send_document(size=5_000, file_name="پیش‌نویس.pdf")
    await first.click(UNIT_NAME)

    # Another admin's messages are not answers to the first admin's questions.
    assert said(await second.send("۷")) == ""
    replies = await first.send("۷")  # typed days, in Persian digits
    preview = said(replies)
    assert "پیش‌نمایش" in preview
    deadline = local_date(front.app.clock.now()) + timedelta(days=7)
    year, month, day = gregorian_to_jalali(deadline)
    assert f"{to_persian_digits(day)} {texts.MONTHS[month - 1]} {to_persian_digits(year)}" in (
        preview
    )

    await second.click(texts.BTN_CONFIRM)
    assert answers(front, platform)[-1] == texts.STALE_BUTTON
    assert await regulations.list_drafts(desk_of(front)) == []

    replies = await first.click(texts.BTN_CANCEL)
    assert texts.ADMIN_CANCELLED in said(replies)
    assert await regulations.list_drafts(desk_of(front)) == []

    # /cancel in the middle of the flow, too; afterwards nothing in the chat is answered.
    await first.send("/publish")
    assert texts.ADMIN_CANCELLED in said(await first.send("/cancel"))
    assert said(await first.send(TITLE)) == ""


async def test_publish_is_for_admin_chats_only(front, platform: Platform) -> None:
    unit_group = front.group(UNIT, platform).as_admin(8001, "کارشناس")
    for command in ("/publish", "/drafts", "/close_draft 1"):
        assert await unit_group.send(command) == []
    assert await unit_group.send(TITLE) == []  # no conversation was started there
    citizen = front.bot(platform).private_chat(8002, "شهروند")
    replies = await citizen.send("/publish")
    assert texts.ADMIN_ASK_TITLE not in said(replies)
    assert await regulations.list_drafts(desk_of(front)) == []


async def test_drafts_list_close_and_final(front, platform: Platform) -> None:
    admin = front.admins(platform).as_admin(7001, "مریم")
    assert "هنوز پیش‌نویسی" in said(await admin.send("/drafts"))

    draft = await publish_directly(front)
    shown_id = to_persian_digits(draft.id)
    listing = said(await admin.send("/drafts"))
    assert texts.ADMIN_DRAFTS_LIST in listing
    assert f"#{shown_id} {TITLE}" in listing
    assert texts.ADMIN_DRAFT_STATUS["open"] in listing and "۰ نظر" in listing

    assert "/close_draft" in said(await admin.send("/close_draft"))
    assert texts.ADMIN_DRAFT_ERROR["unknown"] in said(await admin.send("/close_draft 999"))
    replies = await admin.send(f"/close_draft {shown_id}")
    assert f"«{TITLE}» بسته شد" in said(replies) and UNIT_NAME in said(replies)
    assert (await regulations.get(desk_of(front), draft.id)).status is DraftStatus.CLOSED
    assert texts.ADMIN_DRAFT_ERROR["status"] in said(await admin.send(f"/close_draft {draft.id}"))
    assert texts.ADMIN_DRAFT_STATUS["closed"] in said(await admin.send("/drafts"))

    # /final needs a document and a note.
    replies = await admin.send(f"/final {draft.id} متن نهایی")
    assert texts.DRAFT_FINAL_NEEDS_NOTE in said(replies)
    replies = await admin.send_document(size=4_000, caption=f"/final {draft.id}")
    assert texts.DRAFT_FINAL_NEEDS_NOTE in said(replies)
    replies = await admin.send_document(
        size=6_000, file_name="نسخه نهایی.pdf", caption=f"/final {shown_id} ماده ۲ اصلاح شد."
    )
    assert texts.DRAFT_FINAL_DONE.format(title=TITLE, count="۰") in said(replies)
    final = await regulations.get(desk_of(front), draft.id)
    assert final.status is DraftStatus.FINAL and final.final_note == "ماده ۲ اصلاح شد."
    stored = await regulations.document(desk_of(front), draft.id, "final")
    assert stored is not None and stored.name == "نسخه نهایی.pdf" and len(stored.content) == 6_000


async def test_final_as_a_reply_to_a_document(front, platform: Platform) -> None:
    admin = front.admins(platform).as_admin(7001, "مریم")
    draft = await publish_directly(front)
    assert await admin.send_document(size=3_000, file_name="نهایی.docx") == []  # ignored alone
    sent = [
        m
        for m in admin.chat.messages.values()
        if "document" in m and m.get("from", {}).get("id") == 7001
    ]
    replies = await admin.send(
        f"/final {draft.id} بند ۱ روشن‌تر شد.", reply_to=sent[-1]["message_id"]
    )
    assert texts.DRAFT_FINAL_DONE.format(title=TITLE, count="۰") in said(replies)
    stored = await regulations.document(desk_of(front), draft.id, "final")
    assert stored is not None and stored.name == "نهایی.docx"


# --- the command line ----------------------------------------------------------------------------


async def cli(front: Any, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`python -m bot drafts ...` on the running front's database (its `main`, in-process):
    (exit code, out, err)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    env.pop("REDIS_URL", None)
    env.update(DATABASE_URL=front.db_url, ROUTING_RULES=str(ROOT / "routing_rules.yaml"))
    code, out, err = await run_main(["drafts", *args], cwd=tmp_path, env=env)
    return code, out.strip(), err.strip()


async def test_cli_publishes_lists_and_closes_on_the_running_database(
    front, tmp_path: Path
) -> None:
    document = tmp_path / "پیش‌نویس.pdf"
    document.write_bytes(b"%PDF-1.4\n" + b"y" * 5000)
    summary = tmp_path / "summary.txt"
    summary.write_text(SUMMARY, encoding="utf-8")
    later = local_date(front.app.clock.now()) + timedelta(days=10)
    opens = "{:04d}-{:02d}-{:02d}".format(*gregorian_to_jalali(later))

    (code, out, err), (code2, out2, err2) = await asyncio.gather(
        cli(front, tmp_path, "publish", "--title", TITLE, "--summary", SUMMARY,
            "--unit", UNIT, "--file", str(document)),
        cli(front, tmp_path, "publish", "--title", "آیین‌نامه بعدی", "--summary-file",
            str(summary), "--unit", "livestock", "--file", str(document), "--days", "۲۰",
            "--opens", opens),
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert out.startswith("published draft ") and f'"{TITLE}"' in out and "Tehran" in out
    assert (code2, err2) == (0, ""), err2
    assert out2.startswith("scheduled draft ") and f"opens {opens} 00:00 Tehran" in out2

    drafts = {d.title: d for d in await regulations.list_drafts(desk_of(front))}
    now_open, scheduled = drafts[TITLE], drafts["آیین‌نامه بعدی"]
    assert now_open.id is not None
    assert now_open.status is DraftStatus.OPEN and now_open.created_by.startswith("cli")
    assert scheduled.status is DraftStatus.SCHEDULED and scheduled.summary == SUMMARY
    assert scheduled.opens_at.astimezone(TEHRAN).date() == later
    assert scheduled.closes_at.astimezone(TEHRAN).date() == later + timedelta(days=20)
    stored = await regulations.document(desk_of(front), now_open.id)
    assert stored is not None and stored.name == "پیش‌نویس.pdf" and len(stored.content) == 5009

    # The running bot sees what the command line wrote.
    admin = front.admins(Platform.TELEGRAM).as_admin(7001, "مریم")
    assert f"#{to_persian_digits(now_open.id)} {TITLE}" in said(await admin.send("/drafts"))

    code, out, err = await cli(front, tmp_path, "list")
    assert code == 0 and f'"{TITLE}"' in out and "scheduled" in out and "open" in out

    code, out, err = await cli(front, tmp_path, "close", str(now_open.id))
    assert code == 0 and out.startswith(f"closed draft {now_open.id}")
    assert (await regulations.get(desk_of(front), now_open.id)).status is DraftStatus.CLOSED

    assert scheduled.id is not None
    code, out, err = await cli(
        front, tmp_path, "withdraw", str(scheduled.id), "--reason", "زود بود"
    )
    assert code == 0 and out.startswith(f"withdrew draft {scheduled.id}"), err
    assert (await regulations.get(desk_of(front), scheduled.id)).status is DraftStatus.WITHDRAWN
    code, out, err = await cli(front, tmp_path, "withdraw", str(scheduled.id), "--reason", "باز")
    assert code == 2 and "current status" in err


async def test_cli_errors_are_one_line_and_exit_2(front, tmp_path: Path) -> None:
    document = tmp_path / "d.pdf"
    document.write_bytes(b"%PDF-1.4\n")
    base = ("publish", "--title", TITLE, "--summary", SUMMARY)
    results = await asyncio.gather(
        cli(front, tmp_path, *base, "--unit", "no_such_unit", "--file", str(document)),
        cli(front, tmp_path, *base, "--unit", UNIT, "--file", str(tmp_path / "missing.pdf")),
        cli(front, tmp_path, "close", "999"),
    )
    for (code, out, err), expected in zip(
        results, ("no_such_unit", "missing.pdf", "999"), strict=True
    ):
        assert code == 2 and out == ""
        assert err.startswith("error: ") and "\n" not in err and expected in err, err
    assert await regulations.list_drafts(desk_of(front)) == []
