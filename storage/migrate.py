"""Bring the database schema to the newest Alembic revision; the bot calls this at start."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic config shipped with the package, bound to a connection if given."""
    config = Config(str(_INI))
    config.set_main_option("script_location", str(_INI.with_name("migrations")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest revision the shipped migrations know (read once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine) -> None:
    """Run `alembic upgrade head` on the engine's database; a database already at head (every
    start but the first after an upgrade) is only read, not handed to Alembic's environment."""

    def _upgrade(connection: Connection) -> None:
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current == head_revision():
            return
        command.upgrade(alembic_config(connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
