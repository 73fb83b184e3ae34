"""`python -m bot migrate-db` (issue 15, item 5): a SQLite deployment filled by the real app is
copied into the machine's PostgreSQL; every table's count and checksum match; the copy works
(a request read by its tracking code, a new filing gets the next id); a target holding data is
refused; a corrupted copy is caught. The source is never changed."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.ui import texts
from desk import regulations, services, tracking
from desk.model import ChatRef, Contact, DraftFile, Kind, NewRequest, Platform
from desk.ports import SystemClock
from desk.routing import load_rules
from storage import transfer
from storage.db import make_engine, session_factory
from storage.repositories import SqlUnitOfWork
from storage.tables import (
    AlertMarkRow,
    BlockedChatRow,
    HeldChatRow,
    InboxLaneRow,
    JobRunRow,
    LookupFailureRow,
    OutboxChatRow,
    StaffGrantRow,
    UploadedFileRow,
)
from tests.conftest import copy_migrated
from tests.e2e.conftest import ROOT, Front
from tests.e2e.helpers import run_main, tracking_code
from tests.e2e.test_conversations import file_complaint
from tests.integration.conftest import PG_SKIP

NEW_COMPLAINT = NewRequest(
    kind=Kind.COMPLAINT, chat=ChatRef(Platform.TELEGRAM, 91009), user_id=91009,
    topic="water", county="ferdows", contact=Contact(name="رضا", phone="09150000000"),
    text="پس از انتقال به پستگرس: یک شکایت تازه.",
)  # fmt: skip
PDF = b"%PDF-1.4\n" + b"draft regulation body " * 200


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on TEST_DATABASE_URL's server, dropped after."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP)
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def env_for(database_url: str) -> dict[str, str]:
    """What an operator's shell holds: the bot's settings, no tokens."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database_url,
        "ROUTING_RULES": str(ROOT / "routing_rules.yaml"),
    }


