"""`python -m bot probe`: run against the fake Bot API (Bale flavour), as a function and as the
operator's command; the written file is scrubbed, the screen says OK where the fake answers
as the bot expects, and the fake's answers have the shape of the committed Bale sample."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli.probe import (
    EXPECTATIONS,
    PROBE_TEXT,
    Scrubber,
    Step,
    judge,
    probe,
    screen,
    write,
)
from desk.model import Platform
from tests.e2e.conftest import ROOT
from tests.e2e.helpers import run_main
from tests.fakebotapi import FakeBot, FakeBotAPI

TOKEN = "7345123:probe-secret-token-XYZ"
CHAT = -4009876543
TITLE = "مدیران استان آزمایشی"
BOT_NAME = "probe_secret_bot"
SAMPLE = ROOT / "tests" / "data" / "bale_answers.json"
EDITS = ("editMessageText", "editMessageReplyMarkup")


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeBotAPI, FakeBot]]:
    """A started fake server with one Bale bot and its admin group."""
    server = FakeBotAPI()
    bot = server.add_bot(TOKEN, "bale", username=BOT_NAME)
    bot.group_chat(CHAT, TITLE)
    await server.start()
    try:
        yield server, bot
    finally:
        await server.stop()


def serves(bot: FakeBot, method: str) -> bool:
    """The fake implements this method (another branch may add more)."""
    return method in bot.handlers


def shape(value: Any) -> Any:
    """The shape of a JSON value: dict -> {key: shape}, list -> [shape of first], else type."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "null" if value is None else type(value).__name__


def kind(value: Any) -> str:
    """The JSON kind at one path: dict, list, or the scalar's type name."""
    found = shape(value)
    return "dict" if isinstance(found, dict) else "list" if isinstance(found, list) else found


def edit_kind(result: Any) -> str:
    """What an edit answered: true, null, dict (a Message or a stub), or another type."""
    if result is True:
        return "true"
    return kind(result)


def verdict_of(line: str) -> str:
    """The verdict column of a screen line (name 23 wide, elapsed 8, two spaces)."""
    return line[33:]


def at(body: Any, path: str) -> list[Any]:
    """The values at a dotted path (`[]` = every list item); [] when the path is absent."""
    values = [body]
    for part in path.split("."):
        name, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        values = [v[name] for v in values if isinstance(v, dict) and name in v]
        if each:
            values = [item for v in values if isinstance(v, list) for item in v]
    return values


def shape_differences(sample: dict[str, Any], answer: Any) -> list[str]:
    """Required paths of a sample step whose kind differs in (or is missing from) an answer."""
    problems = []
    for path in sample["required"]:
        expected = {kind(v) for v in at(sample["body"], path)}
        got = {kind(v) for v in at(answer, path)}
        if not got:
            problems.append(f"{path}: missing (sample: {sorted(expected)})")
        elif got != expected:
            problems.append(f"{path}: {sorted(got)}, sample {sorted(expected)}")
    return problems


def probe_files(directory: Path) -> list[Path]:
    """The probe files written into a directory (by the default name)."""
    return sorted(directory.glob("probe-*.json"))


def load(path: Path) -> dict[str, Any]:
    """A probe file."""
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def assert_scrubbed(text: str) -> None:
    """No token, no real id, no name of the fake's bot or chat in a written file."""
    for secret in (TOKEN, TOKEN.split(":")[1], "7345123", str(abs(CHAT)), TITLE, BOT_NAME):
        assert secret not in text, f"{secret!r} leaked into the probe file"


