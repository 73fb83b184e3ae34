"""Bring the database schema to the newest Alembic revision; the bot calls this at start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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


async def upgrade(engine: AsyncEngine) -> None:
    """Run `alembic upgrade head` on the engine's database."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
