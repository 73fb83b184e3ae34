"""`python -m bot outbox`: an operator sees what was set aside and sends it again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from desk.model import NoticeKind, Platform
from storage import migrate
from storage.db import make_engine, session_factory
from storage.delivery import SqlDelivery
from storage.tables import OutboxRow


async def _prepare(url: str) -> list[int]:
    engine = make_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    rows = [
        OutboxRow(platform="telegram", chat_id=chat, kind=NoticeKind.STAFF_CARD.value,
                  request_code="1234567890", data={}, next_attempt_at=now, created_at=now)
        for chat in (-1001000000001, 77, 88)
    ]  # fmt: skip
    async with sessions() as session, session.begin():
        session.add_all(rows)
    store = SqlDelivery(sessions)
    due = (await store.due()).heads
    await store.park(due[0], "TelegramBadRequest: Bad Request: can't parse entities")
    await store.block_chat(Platform.TELEGRAM, 77, "Forbidden: bot was blocked by the user", now)
    await store.hold_chat(Platform.TELEGRAM, 88, "Forbidden: bot was kicked", now)
    await engine.dispose()
    return [r.id or 0 for r in rows]


async def _pending(url: str) -> int:
    engine = make_engine(url)
    counts = await SqlDelivery(session_factory(engine)).counts()
    await engine.dispose()
    return counts["pending"]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    return url


def test_parked_rows_are_listed_and_requeued(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parked, blocked, _held = asyncio.run(_prepare(database))
    assert main(["outbox"]) == 0
    out = capsys.readouterr().out
    assert f"#{parked} telegram:-1001000000001 staff_card request 1234567890" in out
    assert "can't parse entities" in out
    assert f"#{blocked} telegram:77" in out and "[blocked]" in out
    assert "held telegram:88" in out and "bot was kicked" in out
    assert "1 group(s) held" in out and "1 waiting" in out

    assert main(["outbox", "retry", "--all"]) == 0
    assert capsys.readouterr().out.strip() == "queued 1 parked row again", "not the blocked one"
    assert asyncio.run(_pending(database)) == 2
    assert main(["outbox", "retry", str(blocked)]) == 0, "a named row is queued even if blocked"
    assert asyncio.run(_pending(database)) == 3


def test_retry_needs_ids_or_all(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_prepare(database))
    assert main(["outbox", "retry"]) == 2
    assert capsys.readouterr().err.strip() == "error: retry: name row ids or --all"
    with pytest.raises(SystemExit) as exit_code:
        main(["outbox", "retry", "x"])
    assert exit_code.value.code == 2
    assert "invalid int value" in capsys.readouterr().err