async def test_probe_against_the_fake_writes_scrubbed_answers_and_says_ok(
    fake: tuple[FakeBotAPI, FakeBot], tmp_path: Path
) -> None:
    api, bot = fake
    steps = await probe(Platform.BALE, TOKEN, api.base_url, CHAT)
    out = tmp_path / "probe.json"
    write(out, Platform.BALE, steps, TOKEN)
    text = out.read_text(encoding="utf-8")
    written = load(out)

    # (a) every step, in order, with the token, ids and names scrubbed but the shapes kept
    assert [s["step"] for s in written["steps"]] == list(EXPECTATIONS)
    assert_scrubbed(text)
    by_name = {s["step"]: s for s in written["steps"]}
    sent = by_name["sendMessage"]
    assert sent["body"]["result"]["chat"] == {"id": -1002, "type": "group", "title": "<title:1>"}
    assert sent["request"]["chat_id"] == -1002  # the same placeholder where the id was sent
    assert by_name["getMe"]["body"]["result"]["id"] == 1001
    document = by_name["sendDocument"]["body"]["result"]["document"]
    assert document["file_id"].startswith("<file_id:1:")
    assert by_name["getFile"]["request"]["file_id"] == document["file_id"]
    file_path = by_name["getFile"]["body"]["result"]["file_path"]
    assert by_name["download"]["url"].endswith(f"/file/bot<token>/{file_path}")
    for record in written["steps"]:
        assert set(record) >= {"method", "status", "content_type", "body", "elapsed_ms"}

    # (b) the screen: OK where the fake answers as the bot expects
    lines = screen(Platform.BALE, steps, out)
    assert len(lines) <= 25
    verdicts = {line.split()[0]: verdict_of(line) for line in lines[1:]}
    for name in EXPECTATIONS:
        if name == "getChatAdministrators" and not serves(bot, "getChatAdministrators"):
            assert verdicts[name].startswith("FAIL HTTP 404"), verdicts[name]
        else:
            assert verdicts[name].split()[0] == "OK", (name, verdicts[name])
    for name in EDITS:  # the fake's Bale flavour answers an edit with Bale's stub
        assert verdicts[name] == "OK answered a stub {message_id}"
    assert "threaded" in verdicts["reply"]
    assert "equal" in verdicts["download"]
    # the fake flags only the probe's deliberate mistake and a method it lacks
    lacking = [] if serves(bot, "getChatAdministrators") else ["getChatAdministrators"]
    assert bot.violations == [f"{m}: method not found (bale)" for m in lacking] + [
        "sendMessage: Bad Request: message text is empty"
    ]

    # (c) the fake's Bale answers have the shape the public evidence shows for Bale
    sample = load(SAMPLE)
    for expected in sample["steps"]:
        name = expected["step"]
        answer = by_name[name]["body"]
        if not serves(bot, expected["method"]):
            assert by_name[name]["status"] == 404
            continue
        assert shape_differences(expected, answer) == [], name
        if name in EDITS:
            accepted = expected["result_kinds_accepted"]
            assert edit_kind(answer["result"]) in accepted, (name, answer["result"])


def test_shape_comparison_fails_on_a_missing_or_retyped_key() -> None:
    sample = next(s for s in load(SAMPLE)["steps"] if s["step"] == "sendMessage")
    answer = json.loads(json.dumps(sample["body"]))
    assert shape_differences(sample, answer) == []
    answer["result"]["extra"] = {"fine": True}  # extra keys are allowed
    assert shape_differences(sample, answer) == []
    del answer["result"]["chat"]["type"]
    answer["result"]["message_id"] = "8"
    assert shape_differences(sample, answer) == [
        "result.message_id: ['str'], sample ['int']",
        "result.chat.type: missing (sample: ['str'])",
    ]
    admins = next(s for s in load(SAMPLE)["steps"] if s["step"] == "getChatAdministrators")
    no_user = {"ok": True, "result": [{"status": "creator"}]}
    assert "result[].user.id: missing (sample: ['int'])" in shape_differences(admins, no_user)
    assert shape({"a": [1, "x"], "b": None}) == {"a": ["int"], "b": "null"}


def test_sample_names_a_source_for_every_step_and_variant() -> None:
    sample = load(SAMPLE)
    names = [s["step"] for s in sample["steps"]]
    wanted = ["getMe", "sendMessage", "editMessageText", "reply", "getChatAdministrators",
              "sendDocument", "getFile", "error"]  # fmt: skip
    assert set(wanted) <= set(names)
    for step in sample["steps"]:
        assert step["source"].strip() and step["required"], step["step"]
        for variant in step.get("variants", []):
            assert variant["source"].strip() and "body" in variant
        assert_scrubbed(json.dumps(step, ensure_ascii=False))


