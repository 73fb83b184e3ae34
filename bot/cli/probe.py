"""`python -m bot probe telegram|bale --chat ADMIN_CHAT_ID [--out FILE]`: ask the real Bot API.

Run once from the production network with the real token, before launch and whenever Bale
changes. It makes real calls with raw aiohttp (not aiogram's models: we want the answers as they
come), writes every answer to a JSON file with the token and people's data scrubbed, and prints
one screen: per step OK, or what differs from what the bot expects. Exit code 0 when every step
answered (differences included), 1 when the token was refused or the API could not be reached,
2 for a usage mistake or no token for that platform.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import ValidationError

from bot.cli.drafts import _Parser
from bot.config import SettingsError, load_settings
from bot.runtime.boundary import json_body
from bot.ui import texts
from desk.model import Platform

TIMEOUT = 20.0
BODY_LIMIT = 2000
PROBE_TEXT = f"probe: a test message from the front office; it may be deleted. {texts.PROBE_NOTE}"
DOCUMENT = b"front office probe\n" + bytes(range(32, 127)) + b"\n"
KEYBOARD_A = {"inline_keyboard": [[{"text": "A", "callback_data": "probe:a"}]]}
KEYBOARD_B = {
    "inline_keyboard": [
        [
            {"text": "B1", "callback_data": "probe:b1"},
            {"text": "B2", "callback_data": "probe:b2"},
        ]
    ]
}
# Keys whose values say who someone is; ids are mapped to stable numbers, the rest to tags.
ID_KEYS = frozenset({"id", "user_id", "chat_id", "sender_chat_id", "from_chat_id"})
PERSON_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "username",
        "title",
        "phone_number",
        "custom_title",
        "invite_link",
        "bio",
        "vcard",
        "ip_address",
    }
)
FILE_KEYS = frozenset({"file_id", "file_unique_id", "file_path", "thumb_file_id"})


class ProbeUsageError(Exception):
    """A wrong argument or a missing token: one line on stderr, exit code 2."""


@dataclass
class Step:
    """One call of the probe: what was asked and the raw answer."""

    name: str
    method: str
    url: str
    request: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    content_type: str | None = None
    body: Any = None
    elapsed_ms: int | None = None
    error: str | None = None  # no HTTP answer (timeout, connection) or the step was skipped
    raw: str | None = None  # the answer's text, for the project's repair + aiogram check
    data: bytes | None = None  # a download's bytes
    verdict: str = ""

    @property
    def ok(self) -> bool:
        """The answer is JSON with ok: true."""
        return isinstance(self.body, dict) and self.body.get("ok") is True

    @property
    def result(self) -> Any:
        """The `result` of an ok answer, else None."""
        return self.body.get("result") if self.ok else None

    def record(self) -> dict[str, Any]:
        """The step as written to the file (before scrubbing)."""
        return {
            "step": self.name,
            "method": self.method,
            "url": self.url,
            "request": self.request,
            "status": self.status,
            "content_type": self.content_type,
            "body": self.body,
            "elapsed_ms": self.elapsed_ms,
            "error": self.error,
            "verdict": self.verdict,
        }


# ----------------------------------------------------------------------------- calling


class Client:
    """Raw Bot API calls for one token; every call becomes a Step, never an exception."""

    def __init__(
        self, session: aiohttp.ClientSession, api_url: str, token: str, proxy: str | None
    ) -> None:
        self.session, self.api_url, self.token, self.proxy = session, api_url, token, proxy

    def _url(self, method: str) -> str:
        return f"{self.api_url}/bot{self.token}/{method}"

    def _safe(self, text: str) -> str:
        # an aiohttp error names the URL, token included
        return text.replace(self.token, "<token>")

    async def call(
        self,
        name: str,
        method: str,
        params: dict[str, Any] | None = None,
        upload: tuple[str, str, bytes] | None = None,
    ) -> Step:
        """POST one method (JSON as the bot sends it, or multipart when uploading); record
        whatever comes back."""
        params = params or {}
        step = Step(name, method, self._safe(self._url(method)), dict(params))
        kwargs: dict[str, Any] = {"data": json_body(params)}
        if upload is not None:
            form = aiohttp.FormData()
            for key, value in params.items():
                form.add_field(key, value if isinstance(value, str) else json.dumps(value))
            field_name, file_name, content = upload
            form.add_field(field_name, content, filename=file_name, content_type="text/plain")
            kwargs = {"data": form}
            step.request[field_name] = f"<upload {file_name}, {len(content)} bytes>"
        await self._send(step, "POST", self._url(method), kwargs)
        return step

    async def download(self, name: str, file_path: str) -> Step:
        """GET a file from {api_url}/file/bot{token}/{file_path}."""
        url = f"{self.api_url}/file/bot{self.token}/{file_path}"
        step = Step(name, "download", self._safe(url), {"file_path": file_path})
        await self._send(step, "GET", url, {}, binary=True)
        return step

    async def _send(
        self, step: Step, verb: str, url: str, kwargs: dict[str, Any], binary: bool = False
    ) -> None:
        started = time.monotonic()
        try:
            async with self.session.request(
                verb,
                url,
                proxy=self.proxy,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                **kwargs,
            ) as response:
                content = await response.read()
                step.status = response.status
                step.content_type = response.content_type
        except TimeoutError:
            step.error = f"timeout after {TIMEOUT:.0f} s"
        except aiohttp.ClientError as exc:
            step.error = self._safe(f"{type(exc).__name__}: {exc}")[:300]
        step.elapsed_ms = round((time.monotonic() - started) * 1000)
        if step.error is not None:
            return
        text = content.decode("utf-8", errors="replace")
        try:
            step.body = json.loads(text)
            step.raw = text
        except ValueError:
            step.body = self._safe(text[:BODY_LIMIT])
            if binary:
                step.data = content


def skipped(name: str, method: str, why: str) -> Step:
    """A step that could not run because an earlier one gave nothing to work on."""
    return Step(name, method, "", error=f"skipped: {why}")


async def run_steps(client: Client, chat_id: int | str) -> list[Step]:
    """The probe's calls, in order; a failing step is recorded and the next ones go on."""
    steps: list[Step] = []
    me = await client.call("getMe", "getMe")
    steps.append(me)
    if refused(me) or me.status is None:
        return steps  # nothing else can work: wrong token, or no route to the API
    steps.append(await client.call("getWebhookInfo", "getWebhookInfo"))
    sent = await client.call("sendMessage", "sendMessage", {"chat_id": chat_id, "text": PROBE_TEXT})
    steps.append(sent)
    message_id = _message_id(sent)
    if message_id is None:
        steps.append(skipped("editMessageText", "editMessageText", "sendMessage gave no message"))
        steps.append(skipped("reply", "sendMessage", "sendMessage gave no message"))
    else:
        edit = {"chat_id": chat_id, "message_id": message_id, "text": PROBE_TEXT + " (edited)"}
        steps.append(await client.call("editMessageText", "editMessageText", edit))
        # reply_to_message_id, not reply_parameters: the way Bale client libraries thread
        reply = {"chat_id": chat_id, "text": "probe: a reply", "reply_to_message_id": message_id}
        steps.append(await client.call("reply", "sendMessage", reply))
    keyboard = {"chat_id": chat_id, "text": "probe: a keyboard", "reply_markup": KEYBOARD_A}
    with_keyboard = await client.call("sendKeyboard", "sendMessage", keyboard)
    steps.append(with_keyboard)
    keyboard_id = _message_id(with_keyboard)
    if keyboard_id is None:
        steps.append(
            skipped("editMessageReplyMarkup", "editMessageReplyMarkup", "no keyboard message")
        )
    else:
        markup = {"chat_id": chat_id, "message_id": keyboard_id, "reply_markup": KEYBOARD_B}
        steps.append(await client.call("editMessageReplyMarkup", "editMessageReplyMarkup", markup))
    admins = {"chat_id": chat_id}
    steps.append(await client.call("getChatAdministrators", "getChatAdministrators", admins))
    document = await client.call(
        "sendDocument",
        "sendDocument",
        {"chat_id": chat_id, "caption": "probe: a small text file"},
        upload=("document", "probe.txt", DOCUMENT),
    )
    steps.append(document)
    file_id = _dig(document.result, "document", "file_id")
    if not isinstance(file_id, str):
        steps.append(skipped("getFile", "getFile", "sendDocument gave no file_id"))
        steps.append(skipped("download", "download", "no file_path"))
    else:
        got = await client.call("getFile", "getFile", {"file_id": file_id})
        steps.append(got)
        file_path = _dig(got.result, "file_path")
        if isinstance(file_path, str) and file_path:
            steps.append(await client.download("download", file_path))
        else:
            steps.append(skipped("download", "download", "getFile gave no file_path"))
    # deliberately malformed: an empty text, to see the shape of an error answer
    steps.append(await client.call("error", "sendMessage", {"chat_id": chat_id, "text": ""}))
    return steps


