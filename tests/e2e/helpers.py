"""Small helpers for reading what the bot said."""

from __future__ import annotations

import re
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