def test_scrubber_keeps_keys_types_and_signs() -> None:
    scrubber = Scrubber(TOKEN)
    answer = {
        "ok": True,
        "result": [
            {"user": {"id": 555, "first_name": "Ali", "last_name": "R", "is_bot": False},
             "status": "creator"},
            {"user": {"id": 555, "username": "ali_r"}, "chat": {"id": -100777, "title": "X"}},
            {"file_id": "F" * 70, "file_unique_id": "u1", "file_path": "", "note": TOKEN},
            {"chat_id": "-100777", "phone_number": "+989121234567", "message_id": 5},
        ],
    }  # fmt: skip
    out = scrubber.scrub(answer)
    assert out["result"][0]["user"] == {
        "id": 1001, "first_name": "<first_name:1>", "last_name": "<last_name:1>", "is_bot": False
    }  # fmt: skip
    assert out["result"][1]["user"]["id"] == 1001  # the same person, the same placeholder
    assert out["result"][1]["chat"] == {"id": -1002, "title": "<title:1>"}
    assert out["result"][2] == {
        "file_id": "<file_id:1:long>",  # 70 characters: "long" (65-256)
        "file_unique_id": "<file_unique_id:1:short>",
        "file_path": "",
        "note": "<token>",
    }
    assert out["result"][3] == {"chat_id": "-1002", "phone_number": "<phone_number:1>",
                                "message_id": 5}  # fmt: skip
    assert shape(out) == shape(answer)


def test_judge_reports_what_aiogram_would_reject() -> None:
    raw = json.dumps({"ok": True, "result": {"message_id": 3, "chat": {"id": 1}, "text": "x",
                                             "date": "yesterday"}})  # fmt: skip
    step = Step("sendMessage", "sendMessage", "", status=200, body=json.loads(raw), raw=raw)
    judge([step])
    assert step.verdict.startswith("DIFF no chat.type (the bot infers it)")
    assert "aiogram rejects date" in step.verdict  # the repair fills chat.type, not a bad date
    stub = json.dumps({"ok": True, "result": {"message_id": 0, "date": 1, "chat": {"id": 1}}})
    edit = Step("editMessageText", "editMessageText", "", status=200, raw=stub)
    edit.body = json.loads(stub)
    missing = Step("error", "sendMessage", "", status=502, body="<html>bad gateway</html>")
    judge([edit, missing])
    assert edit.verdict == "OK answered a stub {chat, date, message_id}"
    assert missing.verdict.startswith("DIFF HTTP 502, not JSON")


def test_a_document_without_file_unique_id_is_reported() -> None:
    raw = json.dumps(
        {
            "ok": True,
            "result": {
                "message_id": 4,
                "date": 1,
                "chat": {"id": 1, "type": "group"},
                "document": {"file_id": "BQACAgQAAx0"},
            },
        }
    )
    step = Step("sendDocument", "sendDocument", "", status=200, raw=raw)
    step.body = json.loads(raw)
    judge([step])
    # noted, and not a difference: bot/runtime/platforms.py's repair fills it from file_id
    assert step.verdict == "OK no file_unique_id (the bot fills it from file_id)"


def test_a_persian_text_that_comes_back_changed_is_reported() -> None:
    """The probe's message carries Persian in a UTF-8 JSON body, as the bot sends every call:
    a platform that read the bytes otherwise echoes another text, and that is a difference."""
    sent = {"chat_id": 5, "text": PROBE_TEXT}
    assert "پیشخوان" in PROBE_TEXT
    for echoed, verdict in ((PROBE_TEXT, "OK"), ("Ø¯Ù\u0081ØªØ±", "DIFF")):
        message = {"message_id": 4, "date": 1, "chat": {"id": 5, "type": "private"}}
        raw = json.dumps({"ok": True, "result": {**message, "text": echoed}})
        step = Step("sendMessage", "sendMessage", "", dict(sent), status=200, raw=raw)
        step.body = json.loads(raw)
        judge([step])
        assert step.verdict.startswith(verdict), step.verdict
    assert "the text came back changed" in step.verdict


