"""`python -m bot`: load settings, build the app, poll every platform whose token is set."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys

from bot.config import SettingsError, load_settings
from desk.routing import RulesError

_SECRETS = (
    (re.compile(r"\d{5,}:[A-Za-z0-9_-]{10,}"), "<token>"),
    (re.compile(r"(?<!\d)(?:\+?98|0)?9\d{9}(?!\d)"), "<phone>"),
)


class RedactSecrets(logging.Filter):
    """Tokens and phone numbers never reach the logs, whoever logs them (aiohttp URLs included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the formatted message with secrets masked."""
        message = record.getMessage()
        for pattern, mask in _SECRETS:
            message = pattern.sub(mask, message)
        record.msg, record.args = message, None
        return True


def setup_logging(level: str) -> None:
    """One line per event on stderr, secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if level != "DEBUG":
        for noisy in ("alembic", "apscheduler", "aiogram.event"):
            # aiogram.event logs a line per update, apscheduler one per job run
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["drafts"]:
        from bot.cli import main as drafts

        return drafts(argv[1:])
    if argv[:1] in (["export"], ["retention"]):
        from bot.cli_data import main as records

        return records(argv[0], argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=__doc__,
        epilog=(
            "python -m bot drafts --help: publish and manage draft regulations; "
            "python -m bot export --help: requests, events and survey answers to XLSX or CSV; "
            "python -m bot retention --help: remove citizens' personal data from old requests"
        ),
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "check", "drafts", "export", "retention"],
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    from bot.app import build_app

    try:
        app = build_app(settings)
    except RulesError as exc:  # desk.directory.DirectoryError too: it is a RulesError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        print("settings, routing rules and contact directory are valid")
        return 0
    if not app.bots:
        print(
            "error: no platform to run: set TELEGRAM_BOT_TOKEN and/or BALE_BOT_TOKEN",
            file=sys.stderr,
        )
        return 2
    asyncio.run(app.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
