"""`python -m bot`: load settings, build the app, poll every platform whose token is set
(plain `python -m bot` with no token set: the local browser sandbox, as `python -m bot sandbox`;
`python -m bot run` with no token set is an error)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import SettingsError, load_settings
from bot.runtime.lean_aiogram import import_aiogram_lazily
from bot.runtime.redact import RedactSecrets
from desk.routing import RulesError

SANDBOX_PORT = 8080
WEBHOOK_PORT = 8081  # deploy/systemd/jihad-webhook@81 listens here


def setup_logging(level: str) -> None:
    """One line per event on stderr, secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # aiosqlite's DEBUG lines repeat every statement with its parameters (citizens' names,
    # phones, complaint texts): never shown, whatever the level
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().level))
    if level != "DEBUG":
        for noisy in ("alembic", "apscheduler", "aiogram.event"):
            # aiogram.event logs a line per update, apscheduler one per job run
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    # First, before anything imports aiogram: its ~450 models are built on first use, not all
    # at import (bot/runtime/lean_aiogram.py; README, Benchmarks). Only this process entry does it:
    # `import bot` elsewhere (Alembic, scripts) leaves aiogram and pydantic as they are; the test
    # suite opts in as well (tests/conftest.py).
    import_aiogram_lazily()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["drafts"]:
        from bot.cli.drafts import main as drafts

        return drafts(argv[1:])
    if argv[:1] == ["outbox"]:
        from bot.cli.outbox import main as outbox

        return outbox(argv[1:])
    if argv[:1] in (["export"], ["retention"]):
        from bot.cli.data import main as records

        return records(argv[0], argv[1:])
    if argv[:1] == ["migrate-db"]:
        from bot.cli.migrate_db import main as migrate_db

        return migrate_db(argv[1:])
    if argv[:1] == ["probe"]:
        from bot.cli.probe import main as probe

        return probe(argv[1:])
    if argv[:1] == ["set-webhook"]:
        from bot.cli.webhook import main as set_webhook

        return set_webhook(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=__doc__,
        epilog=(
            "python -m bot drafts --help: publish and manage draft regulations; "
            "python -m bot export --help: requests, events and survey answers to XLSX or CSV; "
            "python -m bot retention --help: remove citizens' personal data from old requests; "
            "python -m bot outbox --help: messages the bot set aside, and sending them again; "
            "python -m bot migrate-db --to postgresql://…: copy the SQLite database into "
            "PostgreSQL and check every table; "
            "python -m bot probe telegram|bale --chat ADMIN_CHAT_ID: check how the real Bot API "
            "answers (sends test messages; writes the scrubbed answers to a JSON file); "
            "python -m bot sandbox [--port N]: try it in the browser with a local fake messenger; "
            "python -m bot webhook [--host H] [--port P]: take updates by webhook instead of "
            "polling (README, Webhook mode); python -m bot set-webhook URL [--delete]: register "
            "(or remove) the webhook with each platform"
        ),
    )
    parser.add_argument(
        "command",
        nargs="?",
        default=None,
        choices=[
            "run",
            "check",
            "sandbox",
            "drafts",
            "export",
            "retention",
            "outbox",
            "probe",
            "migrate-db",
            "webhook",
            "set-webhook",
        ],
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="sandbox: the web page's port on 127.0.0.1 (a free one if taken; default 8080); "
        f"webhook: the port to listen on (default {WEBHOOK_PORT})",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="webhook: the address to listen on (default 127.0.0.1, behind nginx)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if args.command is None and not settings.tokens():
        print(
            "no bot token is set (TELEGRAM_BOT_TOKEN, BALE_BOT_TOKEN): "
            "starting the local browser sandbox instead",
            file=sys.stderr,
            flush=True,
        )
        return sandbox(args.port or SANDBOX_PORT)
    if args.command == "sandbox":
        return sandbox(args.port or SANDBOX_PORT)
    if args.command in ("run", "webhook") and not settings.tokens():
        print(
            "error: no bot token is set: set TELEGRAM_BOT_TOKEN or BALE_BOT_TOKEN "
            "(python -m bot sandbox tries the bot in the browser without one)",
            file=sys.stderr,
        )
        return 2
    from bot.app import build_app

    try:
        app = build_app(settings)
    except RulesError as exc:  # desk.directory.DirectoryError too: it is a RulesError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        print("settings, routing rules and contact directory are valid")
        return 0
    from bot.app import NameTaken, TokensRefused

    webhook = None
    if args.command == "webhook":
        try:
            app.webhook_secrets()
        except SettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        webhook = (args.host, WEBHOOK_PORT if args.port is None else args.port)
    from bot.runtime.webhook import ListenFailed

    try:
        asyncio.run(app.run(webhook=webhook))
    except TokensRefused:  # each platform's refusal is already one line in the log
        return 1
    except (ListenFailed, NameTaken) as exc:  # a port, or the worker's name, still held by the
        print(f"error: {exc}", file=sys.stderr)  # worker before: systemd tries again
        return 1
    return 0


def sandbox(port: int) -> int:
    """Run the browser sandbox until Ctrl+C; a bad routing file is one line, exit code 2."""
    from bot.app import NameTaken
    from bot.sandbox.run import serve

    try:
        asyncio.run(serve(port))
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NameTaken as exc:  # a sandbox already runs in this folder
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