def env_for(api: FakeBotAPI, **extra: str) -> dict[str, str]:
    """The operator's environment: the worktree's code, the fake's URL, a Bale token."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    env.update(PYTHONPATH=str(ROOT), BALE_API_URL=api.base_url, TELEGRAM_API_URL=api.base_url)
    env.update(extra)
    return env


async def run(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`python -m bot probe ...` in a clean directory (its `main`, in-process); (exit code,
    stdout, stderr)."""
    return await run_main(["probe", *args], cwd=tmp_path, env=env)


async def test_command_line_probe_of_bale(fake: tuple[FakeBotAPI, FakeBot], tmp_path: Path) -> None:
    api, bot = fake
    out = tmp_path / "bale.json"
    code, stdout, stderr = await run(
        tmp_path, env_for(api, BALE_BOT_TOKEN=TOKEN), "bale", "--chat", str(CHAT), "--out", str(out)
    )
    assert code == 0, stderr
    assert TOKEN not in stdout + stderr
    lines = stdout.strip().splitlines()
    assert len(lines) <= 25 and lines[0].startswith("probe bale: 12 steps")
    assert all(" OK" in line for line in lines[1:] if not line.startswith("getChatAdministrators"))
    assert_scrubbed(out.read_text(encoding="utf-8"))
    assert [m for m, _ in bot.calls][:3] == ["getMe", "getWebhookInfo", "sendMessage"]


async def test_refused_token_is_exit_1_and_one_line(
    fake: tuple[FakeBotAPI, FakeBot], tmp_path: Path
) -> None:
    api, _ = fake
    unknown = "999999:not-a-registered-token"
    code, stdout, stderr = await run(
        tmp_path, env_for(api, BALE_BOT_TOKEN=unknown), "bale", "--chat", str(CHAT)
    )
    assert code == 1
    assert stdout.strip().count("\n") == 0 and "token was refused (HTTP 401" in stdout
    assert unknown not in stdout + stderr
    written = probe_files(tmp_path)
    assert len(written) == 1
    assert [s["step"] for s in load(written[0])["steps"]] == ["getMe"]


async def test_unreachable_api_is_exit_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    env.update(
        PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9"
    )
    code, stdout, _ = await run(tmp_path, env, "telegram", "--chat", "5")
    assert code == 1 and "could not be reached" in stdout and stdout.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "token", "says"),
    [
        (["bale", "--chat", "5"], "", "no token for bale: set BALE_BOT_TOKEN"),
        (["viber", "--chat", "5"], TOKEN, "invalid choice"),
        (["bale"], TOKEN, "--chat"),
        (["bale", "--chat", "admins"], TOKEN, "--chat must be a chat id"),
    ],
)
async def test_usage_mistakes_are_exit_2_and_one_line(
    tmp_path: Path, args: list[str], token: str, says: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    env.update(PYTHONPATH=str(ROOT), BALE_BOT_TOKEN=token)
    code, _, stderr = await run(tmp_path, env, *args)
    assert code == 2 and says in stderr, stderr
    assert stderr.strip().count("\n") == 0 and TOKEN not in stderr
    assert not probe_files(tmp_path)


def test_proxies_from_settings_when_they_have_them() -> None:
    from types import SimpleNamespace

    from bot.cli.probe import ProbeUsageError, _proxy

    assert _proxy(SimpleNamespace(), Platform.BALE) == (None, None)  # today's Settings: none
    http = SimpleNamespace(bale_proxy="http://10.0.0.5:3128", telegram_proxy=None)
    assert _proxy(http, Platform.BALE) == ("http://10.0.0.5:3128", None)
    assert _proxy(http, Platform.TELEGRAM) == (None, None)
    socks = SimpleNamespace(telegram_proxy="socks5://127.0.0.1:1080")
    try:
        import aiohttp_socks  # noqa: F401
    except ImportError:
        with pytest.raises(ProbeUsageError, match="aiohttp_socks is not installed"):
            _proxy(socks, Platform.TELEGRAM)
