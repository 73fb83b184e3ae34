"""`python -m bot migrate-db --to postgresql://…`: move a SQLite deployment to PostgreSQL.

Stop the bot first (what it writes after the copy began would stay behind). The source
(DATABASE_URL of the settings, or --from) is only read, never changed. The target is brought
to the newest schema and must be empty; every table is copied in batches in one transaction,
the id sequences continue after the copied ids, and then every table's row count and SHA-256
checksum are compared on both sides. Exit code 0 when all match, 1 when a table differs, 2
when the copy cannot start (the target holds data, a wrong URL, the source not upgraded).
Then set DATABASE_URL to the PostgreSQL URL and start the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bot.cli.drafts import UsageError, _Parser, one_line_errors
from bot.config import load_settings
from storage import transfer


def build_parser() -> argparse.ArgumentParser:
    """The `migrate-db` command line."""
    parser = _Parser(
        prog="python -m bot migrate-db",
        description="Copy the bot's SQLite database into an empty PostgreSQL database and "
        "check every table's row count and checksum.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--to", required=True, metavar="URL", dest="target",
                        help="the PostgreSQL database: postgresql://user:password@host:5432/name "
                             "(it must exist; its tables are created here)")  # fmt: skip
    parser.add_argument("--from", metavar="URL", dest="source",
                        help="the SQLite database to copy (default: DATABASE_URL)")  # fmt: skip
    parser.add_argument("--batch", type=int, default=transfer.DEFAULT_BATCH, metavar="N",
                        help=f"rows per batch (default {transfer.DEFAULT_BATCH})")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="copy nothing: compare an earlier copy with the source")  # fmt: skip
    return parser


def report(checks: list[transfer.TableCheck]) -> str:
    """The table of tables: name, rows, checksum (its first 16 hex digits), ok."""
    width = max(len(c.table) for c in checks)
    lines = [f"{'table':<{width}}  {'rows':>9}  {'checksum (sha256)':<17}  ok"]
    for c in checks:
        verdict = "ok" if c.ok else (
            f"MISMATCH: target has {c.target_rows} rows, checksum {c.target_sum[:16]}"
        )  # fmt: skip
        lines.append(f"{c.table:<{width}}  {c.source_rows:>9}  {c.source_sum[:16]:<17}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """`python -m bot migrate-db ...`; returns the exit code."""
    args = build_parser().parse_args(argv)
    differ: list[str] = []

    def run() -> str:
        source = args.source or load_settings().database_url
        started = time.monotonic()
        try:
            checks = asyncio.run(transfer.migrate_database(
                source, args.target, batch=args.batch, copy=not args.check
            ))  # fmt: skip
        except transfer.TransferError as exc:
            raise UsageError(str(exc)) from None
        seconds = time.monotonic() - started
        differ.extend(c.table for c in checks if not c.ok)
        rows = sum(c.source_rows for c in checks)
        done = "compared" if args.check else "copied"
        verdict = (
            "every row count and checksum matches"
            if not differ
            else f"{len(differ)} table(s) differ"
        )
        return (
            f"{report(checks)}\n{done} {len(checks)} tables, {rows} rows, "
            f"{transfer.shown(source)} → {transfer.shown(args.target)} "
            f"in {seconds:.1f} s: {verdict}"
        )

    code = one_line_errors(run)
    if code == 0 and differ:
        print(
            f"error: the copy differs from the source in {', '.join(differ)}: do not switch "
            "DATABASE_URL to it; drop and recreate the target, then run migrate-db again",
            file=sys.stderr,
        )
        return 1
    return code
