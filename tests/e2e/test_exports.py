"""Exports and data retention as operators use them: `python -m bot export` and
`python -m bot retention` as processes on a SQLite file, and `/export` in an admin chat."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.ui import texts
from desk import services, staff
from desk.calendar import TEHRAN, parse_jalali
from desk.model import (
    Actor,
    Attachment,
    AttachmentKind,
    ChatRef,
    CloseReason,
    Contact,
    Kind,
    NewRequest,
    Platform,
    Request,
)
from desk.routing import RoutingRules, load_rules
from desk.text import to_persian_digits
from storage.db import make_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlUnitOfWork
from tests.e2e.conftest import ROOT
from tests.e2e.helpers import run_main, said
from tests.unit.fakes import FixedClock

RULES = load_rules(ROOT / "routing_rules.yaml")
IN_AZAR = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 1405-09-04 13:00 Tehran
LONG_AGO = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def complaint(chat_id: int, platform: Platform = Platform.TELEGRAM) -> NewRequest:
    return NewRequest(
        kind=Kind.COMPLAINT,
        chat=ChatRef(platform, chat_id),
        user_id=chat_id,
        text="آفت در باغ پسته شایع شده و کسی سر نزده است.",
        topic="pests",
        county="birjand",
        contact=Contact(name="فاطمه رحیمی", phone="09159876543", national_code="0499370899"),
        attachments=[Attachment(AttachmentKind.PHOTO, file_id="AgAC", file_unique_id="AQAD")],
    )


async def file_at(uow: Any, rules: RoutingRules, moment: datetime, new: NewRequest) -> Request:
    return await services.file_request(new, uow=uow, rules=rules, clock=FixedClock(moment))


async def seeded_database(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A SQLite file with a request in Azar 1405 and one closed long ago."""
    url = f"sqlite:///{tmp_path / 'front.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    azar = await file_at(uow, RULES, IN_AZAR, complaint(91_001))
    old = await file_at(uow, RULES, LONG_AGO, complaint(91_002))
    unit_chat = RULES.staff_chat(old.unit or "", old.platform)
    assert unit_chat is not None
    desk = staff.Desk(uow, RULES, FixedClock(LONG_AGO + timedelta(days=1)))
    await staff.close(desk, old.code, CloseReason.OUT_OF_SCOPE, chat=unit_chat,
                      actor=Actor(Platform.TELEGRAM, 5, "کارشناس"))  # fmt: skip
    await engine.dispose()
    return url, {"azar": azar.code, "old": old.code}