async def fill_by_the_app(front: Front) -> list[str]:
    """Complaints with attachments on both platforms, a second one with the remembered details,
    a complaint half told, a draft regulation with a comment; every message delivered. Returns
    the tracking codes."""
    codes = []
    for platform, chat_id in ((Platform.TELEGRAM, 91001), (Platform.BALE, 91002)):
        citizen = front.bot(platform).private_chat(chat_id, "علی")
        await citizen.send("/start")
        codes.append(tracking_code(await file_complaint(citizen)))
    again = front.bale.private_chat(91002, "علی")
    await again.click(texts.BTN_COMPLAINT)
    await again.click("آب و آبیاری")
    await again.click("فردوس")
    offered = [b for b in again.keyboard() if b.startswith("همان قبلی")]
    assert offered, "the first filing's details are remembered"
    await again.click(offered[0])
    await again.send("چاه دوم هم از دیروز آب ندارد و پمپ سوخته است.")  # then the summary
    codes.append(tracking_code(await again.click(texts.BTN_CONFIRM)))

    halfway = front.telegram.private_chat(91003, "زهرا")  # a conversation under way moves too
    await halfway.send("/start")
    await halfway.click(texts.BTN_COMPLAINT)
    await halfway.click("باغبانی")

    assert front.app is not None
    desk = front.app.dispatcher["deps"].desk
    draft = await regulations.publish(
        desk, title="دستورالعمل توزیع آب در کم‌آبی", summary="بند یک.\n\nبند دو.",
        unit="water_soil", document=DraftFile("دستورالعمل.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    comment = await regulations.comment(
        desk, draft.id or 0, section=1, text="سهمیه باید بر پایه حقابه هم باشد.",
        chat=ChatRef(Platform.BALE, 91002), user_id=91002, name=None,
    )  # fmt: skip
    codes.append(comment.code)
    front.app.delivery.wake()
    await front.delivered()
    return codes


async def top_up(url: str) -> dict[str, int]:
    """A row in each table the short session above leaves empty (as a long-running bot fills
    them); returns every table's row count."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    rows = {
        "lookup_failures": LookupFailureRow(platform="bale", chat_id=91002, at=now,
                                            code="1234567805"),
        "alert_marks": AlertMarkRow(name="parked", at=now),
        "job_runs": JobRunRow(name="digest", last_key="1405-09-10", at=now),
        "blocked_chats": BlockedChatRow(platform="telegram", chat_id=91003, since=now,
                                        reason="Forbidden"),
        "held_chats": HeldChatRow(platform="bale", chat_id=-100, since=now, reason="kicked",
                                  new_chat_id=-1001),
        "uploaded_files": UploadedFileRow(key="draft:1:document", platform="bale",
                                          file_id="BQAC-x"),
        "staff_grants": StaffGrantRow(platform="telegram", chat_id=-1001, user_id=7, name="مریم",
                                      granted_by="telegram:501", granted_at=now),
        "outbox_chats": OutboxChatRow(platform="bale", chat_id=91002, claimed_by="host:1:ab",
                                      claimed_until=now),
        "inbox_lanes": InboxLaneRow(lane="222222:chat:91002", claimed_by="host:1:ab",
                                    claimed_until=now),
    }  # fmt: skip
    sessions = session_factory(engine)
    try:
        async with engine.connect() as conn:
            counts = await transfer.row_counts(conn)
        async with sessions() as session, session.begin():
            session.add_all(row for name, row in rows.items() if not counts[name])
        async with engine.connect() as conn:
            return await transfer.row_counts(conn)
    finally:
        await engine.dispose()


def table_lines(out: str) -> dict[str, tuple[int, str, str]]:
    """The printed table: name → (rows, checksum, ok column)."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"^(\w+)\s+(\d+)\s+([0-9a-f]{16})\s+(.+)$", line)
        if match:
            found[match[1]] = (int(match[2]), match[3], match[4])
    return found


def file_state(path: Path) -> dict[str, str]:
    """The SQLite file and its companions, by content."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in path.parent.iterdir()
        if p.name.startswith(path.name)
    }


@pytest.mark.slow
async def test_a_deployment_moves_to_postgresql_and_the_copy_is_proven(
    front: Front, tmp_path: Path, pg_url: str
) -> None:
    codes = await fill_by_the_app(front)
    await front.stop()
    sqlite_url = front.db_url
    counts = await top_up(sqlite_url)
    assert all(counts.values()), f"every table holds rows before the copy: {counts}"
    source_file = Path(make_url(sqlite_url).database or "")
    before = file_state(source_file)

    code, out, err = await run_main(["migrate-db", "--to", pg_url, "--batch", "2"],
                                    cwd=tmp_path, env=env_for(sqlite_url))  # fmt: skip
    assert code == 0, err
    shown = table_lines(out)
    assert set(shown) == {t.name for t in transfer.tables()}
    assert {name: rows for name, (rows, _, _) in shown.items()} == counts
    assert all(ok == "ok" for _, _, ok in shown.values()), out
    assert "every row count and checksum matches" in out
    assert file_state(source_file) == before, "the source is not touched"

    # the copy works: the repositories read each request by its code, as on SQLite
    source_engine, target = make_engine(sqlite_url), make_engine(pg_url)
    try:
        for filed in codes:
            async with SqlUnitOfWork(session_factory(source_engine)) as tx:
                original = await tx.requests.get(filed)
                original_events = await tx.requests.events(filed)
            async with SqlUnitOfWork(session_factory(target)) as tx:
                copied = await tx.requests.get(filed)
                copied_events = await tx.requests.events(filed)
            assert copied == original and copied is not None
            assert copied_events == original_events
            assert len(copied.attachments) == (3 if filed in codes[:2] else 0)
        # the id sequences continue after the copied ids: a new filing on PostgreSQL works
        async with target.connect() as conn:
            top = (await conn.execute(text("SELECT max(id) FROM requests"))).scalar_one()
        new = await services.file_request(
            NEW_COMPLAINT, uow=lambda: SqlUnitOfWork(session_factory(target)),
            rules=front.rules, clock=SystemClock(),
        )  # fmt: skip
        assert tracking.is_valid(new.code)
        async with target.connect() as conn:
            row = await conn.execute(
                text("SELECT id FROM requests WHERE code = :c"), {"c": new.code}
            )
            assert row.scalar_one() == top + 1
    finally:
        await source_engine.dispose()
        await target.dispose()

    # a target that holds data is refused, and nothing is written to it
    code, out, err = await run_main(["migrate-db", "--to", pg_url],
                                    cwd=tmp_path, env=env_for(sqlite_url))  # fmt: skip
    assert code == 2 and out == ""
    assert err.startswith("error: the target database already holds data (")
    assert f"requests: {counts['requests'] + 1} rows" in err
    assert "\n" not in err.strip()

    code, out, err = await run_main(["migrate-db", "--to", pg_url, "--check"],
                                    cwd=tmp_path, env=env_for(sqlite_url))  # fmt: skip
    assert code == 1, "the filing made on PostgreSQL above is not in the source"
    assert table_lines(out)["requests"][2].startswith(
        f"MISMATCH: target has {counts['requests'] + 1} rows"
    )


async def small_source(tmp_path: Path, template: Path) -> tuple[str, list[str]]:
    """A SQLite deployment with three filings (requests, events, outbox rows), by the desk."""
    copy_migrated(template, tmp_path / "small.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'small.db'}"
    engine = make_engine(url)
    rules = load_rules(ROOT / "routing_rules.yaml")
    try:
        codes = []
        for n in range(3):
            new = await services.file_request(
                replace(NEW_COMPLAINT, text=f"{NEW_COMPLAINT.text} {n}"),
                uow=lambda: SqlUnitOfWork(session_factory(engine)), rules=rules,
                clock=SystemClock(),
            )  # fmt: skip
            codes.append(new.code)
        async with engine.begin() as conn:
            # a row from before the survey column (migrations leave SQL NULL) beside the
            # others (the app writes JSON null): both read as None, and both must stay as they are
            await conn.execute(text("UPDATE requests SET survey = NULL WHERE code = :c"),
                               {"c": codes[0]})  # fmt: skip
    finally:
        await engine.dispose()
    return url, codes


async def sql_nulls(url: str) -> list[str]:
    """The codes of the requests whose survey is SQL NULL (not JSON null)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT code FROM requests WHERE survey IS NULL ORDER BY code")
            )
            return list(found.scalars())
    finally:
        await engine.dispose()


