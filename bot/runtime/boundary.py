"""The platform boundary: every Bot API answer is decoded and every failure classified here.

Telegram and Bale answer in more shapes than aiogram's models expect, and an edge proxy in
front of either answers in shapes of its own. This module is the one place that knows them:

- `PlatformSession.check_response` reads an answer by HTTP status first, then body:
  * `ok: true` whose result parses: the result, as aiogram would return it;
  * `ok: true` whose result does not parse (Bale's `{"message_id": 0}` to an edit, `null`, a
    message with fields missing): the call **was carried out**, so it counts as delivered: an
    edit is `True`, a send is a minimal Message with whatever `message_id` could be read. Never
    sent again, never an apology for a message that went out;
  * 429 or 420 (JSON with or without `retry_after`, plain text, HTML) and `bot limit exceed` /
    `local_rate_limited` at any status: `TelegramRetryAfter`, with a growing default wait when
    the server names none;
  * 5xx or any body that is not the Bot API's JSON (an HTML 502 page): `TelegramServerError`;
  * otherwise aiogram's own exception for the status (400, 401, 403, 404, 409, 413).
- `classify(error, group=...)` turns any exception from a call into one `Verdict`, the same for
  direct replies (`bot/runtime/retry.py`) and the outbox (`bot/workers/delivery/loop.py`).
- On Bale, replies are threaded by `reply_to_message_id` (`BaleReplies`): no Bale library knows
  aiogram's `reply_parameters`.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, get_args

import aiogram.client.session.aiohttp as aiogram_aiohttp
import certifi
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    RestartingTelegram,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Chat, Message, ReplyParameters
from aiohttp import BytesPayload, ClientError
from pydantic import ValidationError
from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

# Words that mean "slow down" whatever the status says: Bale's own error, an Envoy edge proxy's
# body, and the usual phrase (also in HTML pages of nginx's limit_req).
RATE_LIMIT_MARKERS = ("bot limit exceed", "local_rate_limited", "too many requests", "flood")
# Errors that mean "this chat does not take the bot's messages (now)": in a private chat the
# citizen blocked or deleted the bot; in a staff group the bot was removed, lost its rights, or
# the group changed. Matched in lower case against the description.
CHAT_REFUSES_MARKERS = (
    "chat not found",
    "bot was kicked",
    "not a member",
    "bot was blocked",
    "user is deactivated",
    "have no rights",
    "not enough rights",
    "need administrator rights",
    "chat_write_forbidden",
    "group chat was upgraded",
    "group chat was deactivated",
    "no such group or user",  # Bale's words (python-bale-bot, bale/error.py)
)
# Bale refuses a wrong token with 403 "Bad Request: Token not found" (seen from tapi.bale.ai,
# bale-mcp's tests), not 401: still a wrong token, not a chat that refuses the bot.
TOKEN_REFUSED_MARKERS = ("token not found", "unauthorized", "invalid token")
NOT_MODIFIED = "message is not modified"
GONE_MARKERS = ("message to edit not found", "message can't be edited", "message_id_invalid")
DEFAULT_WAIT = 1.0  # the first guess when a rate limit names no wait; doubles while it repeats
MAX_GUESSED_WAIT = 60.0


class Outcome(StrEnum):
    """What a failed call means for whoever retries it."""

    RATE_LIMITED = "rate_limited"  # wait `wait` seconds; the whole platform pauses
    TRANSIENT = "transient"  # 5xx, HTML pages, timeouts, resets: back off and try again
    UNAUTHORIZED = "unauthorized"  # the platform refuses the token: stop that platform
    BLOCKED = "blocked"  # a citizen's private chat refuses the bot: nothing more goes there
    HELD = "held"  # a staff or admin group refuses the bot: hold its rows until it is back
    DONE = "done"  # nothing left to do (an edit that changes nothing, a card gone)
    PERMANENT = "permanent"  # no retry can fix it (a 400 about the message itself)
    UNKNOWN = "unknown"  # nobody classified it: retried for a bounded time, then parked


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classified failure: what it means, how long to wait, and a one-line reason."""

    outcome: Outcome
    reason: str
    wait: float = 0.0
    new_chat_id: int | None = None  # a group upgraded to a supergroup: its new id


def _description(error: BaseException) -> str:
    return str(getattr(error, "message", None) or error)


