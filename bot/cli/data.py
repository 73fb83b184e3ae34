"""`python -m bot export ...` and `python -m bot retention ...`: the records, from a shell.

Like `python -m bot drafts` (bot/cli/drafts.py): the same settings as the bot (DATABASE_URL,
ROUTING_RULES, .env; no token needed), the schema upgraded first, one English line on stdout,
a mistake one line on stderr with exit code 2. Neither command sends anything.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path

from bot.cli.drafts import UsageError, _Parser, one_line_errors, tehran
from bot.config import load_settings
from bot.ui import exports
from desk import retention
from desk.calendar import parse_jalali
from desk.ports import Clock, SystemClock
from desk.routing import RoutingRules, load_rules
from storage import migrate
from storage.db import make_engine, session_factory
from storage.exports import collect
from storage.retention import SqlRetention

EXPORT_EPILOG = (
    "Requests and survey answers filed in the period, and every event that happened in it, "
    "both days included, Tehran time. XLSX: one workbook with four right-to-left sheets. "
    "CSV: the same four tables as UTF-8 files with a BOM, in a zip (or in a directory when "
    "--out does not end in .zip). The files hold citizens' names and phone numbers."
)
RETENTION_EPILOG = (
    "A request is past retention when it is closed, or answered more than 7 days ago (it can "
    "no longer be reopened), and has not changed for N days. Its name, phone, national code "
    "and attachments are removed, an 'anonymised' event is recorded, and its sent or failed "
    "outbox rows are deleted. Open requests are never touched; the text, answer, statuses, "
    "dates and ratings stay, so statistics do not change. The name and phone remembered for "
    "returning citizens are forgotten when their last filing is older than N days. Running it "
    "twice changes nothing."
)


def build_parser(command: str) -> argparse.ArgumentParser:
    """The `export` or `retention` command line."""
    if command == "export":
        parser = _Parser(
            prog="python -m bot export",
            description="Write a period's requests, events and survey answers to files.",
            epilog=EXPORT_EPILOG,
        )
        parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD",
                            help="first day, a Jalali date")  # fmt: skip
        parser.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD",
                            help="last day (included), a Jalali date")  # fmt: skip
        parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx",
                            help="xlsx (default) or csv")  # fmt: skip
        parser.add_argument("--out", type=Path, metavar="PATH",
                            help="the file (or directory) to write; default "
                                 "./export-<from>-<to>.xlsx or .zip")  # fmt: skip
        return parser
    parser = _Parser(
        prog="python -m bot retention",
        description="Remove citizens' personal data from closed or answered requests.",
        epilog=RETENTION_EPILOG,
    )
    parser.add_argument("--older-than-days", dest="days", type=int, required=True, metavar="N",
                        help="unchanged for more than N days (at least 1)")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true",
                        help="only say what would be removed; change nothing")  # fmt: skip
    return parser


def _day(option: str, value: str) -> date:
    try:
        return parse_jalali(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _target(args: argparse.Namespace, first: date, last: date) -> Path:
    """Where to write: --out, a default name in --out when it is a directory, or ./."""
    suffix = ".xlsx" if args.format == "xlsx" else ".zip"
    default = exports.file_stem(first, last) + suffix
    out: Path | None = args.out
    if out is None:
        return Path.cwd() / default
    if out.is_dir():  # xlsx: the default name in it; csv: the CSV files in it
        return out / default if args.format == "xlsx" else out
    if not out.parent.is_dir():
        raise UsageError(f"--out: no such directory: {out.parent}")
    return out


def _write(args: argparse.Namespace, target: Path, tables: list[exports.Sheet]) -> Path:
    if args.format == "xlsx":
        target.write_bytes(exports.workbook(tables))
    elif target.suffix == ".zip":
        target.write_bytes(exports.csv_zip(tables))
    else:  # a directory of CSV files
        target.mkdir(exist_ok=True)
        for name, content in exports.csv_files(tables).items():
            (target / name).write_bytes(content)
    return target


async def export(args: argparse.Namespace, rules: RoutingRules, database_url: str) -> str:
    """Write the files; returns the line to print."""
    first, last = _day("--from", args.first), _day("--to", args.last)
    if first > last:
        raise UsageError(f"--from {args.first} is after --to {args.last}")
    target = _target(args, first, last)
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine)() as session:
            data = await collect(session, *exports.period(first, last))
    finally:
        await engine.dispose()
    written = _write(args, target, exports.sheets(data, rules))
    return (
        f"wrote {written}: {len(data.requests)} requests, {len(data.events)} events, "
        f"{len(data.surveys)} survey answers from {exports.jalali_day(first)} to "
        f"{exports.jalali_day(last)} (Tehran); it holds citizens' names and phone numbers"
    )


def describe(report: retention.RetentionReport) -> str:
    """One line about a retention run."""
    when = tehran(report.cutoff.changed_before)
    accounts = f"{report.remembered} account" + ("" if report.remembered == 1 else "s")
    forgot = (
        f"; {'would forget' if report.dry_run else 'forgot'} the remembered name and phone of "
        f"{accounts} that last filed before {when}"
        if report.remembered
        else ""
    )
    if not report.holdings and not report.notices and not report.remembered:
        return (
            f"{'dry run: ' if report.dry_run else ''}nothing to remove: none of the "
            f"{report.past} closed or answered requests unchanged since {when} holds personal "
            f"data or sent or failed outbox rows"
        )
    files = f"{report.files} file" + ("" if report.files == 1 else "s")
    fields = (
        f"name {report.count('name')}, phone {report.count('phone')}, "
        f"national code {report.count('national_code')}, "
        f"attachments {report.count('attachments')} ({files})"
    )
    if report.dry_run:
        return (
            f"dry run, nothing changed: would anonymise {len(report.holdings)} of "
            f"{report.past} closed or answered requests unchanged since {when}, clearing "
            f"{fields}, and delete {report.notices} sent or failed outbox rows of them{forgot}"
        )
    return (
        f"anonymised {len(report.holdings)} of {report.past} closed or answered requests "
        f"unchanged since {when}, clearing {fields}; deleted {report.notices} sent or failed "
        f"outbox rows of them{forgot}"
    )


async def apply_retention(
    args: argparse.Namespace, database_url: str, clock: Clock | None = None
) -> str:
    """Run retention; returns the line to print."""
    if args.days < 1:
        raise UsageError("--older-than-days must be at least 1")
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        report = await retention.apply(
            lambda: SqlRetention(sessions),
            clock=clock or SystemClock(),
            older_than_days=args.days,
            dry_run=args.dry_run,
        )
    finally:
        await engine.dispose()
    return describe(report)


def main(command: str, argv: list[str]) -> int:
    """`python -m bot export|retention ...`; returns the exit code."""
    args = build_parser(command).parse_args(argv)

    def run() -> str:
        settings = load_settings()
        if command == "export":
            rules = load_rules(settings.routing_rules)
            return asyncio.run(export(args, rules, settings.database_url))
        return asyncio.run(apply_retention(args, settings.database_url))

    return one_line_errors(run)
