"""SQLite syncs every commit: a filing whose receipt went out survives a power cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import make_engine


async def pragma(url: str, name: str, sqlite_synchronous: str = "FULL") -> object:
    engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
    try:
        async with engine.connect() as conn:
            return (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
    finally:
        await engine.dispose()


async def test_sqlite_commits_are_synced_to_disk(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    assert await pragma(url, "synchronous") == 2, "FULL: every commit reaches the disk"
    assert await pragma(url, "journal_mode") == "wal"
    assert await pragma(url, "synchronous", sqlite_synchronous="NORMAL") == 1  # the bench's


async def test_an_unknown_sync_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        make_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", sqlite_synchronous="OFF")