async def on_target(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_a_corrupted_copy_is_caught(
    tmp_path: Path, pg_url: str, migrated_sqlite: Path
) -> None:
    source, codes = await small_source(tmp_path, migrated_sqlite)
    elsewhere = env_for("sqlite:///elsewhere.db")
    code, out, err = await run_main(["migrate-db", "--from", source, "--to", pg_url],
                                    cwd=tmp_path, env=elsewhere)  # fmt: skip
    assert code == 0, err
    assert not (tmp_path / "elsewhere.db").exists(), "--from is read, not DATABASE_URL"
    code, out, err = await run_main(["migrate-db", "--from", source, "--to", pg_url, "--check"],
                                    cwd=tmp_path, env=env_for(source))  # fmt: skip
    assert (code, err) == (0, ""), "an intact copy compares equal again"
    assert f"compared {len(SQLModel.metadata.tables)} tables" in out
    assert await sql_nulls(source) == await sql_nulls(pg_url) == [codes[0]]
    check = ["migrate-db", "--from", source, "--to", pg_url, "--check"]

    # SQL NULL turned into JSON null: the same None to the bot, another value to a query
    await on_target(pg_url, f"UPDATE requests SET survey = 'null' WHERE code = '{codes[0]}'")
    code, out, err = await run_main(check, cwd=tmp_path, env=env_for(source))
    assert code == 1
    assert [name for name, (_, _, ok) in table_lines(out).items() if ok != "ok"] == ["requests"]

    # back as it was; then one letter of one complaint, and one event gone
    await on_target(
        pg_url,
        f"UPDATE requests SET survey = NULL WHERE code = '{codes[0]}'",
        f"UPDATE requests SET text = text || '.' WHERE code = '{codes[1]}'",
        "DELETE FROM events WHERE id = (SELECT min(id) FROM events)",
    )
    code, out, err = await run_main(["migrate-db", "--from", source, "--to", pg_url, "--check"],
                                    cwd=tmp_path, env=env_for(source))  # fmt: skip
    assert code == 1
    shown = table_lines(out)
    assert shown["requests"][0] == 3 and shown["requests"][2].startswith(
        "MISMATCH: target has 3 rows, checksum "
    )
    assert shown["events"][2].startswith(f"MISMATCH: target has {shown['events'][0] - 1} rows")
    assert [name for name, (_, _, ok) in shown.items() if ok != "ok"] == ["events", "requests"]
    assert err.strip() == (
        "error: the copy differs from the source in events, requests: do not switch "
        "DATABASE_URL to it; drop and recreate the target, then run migrate-db again"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "sqlite:///copy.db"],
         "error: the target must be a PostgreSQL database "
         "(postgresql://user:password@host:5432/name), not sqlite:///copy.db"),
        (["--to", "postgresql://bot:secret@127.0.0.1:1/x", "--from", "sqlite:///missing.db"],
         "error: no SQLite database at missing.db"),
        (["--to", "postgresql://bot:secret@127.0.0.1:1/x", "--from", "postgresql://a@b/c"],
         "error: the source must be a SQLite database (sqlite:///path/to/file.db), "
         "not postgresql://a@b/c"),
    ],
)  # fmt: skip
async def test_what_cannot_be_copied_is_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, out, err = await run_main(["migrate-db", *args], cwd=tmp_path,
                                    env=env_for(f"sqlite:///{tmp_path / 'bot.db'}"))  # fmt: skip
    assert (code, out, err.strip()) == (2, "", message)
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "copy.db").exists()


async def test_the_source_must_be_at_the_newest_migration(tmp_path: Path) -> None:
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    async with old.begin() as conn:
        await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        await conn.execute(text("INSERT INTO alembic_version VALUES ('0012')"))
    await old.dispose()
    code, out, err = await run_main(
        ["migrate-db", "--from", f"sqlite:///{tmp_path / 'old.db'}",
         "--to", "postgresql://bot:secret@127.0.0.1:1/x"],
        cwd=tmp_path, env=env_for("sqlite:///unused.db"),
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.startswith("error: the source database is at migration 0012, this version of")
    assert "secret" not in err


def test_the_same_values_read_from_either_database_hash_the_same() -> None:
    from datetime import timedelta, timezone

    utc = datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=UTC)
    tehran = utc.astimezone(timezone(timedelta(hours=3, minutes=30)))
    assert transfer.row_line([utc, True, {"b": 1, "a": [1.5]}, b"\x00\xff"]) == (
        transfer.row_line([tehran, True, {"a": [1.5], "b": 1}, memoryview(b"\x00\xff")])
    )
    assert transfer.row_line([True]) != transfer.row_line([1])
    assert transfer.row_line([None]) != transfer.row_line(["None"])
