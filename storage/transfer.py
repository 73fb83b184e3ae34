"""Copy a SQLite deployment into PostgreSQL and prove the copy: `python -m bot migrate-db`.

The source is only read: opened with `PRAGMA query_only`, in one read transaction (one
snapshot, even if a bot still writes to it), never migrated. The target is brought to the
Alembic head first and must hold no rows; every table of `storage.tables` is then copied in
dependency order, in batches (at most `batch` rows in memory at a time), in one transaction
(a failure leaves the target empty), and the id sequences are moved past the copied ids.

The check reads both sides again, table by table, ordered by primary key (bytewise on both, so
the order is the same): the row count and a SHA-256 over the rows, each value as the bot reads
it (aware UTC datetimes, booleans, decoded JSON, bytes), written canonically, so the two
databases' representations of the same value compare equal. A nullable JSON column also
carries whether it is SQL NULL or JSON null (both read as None), and the copy keeps which.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, Table, event, func, insert, literal, null, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from storage import migrate
from storage import tables as _tables  # noqa: F401 - registers the tables on the metadata
from storage.db import make_engine, normalise_url

DEFAULT_BATCH = 1000


class TransferError(Exception):
    """The copy cannot start: a wrong URL, a source not at head, a target holding data."""


@dataclass(frozen=True)
class TableCheck:
    """One table's row count and checksum on both sides."""

    table: str
    source_rows: int
    source_sum: str
    target_rows: int
    target_sum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_sum) == (self.target_rows, self.target_sum)


def tables() -> list[Table]:
    """Every table the bot keeps, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


def shown(url: str) -> str:
    """A URL fit for a terminal: the password replaced by ***."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; TransferError for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise TransferError(
            f"the source must be a SQLite database (sqlite:///path/to/file.db), not {shown(url)}"
        )
    if parsed.database == ":memory:":
        raise TransferError("the source must be a SQLite file, not an in-memory database")
    return Path(parsed.database)


def require_postgresql(url: str) -> None:
    """TransferError unless `url` names a PostgreSQL database."""
    if make_url(url).get_backend_name() != "postgresql":
        raise TransferError(
            "the target must be a PostgreSQL database "
            f"(postgresql://user:password@host:5432/name), not {shown(url)}"
        )


