"""What every kind of test may share: one SQLite file migrated to head per session; and
aiogram run the way `python -m bot` runs it, its models built on first use
(`bot/runtime/lean_aiogram.py`), not all at import (`tests/unit/test_lean_aiogram.py` checks
both ways in fresh interpreters)."""

from __future__ import annotations

import sys

# The suite keeps its compiled modules (`__pycache__`, git-ignored) even where the environment
# says PYTHONDONTWRITEBYTECODE=1 (this machine's does, as container images often do): without
# them each xdist worker compiles the bot and rewrites the asserts of every test module again
# on every run, 4 s of CPU per worker of a 7-s collection. Set before the imports below, so the
# bot's modules are cached too, and `python -m bot` started by a test reads them.
sys.dont_write_bytecode = False

import asyncio  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from bot.runtime.lean_aiogram import import_aiogram_lazily  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

import_aiogram_lazily()  # before any test module imports aiogram (none of the above does)

# The tests' files (SQLite databases above all) go to memory where the machine has a tmpfs and
# no TMPDIR says otherwise: the bot syncs every commit to disk (`synchronous=FULL`), and on this
# machine's disk those waits were 12 % of the end-to-end tests' time. The same code runs; only
# the disk under it is quicker. pytest keeps only failed tests' folders (pyproject.toml).
_MEMORY = Path("/dev/shm")
if "TMPDIR" not in os.environ and _MEMORY.is_dir() and os.access(_MEMORY, os.W_OK | os.X_OK):
    tempfile.tempdir = str(_MEMORY)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file brought to head by Alembic (`storage.migrate.upgrade`) once per session;
    tests start on copies of it (`copy_migrated`) instead of migrating a fresh file each."""
    path = tmp_path_factory.mktemp("migrated") / "head.db"

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    # the last connection closed: the WAL is checkpointed into the file, which is all there is
    assert not path.with_name(path.name + "-wal").exists()
    return path


def copy_migrated(template: Path, target: Path) -> None:
    """Start `target` (a SQLite file not there yet) as a copy of the migrated template."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection loaded (the bot, aiogram, SQLAlchemy, the test modules: some 300,000
    objects per worker) is moved out of the garbage collector's sight (`gc.freeze`): each full
    collection during the run went over all of it again; with young collections rarer too
    (every 20,000 allocations, not 700), the collector's CPU per worker went from about 3.5 s
    to 2 s."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)
