"""`python -m bot drafts ...`: publish and manage draft regulations from a shell.

The command reads the same settings as the bot (DATABASE_URL, ROUTING_RULES, .env; no token
needed), upgrades the schema and writes to the database only. It sends nothing itself: the
announcements, reports and digests it queues are outbox rows that the running bot's delivery
worker sends, and a draft scheduled for later is opened by the running bot's scheduler.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import mimetypes
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from bot.config import SettingsError, load_settings
from desk import regulations
from desk.calendar import TEHRAN, gregorian_to_jalali, local_date, parse_jalali, start_of_day
from desk.model import Draft, DraftFile, DraftStatus
from desk.ports import SystemClock
from desk.regulations import DraftError
from desk.routing import RoutingRules, RulesError, load_rules
from desk.staff import Desk
from storage import migrate
from storage.db import make_engine, session_factory
from storage.repositories import SqlUnitOfWork

EPILOG = (
    "This command only writes to the database (DATABASE_URL). The running bot sends what it "
    "queues: its delivery worker sends the announcements to subscribers and the reports to the "
    "admins (outbox), and its scheduler opens a draft published with --opens on that day. "
    "Dates are Jalali, times Tehran."
)


class UsageError(Exception):
    """A wrong argument: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line."""

    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit code 2."""
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The `drafts` command line."""
    parser = _Parser(
        prog="python -m bot drafts",
        description="Publish, list, close and finalise draft regulations for public comment.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)

    publish = sub.add_parser(
        "publish",
        help="store a draft and open it for comment (now, or on --opens)",
        description="Store a draft and open it for comment. " + EPILOG,
    )
    publish.add_argument("--title", required=True, help="the title citizens read")
    summary = publish.add_mutually_exclusive_group(required=True)
    summary.add_argument("--summary", help="the summary; blank lines separate sections")
    summary.add_argument("--summary-file", type=Path, metavar="PATH",
                         help="read the summary from a UTF-8 text file")  # fmt: skip
    publish.add_argument("--unit", required=True, help="key of the owning unit (routing rules)")
    publish.add_argument("--file", required=True, type=Path, metavar="PATH",
                         help="the full text (PDF or Word), at most 20 MB")  # fmt: skip
    publish.add_argument("--days", type=int, default=regulations.DEFAULT_DAYS,
                         help=f"days open for comment, 1 to {regulations.MAX_DAYS} "
                              f"(default {regulations.DEFAULT_DAYS})")  # fmt: skip
    publish.add_argument("--opens", metavar="YYYY-MM-DD",
                         help="open later, at 00:00 Tehran of this Jalali date")  # fmt: skip

    sub.add_parser("list", help="every draft, newest first", description="Every draft.")

    close = sub.add_parser(
        "close", help="close a comment window now", description="Close a window now. " + EPILOG
    )
    close.add_argument("id", type=int, help="the draft's id (see `list`)")

    withdraw = sub.add_parser(
        "withdraw",
        help="take a draft back: nobody reads or comments on it; commenters are told why",
        description="Withdraw a draft. " + EPILOG,
    )
    withdraw.add_argument("id", type=int, help="the draft's id (see `list`)")
    withdraw.add_argument("--reason", required=True, help="why, for everyone who commented")

    final = sub.add_parser(
        "final",
        help="publish the final version; every commenter is told",
        description="Publish the final version. " + EPILOG,
    )
    final.add_argument("id", type=int, help="the draft's id (see `list`)")
    final.add_argument("--note", required=True, help="what changed after the comments")
    final.add_argument("--file", type=Path, metavar="PATH", help="the final text (optional)")
    return parser


def tehran(moment: datetime) -> str:
    """'1405-09-21 23:59 Tehran'."""
    local = moment.astimezone(TEHRAN)
    year, month, day = gregorian_to_jalali(local.date())
    return f"{year:04d}-{month:02d}-{day:02d} {local:%H:%M} Tehran"


def _read_file(path: Path) -> DraftFile:
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    content = path.read_bytes()
    if not content:
        raise UsageError(f"file is empty: {path}")
    if len(content) > regulations.MAX_FILE:
        raise UsageError(f"file is larger than 20 MB: {path} ({len(content)} bytes)")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return DraftFile(path.name, content, mime)


def _operator() -> str:
    """Who ran the command, for the draft's `created_by`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _reason(error: DraftError, rules: RoutingRules, draft_id: int | None = None) -> str:
    match error.reason:
        case "unknown":
            return f"no draft with id {draft_id}"
        case "status":
            return f"draft {draft_id} cannot do that in its current status"
        case "unit":
            return f"unknown unit; one of: {', '.join(rules.units)}"
        case "days":
            return f"--days must be between 1 and {regulations.MAX_DAYS}"
        case "empty":
            return "title, summary, note and reason must not be empty"
        case "file":
            return "the file is empty or larger than 20 MB"
    return error.reason


