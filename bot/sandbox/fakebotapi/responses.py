"""The HTTP answers on the wire: the Bot API's JSON envelope, its error body, and each fault kind's.

:func:`_fault_response` is the table to read: a fault kind (see ``faults``) becomes the exact
answer a real messenger or the proxy in front of it gives — JSON errors with or without
``retry_after``, Bale's "bot limit exceed" (HTTP 400, or 200 with ``ok: false``), an nginx HTML
page, an Envoy ``text/plain`` line.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from bot.sandbox.fakebotapi.platforms import Json


def _error_response(status: int, description: str, parameters: Json | None = None) -> web.Response:
    """Build a Bot API error JSON response."""
    body: Json = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return _json_response(body, status)


def _json_response(body: Any, status: int = 200) -> web.Response:
    """Build a JSON response keeping non-ASCII text readable."""
    return web.json_response(body, status=status, dumps=partial(json.dumps, ensure_ascii=False))


def _nginx_page(status: str) -> str:
    """nginx's default error page for a status line such as "502 Bad Gateway"."""
    return (
        f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
        "<hr><center>nginx</center></body></html>"
    )


_UPSTREAM_RESET = (
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)
_GARBAGE = {"message_id": "not-a-number", "weird": [1]}
_JSON_FAULTS: dict[str, tuple[int, str]] = {
    "500": (500, "Internal Server Error"),
    "bale_limit": (400, "bot limit exceed"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "429_bare": (429, "Too Many Requests"),
    "420": (420, "Flood wait"),
    "401": (401, "Unauthorized"),
    "403_kicked": (403, "Forbidden: bot was kicked from the group chat"),
    "403_not_member": (403, "Forbidden: bot is not a member of the group chat"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "400": (400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'),
}


def _fault_response(kind: str, retry_after: int) -> web.Response | None:
    """The answer of a fault kind; None when the call goes on ("timeout", "ok_garbage")."""
    if kind == "429":
        description = f"Too Many Requests: retry after {retry_after}"
        return _error_response(429, description, {"retry_after": retry_after})
    if kind in _JSON_FAULTS:
        return _error_response(*_JSON_FAULTS[kind])
    if kind == "bale_limit_any":
        return _json_response({"ok": False, "error_code": 429, "description": "bot limit exceed"})
    if kind == "429_text":
        return web.Response(status=429, text="local_rate_limited", content_type="text/plain")
    if kind == "429_html":
        page = _nginx_page("429 Too Many Requests")
        return web.Response(status=429, text=page, content_type="text/html")
    if kind == "502_html":
        page = _nginx_page("502 Bad Gateway")
        return web.Response(status=502, text=page, content_type="text/html")
    if kind == "503_text":
        return web.Response(status=503, text=_UPSTREAM_RESET, content_type="text/plain")
    return None