def open_source(url: str) -> AsyncEngine:
    """A read-only engine on an existing SQLite file (nothing created, nothing written)."""
    path = sqlite_path(url)
    if not path.is_file():
        raise TransferError(f"no SQLite database at {path}")
    engine = create_async_engine(normalise_url(url), hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


async def _snapshot(conn: AsyncConnection) -> None:
    """One read transaction on SQLite: every later read sees the same moment."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN")


async def _revision(conn: AsyncConnection) -> str | None:
    def read(sync: Any) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(sync).get_current_revision()

    return await conn.run_sync(read)


async def check_source(conn: AsyncConnection) -> None:
    """TransferError unless the source is this bot's database at the newest migration."""
    revision, head = await _revision(conn), migrate.head_revision()
    if revision is None:
        raise TransferError("the source holds no database of this bot (no Alembic revision)")
    if revision != head:
        raise TransferError(
            f"the source database is at migration {revision}, this version of the bot at "
            f"{head}: upgrade the source first (start this version of the bot on it once, "
            "or run `python -m bot outbox`, which upgrades the database it opens)"
        )


def _order(table: Table, dialect: str) -> list[ColumnElement[Any]]:
    """The primary key, compared bytewise on both databases (C collation on PostgreSQL)."""
    columns: list[ColumnElement[Any]] = []
    for column in table.primary_key.columns:
        python = getattr(column.type, "python_type", None)
        columns.append(column.collate("C") if dialect == "postgresql" and python is str else column)
    return columns


def _nullable_json(table: Table) -> list[Column[Any]]:
    """The JSON columns that may hold SQL NULL: read back, SQL NULL and JSON null are both
    None, so whether the database holds NULL is read (and copied, and checked) apart."""
    return [c for c in table.columns if isinstance(c.type, JSON) and c.nullable]


_NULL = "__sql_null__"  # the label of such a column's `IS NULL`


async def _batches(conn: AsyncConnection, table: Table, batch: int) -> AsyncIterator[Sequence[Any]]:
    """The table's rows in primary-key order, `batch` at a time, each followed by an
    `IS NULL` flag per nullable JSON column."""
    flags = [c.is_(None).label(f"{_NULL}{c.name}") for c in _nullable_json(table)]
    query = select(table, *flags).order_by(*_order(table, conn.dialect.name))
    result = await conn.stream(query.execution_options(yield_per=batch))
    async for rows in result.partitions(batch):
        yield rows


async def _insert(target: AsyncConnection, table: Table, rows: Sequence[Any]) -> None:
    """Insert a batch; a nullable JSON column the source holds as SQL NULL stays SQL NULL
    (a None parameter would be written as JSON null)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = dict(row._mapping)
        nulls = tuple(c.name for c in _nullable_json(table) if values.pop(f"{_NULL}{c.name}"))
        for name in nulls:
            del values[name]
        groups.setdefault(nulls, []).append(values)
    for nulls, params in groups.items():
        await target.execute(insert(table).values({name: null() for name in nulls}), params)


async def row_counts(conn: AsyncConnection) -> dict[str, int]:
    """Rows per table."""
    counts: dict[str, int] = {}
    for table in tables():
        counts[table.name] = (
            await conn.execute(select(func.count()).select_from(table))
        ).scalar_one()
    return counts


async def _occupied(conn: AsyncConnection) -> dict[str, int]:
    """The tables that hold rows, with their counts."""
    occupied: dict[str, int] = {}
    for table in tables():
        if (await conn.execute(select(literal(1)).select_from(table).limit(1))).first():
            count = await conn.execute(select(func.count()).select_from(table))
            occupied[table.name] = count.scalar_one()
    return occupied


async def _reset_sequences(conn: AsyncConnection) -> None:
    """Each id sequence (serial or identity) continues after the largest copied id."""
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        # the names come from our own metadata, never from input
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                f'FROM "{table.name}"'
            ),
            {"table": f'"{table.name}"', "column": column.name},
        )


def _canonical(value: Any) -> Any:
    """A value as JSON can write it, the same for both databases' spelling of it."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return {"datetime": moment.astimezone(UTC).isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value  # None, bool, int, float, str, and decoded JSON (dict, list)


def row_line(row: Sequence[Any]) -> bytes:
    """One row, canonically: JSON with sorted keys, one line."""
    line = json.dumps([_canonical(v) for v in row], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)  # fmt: skip
    return line.encode() + b"\n"


async def table_checksum(conn: AsyncConnection, table: Table, batch: int) -> tuple[int, str]:
    """(rows, SHA-256 hex) of a table, its rows ordered by primary key."""
    digest, count = hashlib.sha256(), 0
    async for rows in _batches(conn, table, batch):
        for row in rows:
            digest.update(row_line(row))
        count += len(rows)
    return count, digest.hexdigest()


async def compare(
    source: AsyncConnection, target: AsyncConnection, batch: int = DEFAULT_BATCH
) -> list[TableCheck]:
    """Every table's count and checksum on both sides."""
    checks = []
    for table in tables():
        source_rows, source_sum = await table_checksum(source, table, batch)
        target_rows, target_sum = await table_checksum(target, table, batch)
        checks.append(TableCheck(table.name, source_rows, source_sum, target_rows, target_sum))
    return checks


async def copy_tables(source: AsyncConnection, target: AsyncConnection, batch: int) -> int:
    """Every table's rows from source to target, in batches; returns the rows copied."""
    copied = 0
    for table in tables():
        async for rows in _batches(source, table, batch):
            await _insert(target, table, rows)
            copied += len(rows)
    if target.dialect.name == "postgresql":
        await _reset_sequences(target)
    return copied


async def migrate_database(
    source_url: str, target_url: str, *, batch: int = DEFAULT_BATCH, copy: bool = True
) -> list[TableCheck]:
    """Copy (unless `copy` is False: only compare) the SQLite database at `source_url` into
    the empty PostgreSQL database at `target_url`, then compare every table."""
    if batch < 1:
        raise TransferError("the batch size must be at least 1")
    require_postgresql(target_url)
    source_engine = open_source(source_url)
    target_engine = make_engine(target_url)
    try:
        async with source_engine.connect() as source:
            await _snapshot(source)
            await check_source(source)
            if copy:
                await migrate.upgrade(target_engine)
                async with target_engine.begin() as target:
                    occupied = await _occupied(target)
                    if occupied:
                        held = ", ".join(f"{name}: {rows} rows" for name, rows in occupied.items())
                        raise TransferError(
                            f"the target database already holds data ({held}); migrate-db "
                            "copies only into an empty database: create a new one (createdb), "
                            "or run with --check to compare an earlier copy"
                        )
                    await copy_tables(source, target, batch)
            async with target_engine.connect() as target:
                if await _revision(target) != migrate.head_revision():
                    raise TransferError(
                        "the target holds no copy at the newest migration: run without --check"
                    )
                return await compare(source, target, batch)
    finally:
        await source_engine.dispose()
        await target_engine.dispose()