def classify(error: BaseException, *, group: bool) -> Verdict:
    """What `error` from a Bot API call means; `group` says whether the chat is a group."""
    text = _description(error)
    low = text.lower()
    reason = f"{type(error).__name__}: {text}".splitlines()[0][:300]
    if isinstance(error, TelegramRetryAfter):
        return Verdict(Outcome.RATE_LIMITED, reason, float(error.retry_after))
    if isinstance(error, TelegramUnauthorizedError):
        return Verdict(Outcome.UNAUTHORIZED, reason)
    if isinstance(error, TelegramMigrateToChat):
        outcome = Outcome.HELD if group else Outcome.PERMANENT
        return Verdict(outcome, reason, new_chat_id=error.migrate_to_chat_id)
    if isinstance(error, TelegramForbiddenError):
        return Verdict(Outcome.HELD if group else Outcome.BLOCKED, reason)
    if isinstance(error, TelegramBadRequest):
        if NOT_MODIFIED in low or any(m in low for m in GONE_MARKERS):
            return Verdict(Outcome.DONE, reason)
        if any(m in low for m in CHAT_REFUSES_MARKERS):
            return Verdict(Outcome.HELD if group else Outcome.BLOCKED, reason)
        return Verdict(Outcome.PERMANENT, reason)
    if isinstance(error, TelegramNotFound) and any(m in low for m in CHAT_REFUSES_MARKERS):
        # Bale answers a gone chat with 404 "no such group or user" (Balethon, python-bale-bot)
        return Verdict(Outcome.HELD if group else Outcome.BLOCKED, reason)
    if isinstance(error, TelegramEntityTooLarge | TelegramNotFound):
        return Verdict(Outcome.PERMANENT, reason)
    if isinstance(
        error,
        TelegramServerError
        | RestartingTelegram
        | TelegramNetworkError
        | TelegramConflictError
        | TimeoutError
        | OSError  # resets, refused connections
        | ClientError  # aiohttp, when it is not wrapped in TelegramNetworkError
        | ProxyError  # TELEGRAM_PROXY / BALE_PROXY down or refusing (aiohttp_socks)
        | ProxyConnectionError
        | ProxyTimeoutError,
    ):
        return Verdict(Outcome.TRANSIENT, reason)
    return Verdict(Outcome.UNKNOWN, reason)


def _is_rate_limit_text(text: str) -> bool:
    low = text.lower()
    return any(marker in low for marker in RATE_LIMIT_MARKERS)


def _snippet(content: str) -> str:
    """A short, single-line excerpt of a body that is not the Bot API's JSON."""
    text = " ".join(content.split())
    if "<title>" in text.lower():  # an HTML error page: its title says it
        start = text.lower().index("<title>") + len("<title>")
        end = text.lower().find("</title>", start)
        text = text[start : end if end > start else start + 80]
    return text[:120] or "(empty body)"


