"""`python -m bot outbox [retry ID ...|--all]`: what the delivery worker set aside, from a shell.

A row is parked when no retry can fix it (the platform refused the message itself) or when it
kept failing for 15 minutes in a way nothing names; rows of a citizen who blocked the bot are
listed too, marked `blocked`. Groups that refuse the bot are not parked but held: they are
listed with how long, and their rows go out by themselves once the bot is back. `retry`
queues parked rows again; the running bot picks them up within a second. Same settings as the
bot (DATABASE_URL, .env; no token needed); a mistake is one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from bot.cli.drafts import UsageError, _Parser, one_line_errors, tehran
from bot.config import load_settings
from storage import migrate
from storage.db import make_engine, session_factory
from storage.delivery import HeldChat, Parked, SqlDelivery


def build_parser() -> argparse.ArgumentParser:
    """The `outbox` command line."""
    parser = _Parser(
        prog="python -m bot outbox",
        description="List the messages the bot set aside, and send them again.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="action")
    retry = sub.add_parser("retry", help="queue parked messages again")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="outbox row ids")
    retry.add_argument("--all", action="store_true", help="every parked row (not blocked chats)")
    return parser


def _parked_line(row: Parked) -> str:
    blocked = " [blocked]" if row.blocked else ""
    code = f" request {row.code}" if row.code else ""
    return (
        f"#{row.id} {row.platform.value}:{row.chat_id} {row.kind.value}{code}, "
        f"{row.attempts} attempts, queued {tehran(row.created_at)}{blocked}: {row.error}"
    )


def _held_line(chat: HeldChat, now: datetime) -> str:
    minutes = int((now - chat.since).total_seconds() // 60)
    moved = f"; new id {chat.new_chat_id}" if chat.new_chat_id is not None else ""
    return (
        f"held {chat.platform.value}:{chat.chat_id} for {minutes} min "
        f"(since {tehran(chat.since)}): {chat.reason}{moved}"
    )


async def run(args: argparse.Namespace, database_url: str) -> str:
    """List or requeue; returns what to print."""
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        store = SqlDelivery(session_factory(engine))
        now = datetime.now(UTC)
        if args.action == "retry":
            if not args.ids and not args.all:
                raise UsageError("retry: name row ids or --all")
            if args.ids and args.all:
                raise UsageError("retry: either row ids or --all, not both")
            count = await store.requeue(None if args.all else list(args.ids), now)
            return f"queued {count} parked row{'s' if count != 1 else ''} again"
        parked, held = await store.parked(), await store.held()
        counts = await store.counts()
    finally:
        await engine.dispose()
    lines = [
        f"outbox: {counts['pending']} waiting, {counts['sent']} sent, "
        f"{counts['failed']} parked or dropped; {len(held)} group(s) held"
    ]
    lines += [_held_line(chat, now) for chat in held]
    lines += [_parked_line(row) for row in parked]
    if parked:
        lines.append("send again: python -m bot outbox retry ID [ID ...] | --all")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """`python -m bot outbox ...`; returns the exit code."""
    args = build_parser().parse_args(argv)
    return one_line_errors(lambda: asyncio.run(run(args, load_settings().database_url)))