async def _publish(desk: Desk, args: argparse.Namespace) -> str:
    if args.unit not in desk.rules.units:
        raise UsageError(f"unknown unit {args.unit!r}; one of: {', '.join(desk.rules.units)}")
    if args.summary_file is not None:
        if not args.summary_file.is_file():
            raise UsageError(f"file not found: {args.summary_file}")
        try:
            summary = args.summary_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"not a UTF-8 text file: {args.summary_file}") from None
    else:
        summary = args.summary
    document = _read_file(args.file)
    opens_at = None
    if args.opens:
        try:
            day = parse_jalali(args.opens)
        except ValueError as exc:
            raise UsageError(f"--opens: {exc}") from None
        if day < local_date(desk.clock.now()):
            raise UsageError(f"--opens {args.opens} is in the past")
        opens_at = start_of_day(day)
    draft = await regulations.publish(
        desk,
        title=args.title,
        summary=summary,
        unit=args.unit,
        document=document,
        days=args.days,
        opens_at=opens_at,
        by=_operator(),
    )
    if draft.status is DraftStatus.SCHEDULED:
        return (
            f'scheduled draft {draft.id} "{draft.title}": opens {tehran(draft.opens_at)}, '
            f"open until {tehran(draft.closes_at)}; the running bot announces it then"
        )
    return (
        f'published draft {draft.id} "{draft.title}", open until {tehran(draft.closes_at)}, '
        f"{draft.announce_total} subscribers queued"
    )


def _line(draft: Draft, comments: int) -> str:
    return (
        f"{draft.id:>4}  {draft.status.value:<9}  {tehran(draft.opens_at)} .. "
        f'{tehran(draft.closes_at)}  {comments:>4} comments  {draft.unit}  "{draft.title}"'
    )


async def _list(desk: Desk) -> str:
    async with desk.uow() as tx:
        drafts = await tx.drafts.all()
        lines = [_line(d, len(await tx.drafts.comments(d.id or 0))) for d in drafts]
    return "\n".join(lines) if lines else "no drafts"


async def run(desk: Desk, args: argparse.Namespace) -> str:
    """Do what the arguments ask; returns the line to print."""
    draft_id: int | None = getattr(args, "id", None)
    try:
        match args.action:
            case "publish":
                return await _publish(desk, args)
            case "list":
                return await _list(desk)
            case "close":
                draft = await regulations.close_now(desk, args.id, by=_operator())
                return (
                    f'closed draft {draft.id} "{draft.title}"; the running bot sends the digest '
                    f"to {draft.unit}"
                )
            case "withdraw":
                draft, told = await regulations.withdraw(
                    desk, args.id, reason=args.reason, by=_operator()
                )
                return f'withdrew draft {draft.id} "{draft.title}"; {told} commenters queued'
            case "final":
                final = _read_file(args.file) if args.file is not None else None
                draft, told = await regulations.finalize(
                    desk, args.id, note=args.note, final=final, by=_operator()
                )
                return (
                    f'final version of draft {draft.id} "{draft.title}"; {told} commenters queued'
                )
    except DraftError as exc:
        raise UsageError(_reason(exc, desk.rules, draft_id)) from None
    raise UsageError(f"unknown action {args.action}")


async def _main(args: argparse.Namespace, rules: RoutingRules, database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        desk = Desk(lambda: SqlUnitOfWork(sessions), rules, SystemClock())
        return await run(desk, args)
    finally:
        await engine.dispose()


def one_line_errors(command: Callable[[], str]) -> int:
    """Run a sub-command that returns what to print: a mistake (settings, rules, arguments, the
    database or a file) is one line on stderr and exit code 2, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        print(command())
    except (SettingsError, RulesError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {first}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str]) -> int:
    """`python -m bot drafts ...`; returns the exit code."""
    args = build_parser().parse_args(argv)

    def run() -> str:
        settings = load_settings()
        rules = load_rules(settings.routing_rules)
        return asyncio.run(_main(args, rules, settings.database_url))

    return one_line_errors(run)