@functools.cache
def response_model(returning: Any) -> type[Response[Any]]:
    """`Response[T]` for a method's result type, built once per process. pydantic keeps its
    parametrized generics only weakly: aiogram's `Response[method.__returning__]` in every
    answer rebuilt the model (its schema and validator) whenever the last one had been
    collected, a tenth of the CPU the bot spent on an update."""
    return Response[returning]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificate store aiogram trusts (certifi's), loaded once per process. aiogram's
    session loads it again for every bot (about 30 ms of CPU each: four bots at each start,
    and the tests start the front hundreds of times); nothing mutates it once made."""
    return ssl.create_default_context(cafile=certifi.where())


class _SharedTls:
    """Stands in for the `ssl` module inside aiogram's session module while a session is made:
    its one call there, `create_default_context(cafile=certifi.where())`, gets `tls_context()`."""

    @staticmethod
    def create_default_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        if args or set(kwargs) != {"cafile"} or kwargs["cafile"] != certifi.where():
            return ssl.create_default_context(*args, **kwargs)  # not the call we know: as asked
        return tls_context()


_TLS_SWAP = threading.Lock()  # sessions made in two threads at once never see each other's swap


@contextmanager
def _shared_tls() -> Iterator[None]:
    with _TLS_SWAP:
        setattr(aiogram_aiohttp, "ssl", _SharedTls)  # noqa: B010 - the module's global, on purpose
        try:
            yield
        finally:
            setattr(aiogram_aiohttp, "ssl", ssl)  # noqa: B010 - always the real module again


def json_body(payload: dict[str, Any]) -> BytesPayload:
    """A call's JSON body as the bot sends it: UTF-8, not `\\u` escapes (a third of the
    bytes of Persian), as httpx writes it for Balethon (`python -m bot probe` sends the same)."""
    return BytesPayload(
        json.dumps(payload, ensure_ascii=False).encode(), content_type="application/json"
    )


class PlatformSession(AiohttpSession):
    """aiogram's aiohttp session, with answers read as the real platforms give them."""

    def __init__(self, *, platform_name: str, **kwargs: Any) -> None:
        with _shared_tls():  # aiogram's own __init__, with the certificate store loaded once
            super().__init__(**kwargs)
        self.platform_name = platform_name
        self._guessed_wait = 0.0  # grows while rate limits without a wait repeat
        self.last_success = 0.0  # time.monotonic() of the last call that worked
        self.unparsed = 0  # `ok: true` answers counted as delivered without a parsed result

    async def close(self) -> None:
        """Close the connections. aiogram then waits 250 ms for TLS connections to shut down;
        to a plain-HTTP API server without a proxy (a local Bot API server, the sandbox, the
        tests' fake) there are none, and a stop (each restart) need not wait for them."""
        plain = self.api.base.startswith("http://") and self.proxy is None
        if not plain:
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()

    def _guess_wait(self) -> float:
        self._guessed_wait = min(MAX_GUESSED_WAIT, max(DEFAULT_WAIT, self._guessed_wait * 2))
        return self._guessed_wait

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> Any:
        """The call's body: JSON, unless it uploads a file (then aiogram's multipart form).

        aiogram posts every call as a form, each object in it a JSON string: the form's
        percent-encoding took about 5 % of a worker's CPU (py-spy, 2026-12-04). Both platforms
        take JSON: Telegram documents `application/json`; Balethon (`Client.execute`) sends
        Bale every call as JSON, objects nested, unless a value is a file, and python-bale-bot
        its sendMessage, editMessageText, getUpdates … too. The fields are aiogram's own,
        prepared as for the form (None and empty strings left out; a Default resolved;
        datetimes, as in the form, strings of Unix seconds)."""
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":
                continue
            body[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        return json_body(body)

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        """Decode one answer, or raise the exception that classifies it."""
        try:
            data: Any = self.json_loads(content)
        except (ValueError, TypeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
            # not the Bot API's answer: a proxy's or firewall's page, whatever its status (an
            # HTML 403 from a WAF is no word from the platform about this chat or token)
            text = _snippet(content)
            if status_code in (HTTPStatus.TOO_MANY_REQUESTS, 420) or _is_rate_limit_text(content):
                self._refuse(method, HTTPStatus.TOO_MANY_REQUESTS, text, None)
            raise TelegramServerError(method=method, message=f"HTTP {status_code}: {text}")
        ok = data["ok"] is True and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED
        if not ok:
            parameters = data.get("parameters")
            code = data.get("error_code")
            status = status_code
            if status_code < HTTPStatus.BAD_REQUEST:  # `ok: false` at 200: the body says why
                status = code if isinstance(code, int) else HTTPStatus.BAD_REQUEST
            description = str(data.get("description") or "") or f"HTTP {status}"
            self._refuse(method, status, description,
                         parameters if isinstance(parameters, dict) else None)  # fmt: skip
        self._guessed_wait = 0.0
        self.last_success = time.monotonic()
        try:
            response = response_model(method.__returning__).model_validate(
                data, context={"bot": bot}
            )
        except ValidationError as exc:
            return self._delivered_anyway(method, data.get("result"), exc)
        if response.result is None:  # `result: null` passes aiogram's Optional result field
            return self._delivered_anyway(method, None, None)
        return response

    def _refuse(
        self,
        method: TelegramMethod[Any],
        status: int,
        description: str,
        parameters: dict[str, Any] | None,
    ) -> Any:
        """Raise the exception an error answer means (status first, then body)."""
        params = parameters or {}
        retry_after = params.get("retry_after")
        limited = status in (HTTPStatus.TOO_MANY_REQUESTS, 420) or _is_rate_limit_text(description)
        if limited or isinstance(retry_after, int | float):
            wait = float(retry_after) if isinstance(retry_after, int | float) else 0.0
            if wait <= 0:
                wait = self._guess_wait()
            raise TelegramRetryAfter(method=method, message=description, retry_after=wait)  # type: ignore[arg-type]
        if status in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND) and any(
            marker in description.lower() for marker in TOKEN_REFUSED_MARKERS
        ):
            status = HTTPStatus.UNAUTHORIZED
        migrate = params.get("migrate_to_chat_id")
        if isinstance(migrate, int):
            raise TelegramMigrateToChat(
                method=method, message=description, migrate_to_chat_id=migrate
            )
        errors: dict[int, type[TelegramAPIError]] = {
            HTTPStatus.BAD_REQUEST: TelegramBadRequest,
            HTTPStatus.UNAUTHORIZED: TelegramUnauthorizedError,
            HTTPStatus.FORBIDDEN: TelegramForbiddenError,
            HTTPStatus.NOT_FOUND: TelegramNotFound,
            HTTPStatus.CONFLICT: TelegramConflictError,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE: TelegramEntityTooLarge,
        }
        error = errors.get(status)
        if error is None:
            # 5xx, or a 2xx/3xx body that is not the Bot API's (a captive portal, a proxy page):
            # it never reached the API, so it is worth trying again
            error = TelegramServerError if status >= 500 or status < 400 else TelegramAPIError
        raise error(method=method, message=description)

    def _delivered_anyway(
        self, method: TelegramMethod[Any], result: Any, exc: ValidationError | None
    ) -> Response[Any]:
        """An `ok: true` answer whose result we cannot read: the call was carried out."""
        name = type(method).__name__
        fields = sorted({".".join(map(str, e["loc"][:2])) for e in exc.errors()})[:4] if exc else []
        returning = method.__returning__
        self.unparsed += 1
        log.warning(
            "%s %s answered ok with a result we cannot read (%s); counted as done",
            self.platform_name, name, ", ".join(fields) or type(result).__name__,
        )  # fmt: skip
        if getattr(returning, "__origin__", None) is list and Message in get_args(returning):
            items = result if isinstance(result, list) else [result]
            return response_model(Any)(ok=True, result=[_stub_message(method, i) for i in items])
        options = get_args(returning) or (returning,)
        if bool in options:  # edits (Message | bool), and every method answering True
            return response_model(Any)(ok=True, result=True)
        if Message in options:
            return response_model(Any)(ok=True, result=_stub_message(method, result))
        # a read (getMe, getFile, getChatAdministrators ...): nothing was carried out that
        # could be lost, and nothing usable came back
        raise ClientDecodeError("Failed to deserialize object", exc or ValueError(), result)


def _stub_message(method: TelegramMethod[Any], result: Any) -> Message:
    """A Message standing for one that was sent but came back unreadable (message_id 0 when
    the answer does not say: nothing is linked to it, and a staff reply to it is matched by the
    code on the card instead)."""
    raw = result if isinstance(result, dict) else {}
    message_id = raw.get("message_id")
    chat_id = getattr(method, "chat_id", None)
    chat = Chat.model_construct(id=chat_id if isinstance(chat_id, int) else 0, type="private")
    return Message.model_construct(
        message_id=message_id if isinstance(message_id, int) else 0,
        date=datetime.now(UTC),
        chat=chat,
    )


class BaleReplies(BaseRequestMiddleware):
    """On Bale, thread replies by `reply_to_message_id`: the field every Bale library sends
    (aiogram's `message.reply()` sends `reply_parameters`, which Bale does not document)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Move `reply_parameters` to `reply_to_message_id` before the call goes out."""
        params = getattr(method, "reply_parameters", None)
        if isinstance(params, ReplyParameters) and hasattr(method, "reply_to_message_id"):
            method.reply_to_message_id = params.message_id
            if params.allow_sending_without_reply and hasattr(
                method, "allow_sending_without_reply"
            ):
                method.allow_sending_without_reply = True
            method.reply_parameters = None  # type: ignore[attr-defined]
        return await make_request(bot, method)


CALLBACK_GONE_MARKERS = ("query is too old", "query id is invalid", "query_id_invalid")


class ForgivingCallbackAnswers(BaseRequestMiddleware):
    """An update handled again after a crash answers its button press again; the platform
    refuses the second answer ("query is too old"). The spinner stopped long ago, so that
    refusal must not cut the handler short before it does the work the press asked for."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Answer the callback; a stale one counts as answered."""
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, AnswerCallbackQuery) or not any(
                m in exc.message.lower() for m in CALLBACK_GONE_MARKERS
            ):
                raise
            log.info("a button press was answered before (%s); going on", exc.message[:80])
            return response_model(Any)(ok=True, result=True)