def refused(step: Step) -> bool:
    """getMe says the token is not accepted.

    Telegram answers 401; Bale has been seen answering 403 "Bad Request: Token not found"
    (sepehr071/bale-mcp tests, python-bale-bot's TOKEN_NOT_FOUND) and 404 "Not Found"."""
    description = str(step.body.get("description", "")) if isinstance(step.body, dict) else ""
    if step.status == 401 or "token not found" in description.lower():
        return True
    return step.method == "getMe" and step.status == 404


def _message_id(step: Step) -> int | None:
    value = _dig(step.result, "message_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# ----------------------------------------------------------------------------- expectations

Check = Callable[[Step, dict[str, Step]], tuple[bool, str]]


def _keys_missing(obj: Any, keys: tuple[str, ...]) -> list[str]:
    if not isinstance(obj, dict):
        return list(keys)
    return [k for k in keys if k not in obj]


def _check_get_me(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """getMe: a User with id, is_bot, first_name, username."""
    missing = _keys_missing(step.result, ("id", "is_bot", "first_name", "username"))
    return (False, f"result lacks {', '.join(missing)}") if missing else (True, "")


def _check_webhook(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """getWebhookInfo: an empty url, or polling (the bot's way) gets nothing."""
    url = _dig(step.result, "url")
    if not isinstance(step.result, dict):
        return False, "result is not a WebhookInfo object"
    if url:
        return False, "a webhook is set: getUpdates will not work until deleteWebhook"
    return True, f"no webhook, {_dig(step.result, 'pending_update_count')} pending updates"


def _check_message(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """A sent Message: message_id (int), date, chat with id and type, text; the text as sent
    (Persian in a UTF-8 JSON body, as the bot sends every call)."""
    result = step.result
    problems = []
    if not isinstance(_dig(result, "message_id"), int):
        problems.append("no int message_id")
    problems += [f"no {k}" for k in _keys_missing(result, ("date", "chat", "text"))]
    sent, echoed = step.request.get("text"), _dig(result, "text")
    if isinstance(sent, str) and isinstance(echoed, str) and echoed != sent:
        problems.append("the text came back changed (not read as UTF-8?)")
    chat = _dig(result, "chat")
    if isinstance(chat, dict):
        if "id" not in chat:
            problems.append("no chat.id")
        if "type" not in chat:
            problems.append("no chat.type (the bot infers it)")
    return not problems, "; ".join(problems)


def _edit_shape(step: Step) -> str:
    result = step.result
    if result is True:
        return "true"
    if result is None:
        return "null"
    if isinstance(result, dict):
        if result.get("message_id") == 0 or ("text" not in result and "caption" not in result):
            return f"a stub {{{', '.join(sorted(result))}}}"
        return "a full Message"
    return f"a {type(result).__name__}"


def _check_edit(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """An edit: any ok answer is success to the bot; say which shape it was."""
    return True, f"answered {_edit_shape(step)}"


def _check_reply(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """The reply: a Message with reply_to_message (threading works)."""
    ok, problems = _check_message(step, steps)
    replied = _dig(step.result, "reply_to_message", "message_id")
    if replied is None:
        return False, "; ".join(p for p in ("replies are not threaded (no reply_to_message)",
                                             problems) if p)  # fmt: skip
    original = _message_id(steps["sendMessage"]) if "sendMessage" in steps else None
    if original is not None and replied != original:
        return False, f"reply_to_message is {replied}, not the message replied to"
    return ok, problems or "threaded"


def _check_admins(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """getChatAdministrators: a list of ChatMember with status and user.id."""
    result = step.result
    if not isinstance(result, list):
        return False, "result is not a list"
    bad = [
        m for m in result if not (isinstance(m, dict) and "status" in m and _dig(m, "user", "id"))
    ]
    if bad:
        return False, f"{len(bad)} of {len(result)} lack status or user.id"
    return True, f"{len(result)} administrators"


def _check_document(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """sendDocument: result.document with file_id; say whether file_unique_id came."""
    document = _dig(step.result, "document")
    if not isinstance(document, dict) or "file_id" not in document:
        return False, "no result.document.file_id"
    if "file_unique_id" not in document:
        # aiogram's Document requires it; whether the project's repair fills it in shows in
        # the aiogram check that follows
        return True, "no file_unique_id (the bot fills it from file_id)"
    return True, "file_unique_id present"


def _check_get_file(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """getFile: file_path present."""
    if not _dig(step.result, "file_path"):
        return False, "no result.file_path"
    return True, ""


def _check_download(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """The download: the bytes sent with sendDocument come back."""
    if step.status != 200 or step.data is None:
        return False, f"HTTP {step.status}, {step.content_type}: not the file"
    if step.data != DOCUMENT:
        return False, f"{len(step.data)} bytes that differ from the {len(DOCUMENT)} sent"
    return True, f"{len(step.data)} bytes, equal"


def _check_error(step: Step, steps: dict[str, Step]) -> tuple[bool, str]:
    """The malformed call: JSON with ok=false, error_code, description."""
    body = step.body
    if not isinstance(body, dict):
        return False, f"HTTP {step.status}, not JSON ({step.content_type})"
    if body.get("ok") is not False:
        return False, "the empty text was accepted (ok is not false)"
    missing = _keys_missing(body, ("error_code", "description"))
    if missing:
        return False, f"error answer lacks {', '.join(missing)}"
    return True, f"HTTP {step.status}: {str(body['description'])[:60]}"


# One table: step name -> (what the bot expects, the check). Message-like answers are also
# parsed the bot's way (the project's repair, then aiogram's Message), see aiogram_problems.
EXPECTATIONS: dict[str, tuple[str, Check]] = {
    "getMe": ("result has id, is_bot, first_name, username", _check_get_me),
    "getWebhookInfo": ("no webhook set (the bot polls)", _check_webhook),
    "sendMessage": (
        "a Message: message_id, date, chat.id, chat.type, the Persian text as sent",
        _check_message,
    ),
    "editMessageText": ("a Message, true, a stub or null: all fine", _check_edit),
    "reply": ("a Message with reply_to_message", _check_reply),
    "sendKeyboard": ("a Message (with an inline keyboard)", _check_message),
    "editMessageReplyMarkup": ("a Message, true, a stub or null: all fine", _check_edit),
    "getChatAdministrators": ("a list of ChatMember with status and user.id", _check_admins),
    "sendDocument": ("result.document.file_id (file_unique_id optional)", _check_document),
    "getFile": ("result.file_path", _check_get_file),
    "download": ("the uploaded bytes", _check_download),
    "error": ("JSON: ok=false, error_code, description", _check_error),
}
MESSAGE_STEPS = frozenset(
    {"sendMessage", "editMessageText", "reply", "sendKeyboard", "editMessageReplyMarkup",
     "sendDocument"}
)  # fmt: skip


def aiogram_problems(step: Step) -> list[str]:
    """Fields aiogram's Message rejects after the project's repair: what the bot would choke on."""
    if step.raw is None or not isinstance(step.result, dict):
        return []
    from aiogram.types import Message

    from bot.runtime.platforms import repairing_json_loads

    repaired = repairing_json_loads(step.raw)
    try:
        Message.model_validate(repaired["result"])
    except ValidationError as exc:
        return sorted({".".join(map(str, e["loc"][:4])) for e in exc.errors()})
    return []


def judge(steps: list[Step]) -> None:
    """Fill each step's verdict: OK, OK with a note, or what differs."""
    by_name = {s.name: s for s in steps}
    for step in steps:
        if step.error is not None:
            step.verdict = f"FAIL {step.error}"
            continue
        expected = EXPECTATIONS.get(step.name)
        if step.name not in {"error", "download"} and not step.ok:
            description = _dig(step.body, "description") if isinstance(step.body, dict) else None
            kind = "" if isinstance(step.body, dict) else ", not JSON"
            step.verdict = f"FAIL HTTP {step.status}{kind}: {str(description or step.body)[:70]}"
            continue
        if expected is None:
            step.verdict = "OK"
            continue
        good, note = expected[1](step, by_name)
        # an edit answered with a stub, true or null is a success to the bot
        # (bot/runtime/boundary.py): only a full Message is worth parsing as one
        partial_edit = step.name.startswith("edit") and _edit_shape(step) != "a full Message"
        if step.name in MESSAGE_STEPS and not partial_edit:
            rejected = aiogram_problems(step)
            if rejected:
                good = False
                note = "; ".join(p for p in (note, f"aiogram rejects {', '.join(rejected)}") if p)
        step.verdict = ("OK" if good else "DIFF") + (f" {note}" if note else "")


# ----------------------------------------------------------------------------- scrubbing


def _length_class(text: str) -> str:
    """A coarse length, so placeholders keep how long the real value was."""
    n = len(text)
    return "short" if n <= 16 else "medium" if n <= 64 else "long" if n <= 256 else "huge"


class Scrubber:
    """Replaces the token, ids, names and file references with stable placeholders.

    Every key stays and every value keeps its JSON type, so shapes can be compared."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.ids: dict[int, int] = {}
        self.tags: dict[tuple[str, str], str] = {}

    def _id(self, value: int) -> int:
        if value not in self.ids:
            # first seen id -> 1001, next 1002 ...; the sign stays (a group stays negative)
            self.ids[value] = (len(self.ids) + 1001) * (-1 if value < 0 else 1)
        return self.ids[value]

    def _tag(self, key: str, value: str) -> str:
        kind = "file_id" if key == "thumb_file_id" else key
        if (kind, value) not in self.tags:
            n = sum(1 for k, _ in self.tags if k == kind) + 1
            suffix = f":{_length_class(value)}" if key in FILE_KEYS else ""
            self.tags[(kind, value)] = f"<{kind}:{n}{suffix}>"
        return self.tags[(kind, value)]

    def scrub(self, value: Any, key: str | None = None) -> Any:
        """A scrubbed copy of a JSON value found under `key`."""
        if isinstance(value, dict):
            return {k: self.scrub(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v, key) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int) and key in ID_KEYS:
            return self._id(value)
        if isinstance(value, str):
            text = value.replace(self.token, "<token>")
            if key in ID_KEYS and text.lstrip("-").isdigit():
                return str(self._id(int(text)))
            if key in PERSON_KEYS or key in FILE_KEYS:
                return self._tag(key, text) if text else text
            return text
        return value

    def url(self, url: str, file_path: str | None) -> str:
        """A step's URL with the token (already masked) and a file path replaced."""
        url = url.replace(self.token, "<token>")
        if file_path:
            url = url.replace(file_path, self._tag("file_path", file_path))
        return url


def scrubbed_records(steps: list[Step], token: str) -> list[dict[str, Any]]:
    """The steps as written to the file: nothing that names a person, a chat or the token."""
    scrubber = Scrubber(token)
    out = []
    for step in steps:
        record = scrubber.scrub(step.record())
        record["url"] = scrubber.url(step.url, step.request.get("file_path"))
        out.append(record)
    return out


# ----------------------------------------------------------------------------- running


def _proxy(settings: Any, platform: Platform) -> tuple[str | None, aiohttp.BaseConnector | None]:
    """The platform's proxy from settings (when the settings have one)."""
    value = getattr(settings, f"{platform.value}_proxy", None)
    if value is None:
        return None, None
    proxy = str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)
    if not proxy:
        return None, None
    if proxy.startswith(("socks4", "socks5")):
        try:
            # imported by name: an optional dependency, typed or not, installed or not
            socks: Any = importlib.import_module("aiohttp_socks")
        except ImportError:
            raise ProbeUsageError(
                f"{platform.value.upper()}_PROXY is a socks proxy but aiohttp_socks is not "
                "installed (pip install aiohttp-socks): probe skipped"
            ) from None
        connector: aiohttp.BaseConnector = socks.ProxyConnector.from_url(proxy)
        return None, connector
    return proxy, None


async def probe(
    platform: Platform,
    token: str,
    api_url: str,
    chat_id: int | str,
    proxy: str | None = None,
    connector: aiohttp.BaseConnector | None = None,
) -> list[Step]:
    """Run every step against one platform's API and judge the answers."""
    async with aiohttp.ClientSession(connector=connector) as session:
        steps = await run_steps(Client(session, api_url.rstrip("/"), token, proxy), chat_id)
    judge(steps)
    return steps


def screen(platform: Platform, steps: list[Step], out: Path) -> list[str]:
    """The lines to print: one per step, then where the file is."""
    lines = [f"probe {platform.value}: {len(steps)} steps, raw answers in {out}"]
    for step in steps:
        ms = f"{step.elapsed_ms:>5} ms" if step.elapsed_ms is not None else "       -"
        lines.append(f"{step.name:<23}{ms}  {step.verdict}"[:160])
    return lines


def write(path: Path, platform: Platform, steps: list[Step], token: str) -> None:
    """Write the scrubbed answers as JSON."""
    document = {
        "probe": platform.value,
        "written": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "steps": scrubbed_records(steps, token),
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    path.write_text(text.replace(token, "<token>") + "\n", encoding="utf-8")


def build_parser() -> argparse.ArgumentParser:
    """The `probe` command line."""
    parser = _Parser(
        prog="python -m bot probe",
        description="Call the real Bot API once per method the bot relies on and report "
        "how the answers differ from what the bot expects (real messages are sent to --chat).",
    )
    parser.add_argument("platform", choices=[p.value for p in Platform])
    parser.add_argument("--chat", required=True, help="the admin chat id to send test messages to")
    parser.add_argument(
        "--out", type=Path, help="the JSON file (default probe-<platform>-<UTC>.json)"
    )
    return parser


def _chat_id(text: str) -> int | str:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.startswith("@") and len(text) > 1:
        return text
    raise ProbeUsageError(f"--chat must be a chat id (digits, may start with -), not {text!r}")


def main(argv: list[str]) -> int:
    """`python -m bot probe ...`; returns the exit code."""
    args = build_parser().parse_args(argv)
    platform = Platform(args.platform)
    try:
        chat_id = _chat_id(args.chat)
        settings = load_settings()
        token = settings.tokens().get(platform)
        if not token:
            raise ProbeUsageError(
                f"no token for {platform.value}: set {platform.value.upper()}_BOT_TOKEN"
            )
        proxy, connector = _proxy(settings, platform)
    except (SettingsError, ProbeUsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out: Path = args.out or Path(f"probe-{platform.value}-{stamp}.json")
    steps = asyncio.run(
        probe(platform, token, settings.api_url(platform), chat_id, proxy, connector)
    )
    try:
        write(out, platform, steps, token)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    me = steps[0]
    if refused(me):
        description = _dig(me.body, "description") if isinstance(me.body, dict) else me.body
        print(f"probe {platform.value}: the token was refused (HTTP {me.status}: "
              f"{str(description)[:80]}); raw answer in {out}")  # fmt: skip
        return 1
    if me.status is None:
        print(f"probe {platform.value}: {settings.api_url(platform)} could not be reached "
              f"({me.error}); raw answer in {out}")  # fmt: skip
        return 1
    print("\n".join(screen(platform, steps, out)))
    return 0
