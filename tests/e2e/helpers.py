"""Small helpers for reading what the bot said."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from desk.model import Request
from desk.text import to_latin_digits
from storage.repositories import SqlUnitOfWork

_CODE = re.compile(r"کد رهگیری: (?:<code>)?([۰-۹]{10})")


def said(replies: list[Any]) -> str:
    """Everything the bot wrote in these replies, joined."""
    return "\n".join((m.current_text() or "") for m in replies)


def tracking_code(replies: list[Any]) -> str:
    """The tracking code in a receipt, as ASCII digits."""
    match = _CODE.search(said(replies))
    assert match, f"no tracking code in: {said(replies)!r}"
    return to_latin_digits(match.group(1))


async def stored(front: Any, code: str) -> Request:
    """The request as the database has it."""
    async with SqlUnitOfWork(front.app.sessions) as tx:
        request = await tx.requests.get(code)
    assert request is not None, f"request {code} not in the database"
    return request


# --- `python -m bot ...` without starting an interpreter -----------------------------------------

_ONE_AT_A_TIME = threading.Lock()  # the environment, the folder and sys.stdout are the process's


@contextlib.contextmanager
def _as_a_fresh_process(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """This process's environment, working folder and logging as a new `python -m bot` would
    find them (only `env`, in `cwd`, a root logger without handlers at WARNING); all restored."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.handlers[:], lg.disabled, lg.propagate) for lg in loggers]
    disabled = logging.root.manager.disable
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    logging.root.handlers.clear()
    logging.root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for lg in set(manager.loggerDict.values()) - set(loggers):
            if isinstance(lg, logging.Logger):  # made by the command: back to the defaults
                lg.setLevel(logging.NOTSET)
                lg.handlers.clear()
        for lg, level, handlers, off, propagate in saved:
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.disabled, lg.propagate = off, propagate
        logging.disable(disabled)


def _main_in_process(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    from bot.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with (
        _ONE_AT_A_TIME,
        _as_a_fresh_process(cwd, env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: 2 for a usage error, 0 after --help
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:  # as the interpreter does with sys.exit("message")
                print(exc.code, file=sys.stderr)
                code = 1
    return code, out.getvalue(), err.getvalue()


async def run_main(argv: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """`python -m bot ARGV` run by its own `main(argv)` in this process, in a worker thread (its
    `asyncio.run` needs one) with exactly `env` as the environment and `cwd` as the folder:
    (exit code, stdout, stderr). Calls run one at a time. For what a command says and does;
    what only a real process shows (signals, kill -9, the interpreter's exit) stays in
    tests that start `python -m bot`."""
    return await asyncio.to_thread(_main_in_process, list(argv), cwd, env)


@contextlib.asynccontextmanager
async def watch_inbox(db: Path | str, *fakes: Any, every: float = 0.02) -> Any:
    """For a bot running as its own process (`python -m bot`): it confirms updates as soon as
    they are stored in its inbox, so tell the fake messenger each update the bot has handled,
    read from the inbox (rows marked done) of its SQLite file or of a PostgreSQL database (a
    `postgresql://` URL: several workers' one inbox). While inside, a person's message returns
    with the bot's answers, as against an in-process front."""
    by_id = {fake.id: fake for fake in fakes}
    for fake in by_id.values():
        fake.reports_handling = True
    floor = 0
    query = "SELECT id, bot_id, update_id, state FROM update_inbox WHERE id >= "

    async def read_sqlite() -> list[Any]:
        import sqlite3

        assert isinstance(db, Path)
        if not db.exists():  # noqa: ASYNC240 (a stat, every 20 ms, in a test's watcher)
            return []
        try:
            with contextlib.closing(sqlite3.connect(db, timeout=1)) as conn:
                return conn.execute(query + "?", (floor,)).fetchall()
        except sqlite3.Error:
            return []  # not migrated yet, or busy: the next look

    conn: Any = None

    async def read_postgresql() -> list[Any]:
        # every row each time: several workers commit their rows out of id order, so a floor
        # could step over a row committed late (a test's inbox is a few hundred rows)
        import asyncpg  # type: ignore[import-untyped]

        nonlocal conn
        try:
            if conn is None:
                conn = await asyncpg.connect(str(db).replace("+asyncpg", ""))
            return [tuple(r) for r in await conn.fetch(query + "$1", 0)]
        except (OSError, asyncpg.PostgresError):
            if conn is not None:
                conn.terminate()
            conn = None
            return []  # not there yet, or gone for a moment: the next look

    read = read_postgresql if isinstance(db, str) else read_sqlite

    async def look() -> None:
        nonlocal floor
        rows = await read()
        pending = [i for i, _, _, state in rows if state != "done"]
        for _, bot_id, update_id, state in rows:
            if state == "done" and bot_id in by_id and not by_id[bot_id].is_handled(update_id):
                by_id[bot_id].mark_handled(update_id)
        if rows and read is read_sqlite:  # one writer: rows appear in id order
            floor = min(pending) if pending else max(i for i, _, _, _ in rows) + 1

    async def watch() -> None:
        while True:
            await look()
            await asyncio.sleep(every)

    task = asyncio.create_task(watch())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if conn is not None:
            await conn.close()


async def forget_redis(url: str, bot_ids: list[int]) -> None:
    """Delete what these bots left in Redis (every key names its bot: rate, limits)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        for bot_id in bot_ids:
            keys = [k async for k in redis.scan_iter(match=f"*{bot_id}*", count=1000)]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()