async def run(tmp_path: Path, url: str, *args: str) -> tuple[int, str, str]:
    """`python -m bot <args>` on that database (its `main`, in-process): (exit code, out, err)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    env.pop("REDIS_URL", None)
    env.update(DATABASE_URL=url, ROUTING_RULES=str(ROOT / "routing_rules.yaml"))
    code, out, err = await run_main(list(args), cwd=tmp_path, env=env)
    return code, out.strip(), err.strip()


async def stored(url: str, code: str) -> Request:
    engine = make_engine(url)
    try:
        async with SqlUnitOfWork(session_factory(engine)) as tx:
            request = await tx.requests.get(code)
    finally:
        await engine.dispose()
    assert request is not None
    return request


async def test_cli_export_writes_xlsx_and_csv(tmp_path: Path) -> None:
    url, codes = await seeded_database(tmp_path)

    code, out, err = await run(tmp_path, url, "export", "--from", "1405-09-01", "--to",
                               "1405-09-30", "--format", "xlsx")  # fmt: skip
    assert (code, err) == (0, ""), err
    target = tmp_path / "export-1405-09-01-1405-09-30.xlsx"
    assert out.startswith(f"wrote {target}: 1 requests, 2 events, 0 survey answers")
    assert "\n" not in out and "names and phone numbers" in out
    book = load_workbook(target)
    rows = list(book["درخواست‌ها"].iter_rows(values_only=True))
    assert rows[0] == texts.EXPORT_REQUEST_HEADERS
    assert len(rows) == 2 and rows[1][0] == codes["azar"]
    assert rows[1][6] == "1405-09-04 13:00" and rows[1][12:] == ("فاطمه رحیمی", "09159876543")

    code, out, err = await run(tmp_path, url, "export", "--from", "۱۴۰۵-۰۹-۰۱", "--to",
                               "1405/9/30", "--format", "csv")  # fmt: skip
    assert (code, err) == (0, ""), err
    archive = zipfile.ZipFile(tmp_path / "export-1405-09-01-1405-09-30.zip")
    assert sorted(archive.namelist()) == [
        "export-events.csv",
        "export-requests.csv",
        "export-survey-summary.csv",
        "export-survey.csv",
    ]
    requests = list(
        csv.reader(io.StringIO(archive.read("export-requests.csv").decode("utf-8-sig")))
    )
    assert requests[1][0] == codes["azar"] and requests[1][6] == "1405-09-04 13:00"

    folder = tmp_path / "csv"
    code, out, err = await run(tmp_path, url, "export", "--from", "1404-01-01", "--to",
                               "1405-09-30", "--format", "csv", "--out", str(folder))  # fmt: skip
    assert code == 0 and out.startswith(f"wrote {folder}: 2 requests, 5 events"), err
    events = (folder / "export-events.csv").read_bytes()
    assert events.startswith(b"\xef\xbb\xbf") and codes["old"].encode() in events


async def test_cli_export_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    url, _ = await seeded_database(tmp_path)
    results = await asyncio.gather(
        run(tmp_path, url, "export", "--from", "1405-13-01", "--to", "1405-09-30"),
        run(tmp_path, url, "export", "--from", "1405-09-30", "--to", "1405-09-01"),
        run(tmp_path, url, "export", "--from", "1405-09-01", "--to", "1405-09-30",
            "--out", str(tmp_path / "missing" / "x.xlsx")),
        run(tmp_path, url, "export", "--from", "1405-09-01", "--to", "1405-09-30",
            "--format", "pdf"),
        run(tmp_path, url, "retention", "--older-than-days", "0"),
        run(tmp_path, url, "retention"),
    )  # fmt: skip
    expected = ("--from", "after --to", "missing", "pdf", "at least 1", "--older-than-days")
    for (code, out, err), word in zip(results, expected, strict=True):
        assert code == 2 and out == ""
        assert err.startswith("error: ") and "\n" not in err and word in err, err
    assert not exported(tmp_path)


def exported(folder: Path) -> list[Path]:
    return list(folder.glob("export-*"))


async def test_cli_retention_dry_run_then_for_real(tmp_path: Path) -> None:
    url, codes = await seeded_database(tmp_path)

    code, out, err = await run(tmp_path, url, "retention", "--older-than-days", "30", "--dry-run")
    assert (code, err) == (0, ""), err
    assert out.startswith("dry run, nothing changed: would anonymise 1 of 1 closed or answered")
    assert "clearing name 1, phone 1, national code 1, attachments 1 (1 file), and delete " in out
    assert "\n" not in out
    assert (await stored(url, codes["old"])).contact.name == "فاطمه رحیمی"

    code, out, err = await run(tmp_path, url, "retention", "--older-than-days", "30")
    assert (code, err) == (0, ""), err
    assert out.startswith("anonymised 1 of 1 closed or answered requests unchanged since ")
    old = await stored(url, codes["old"])
    assert old.contact == Contact() and old.attachments == []
    assert old.text.startswith("آفت") and old.close_reason == "out_of_scope"
    recent = await stored(url, codes["azar"])  # open: untouched
    assert recent.contact.phone == "09159876543" and len(recent.attachments) == 1

    code, out, err = await run(tmp_path, url, "retention", "--older-than-days", "30")
    assert code == 0 and out.startswith("nothing to remove"), err


# --- /export in an admin chat ------------------------------------------------------------------


async def test_export_in_the_admin_chat_sends_the_workbook(front, platform: Platform) -> None:
    deps = front.app.dispatcher["deps"]
    filed = await file_at(deps.uow, deps.rules, IN_AZAR, complaint(92_001, platform))
    await file_at(deps.uow, deps.rules, IN_AZAR + timedelta(days=40), complaint(92_002, platform))
    admin = front.admins(platform).as_admin(7001, "مریم")

    replies = await admin.send("/export ۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۳۰")
    documents = [m for m in replies if m.method == "sendDocument"]
    assert len(documents) == 1
    document = documents[0]
    assert document.media is not None
    assert document.media["file_name"] == "export-1405-09-01-1405-09-30.xlsx"
    caption = document.text or ""
    assert "۱ آذر ۱۴۰۵" in caption and "۳۰ آذر ۱۴۰۵" in caption
    assert "درخواست‌ها: ۱" in caption and "رویدادها: ۲" in caption
    content = front.bot(platform).file_content(document.media["file_id"])
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["درخواست‌ها", "رویدادها", "نظرسنجی", "خلاصه نظرسنجی"]
    rows = list(book["درخواست‌ها"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [filed.code]
    assert rows[1][6] == "1405-09-04 13:00"
    assert rows[1][11] == texts.PLATFORM_NAMES[platform.value]


async def test_export_mistakes_are_explained_and_other_chats_get_nothing(
    front, platform: Platform
) -> None:
    admin = front.admins(platform).as_admin(7001, "مریم")
    usage = texts.EXPORT_USAGE.split("{")[0]
    assert usage in said(await admin.send("/export"))
    replies = await admin.send("/export 1405-09-30 1405-09-01")
    assert texts.EXPORT_BAD_ORDER in said(replies) and usage in said(replies)
    assert "«1405-13-01»" in said(await admin.send("/export 1405-13-01 1405-09-30"))
    too_long = texts.EXPORT_TOO_LONG.format(days=to_persian_digits(366))
    assert too_long in said(await admin.send("/export 1403-01-01 1405-09-30"))

    unit = front.group("agronomy", platform).as_admin(8001, "کارشناس")
    assert await unit.send("/export 1405-09-01 1405-09-30") == []
    citizen = front.bot(platform).private_chat(8002, "شهروند")
    replies = await citizen.send("/export 1405-09-01 1405-09-30")
    assert not [m for m in replies if m.method == "sendDocument"]


def test_in_azar_is_what_the_tests_think() -> None:
    local = IN_AZAR.astimezone(TEHRAN)
    assert local.date() == parse_jalali("1405-09-04") and (local.hour, local.minute) == (13, 0)
