"""The fake Bot API HTTP server on loopback: routes, parameter decoding, dispatch, downloads.

:class:`FakeBotAPI` serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` for every
registered bot. Start at :meth:`FakeBotAPI._handle`: read the parameters (query, JSON,
urlencoded or multipart), meet a fault if one is due (``faults``), else call the bot's method
(``methods``) and wrap its result (``responses``; Bale's quirks from ``platforms``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from bot.sandbox.fakebotapi.faults import FaultInjection
from bot.sandbox.fakebotapi.methods import FakeBot
from bot.sandbox.fakebotapi.platforms import MB, Json, _with_bale_quirks
from bot.sandbox.fakebotapi.responses import (
    _GARBAGE,
    _error_response,
    _fault_response,
    _json_response,
)
from bot.sandbox.fakebotapi.world import ApiError, Upload

# fmt: off
_STRING_FIELDS = frozenset({  # form fields kept as strings (everything else is JSON-decoded)
    "text", "caption", "parse_mode", "phone_number", "first_name", "last_name", "vcard", "title",
    "address", "description", "callback_query_id", "inline_message_id", "file_id", "photo",
    "document", "voice", "video", "audio", "animation", "sticker", "video_note", "thumbnail",
    "url", "action", "emoji", "name", "query", "business_connection_id", "message_effect_id",
    "foursquare_id", "google_place_id", "language_code", "secret_token", "question", "payload",
})
# fmt: on


def _decode_form(key: str, value: str) -> Any:
    """Decode one form field the way Telegram does (JSON-encoded unless a string field)."""
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotAPI(FaultInjection):
    """The fake Bot API HTTP server; serves several bots, each by its token."""

    def __init__(self) -> None:
        """Create a stopped server."""
        super().__init__()
        self.base_url = ""
        self._bots: dict[str, FakeBot] = {}
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a random free port."""
        app = web.Application(client_max_size=128 * MB)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Release long polls and shut the server down."""
        for bot in self._bots.values():
            bot._closing = True
            await bot._notify()
            await bot._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        """Start on entering an ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving an ``async with`` block."""
        await self.stop()

    def add_bot(
        self, token: str, flavour: str, username: str | None = None, first_update_id: int = 1
    ) -> FakeBot:
        """Register a bot token with a flavour ("telegram" or "bale")."""
        if token in self._bots:
            raise ValueError(f"bot {token!r} already registered")
        bot = FakeBot(token, flavour, username or f"{flavour}_test_bot", first_update_id)
        self._bots[token] = bot
        if self._reality is not None:
            self._reality_edits(bot, self._reality)
        return bot

    def bot(self, token: str) -> FakeBot:
        """The registered bot with this token."""
        return self._bots[token]

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[Json, dict[str, Upload]]:
        """Read params from query string, JSON, urlencoded or multipart bodies."""
        params: Json = {k: _decode_form(k, v) for k, v in request.query.items()}
        uploads: dict[str, Upload] = {}
        if not request.can_read_body:
            return params, uploads
        if request.content_type == "application/json":
            body = await request.json()
            for key, value in (body if isinstance(body, dict) else {}).items():
                nested = isinstance(value, str) and value.startswith(("{", "["))
                params[key] = _decode_form(key, value) if nested else value
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[key] = (value.file.read(), value.filename, value.content_type)
                else:
                    text = value.decode() if isinstance(value, bytes | bytearray) else value
                    params[key] = _decode_form(key, text)
        return params, uploads

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one Bot API call."""
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            return _error_response(401, "Unauthorized")
        name = request.match_info["method"]
        method = bot._canonical.get(name.lower(), name)
        try:
            params, uploads = await self._read_params(request)
        except ValueError:
            return _error_response(400, "Bad Request: can't parse request body")
        bot.calls.append((method, params))
        fault = self._pick_fault(bot, method, params)
        garbage = False
        if fault is not None:
            kind, retry_after, delay = fault
            self.injected[kind] += 1
            self.injected_log.append((bot.token, method, kind))
            if delay > 0:
                await asyncio.sleep(delay)
            if kind == "drop":
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            response = _fault_response(kind, retry_after)
            if response is not None:
                return response
            garbage = kind == "ok_garbage"  # carried out below, answered with garbage
        handler = bot.handlers.get(method)
        if handler is None:
            bot._violation(f"{method}: method not found ({bot.flavour})")
            return _error_response(404, "Not Found: method not found")
        mark = len(bot.sent)
        try:
            result = await handler(params, uploads)
        except ApiError as error:
            return _error_response(error.status, error.description, error.parameters)
        except Exception as exc:  # a bug in the fake itself or a wildly malformed call
            bot._violation(f"{method}: fake server crashed on {params}: {exc!r}")
            return _error_response(500, f"Internal Server Error: {exc!r}")
        await bot._notify()
        if garbage:
            for sent in bot.sent[mark:]:
                sent.unreadable_answer = True  # the bot cannot know its message id
            return _json_response({"ok": True, "result": _GARBAGE})
        if bot.bale_quirks and bot.is_bale:
            result = _with_bale_quirks(result)
        return _json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """Serve file bytes at /file/bot<token>/files/<file_id>."""
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            return _error_response(401, "Unauthorized")
        path = request.match_info["path"]
        stored = bot._files.get(path.removeprefix("files/")) if path.startswith("files/") else None
        if stored is None:
            return _error_response(404, "Not Found")
        return web.Response(body=stored.content, content_type="application/octet-stream")
