"""`bot/runtime/lean_aiogram.py`: every aiogram model it defers can be built later, and is
built the same.

Each mode runs in a fresh interpreter (in this process aiogram is imported already, and the
lazy import only works before that): `lazy` as `python -m bot` imports aiogram, `eager` as
`import aiogram` does anywhere else. Both build every aiogram model still unbuilt, with no
namespace but the one each model carries (what `lean_aiogram` gave it), then report per model a
fingerprint of its JSON schema and of its validator's errors on `{}`, and how aiogram parses
updates and API answers: the Bale answers in tests/data/bale_answers.json and a few Telegram
updates. An aiogram or pydantic upgrade that breaks a lazy model fails here, not in production
at the first update that needs the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Two fresh interpreters building every aiogram model: about ten seconds of CPU, a guard for
# an aiogram or pydantic upgrade rather than for everyday changes.
pytestmark = pytest.mark.slow

PROBE = r"""
import hashlib, json, sys

mode, data = sys.argv[1], sys.argv[2]
if mode == "lazy":
    from bot.runtime.lean_aiogram import import_aiogram_lazily
    reported = import_aiogram_lazily()
else:
    import aiogram
    reported = None

from pydantic import BaseModel, ValidationError


def aiogram_models():
    found, stack = set(), [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    mine = [m for m in found if m.__module__.startswith("aiogram.")]
    return sorted(mine, key=lambda m: f"{m.__module__}.{m.__qualname__}")


def name(model):
    return f"{model.__module__}.{model.__qualname__}"


def digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


unbuilt = [m for m in aiogram_models() if not m.__pydantic_complete__]

# First use, as in a running bot: before anything else is built. The types are looked up
# here, not imported as globals: a model built on first use may see the caller's names, and
# must not resolve its forward references through this script's.
import importlib

aio = {
    "Update": importlib.import_module("aiogram.types").Update,
    "Message": importlib.import_module("aiogram.types").Message,
    "Response": importlib.import_module("aiogram.methods").Response,
}
# what aiogram's session parses a sendMessage answer with; kept (pydantic caches it weakly)
aio["Response[Message]"] = aio["Response"][aio["Message"]]


def outcome(parse):
    try:
        return ["ok", parse().model_dump(mode="json", exclude_none=True)]
    except ValidationError as exc:
        return ["invalid", sorted(f"{e['type']} {e['loc']}" for e in exc.errors())]


payloads = json.loads(open(data, encoding="utf-8").read())
parsed = {}
for index, update in enumerate(payloads["updates"]):
    parsed[f"update {index}"] = outcome(lambda: aio["Update"].model_validate(update))
for step in payloads["bale"]["steps"]:
    body = step["body"]
    result = body.get("result")
    if isinstance(result, dict) and "message_id" in result:
        parsed[f"bale {step['step']} as Response[Message]"] = outcome(
            lambda: aio["Response[Message]"].model_validate(body)
        )
        parsed[f"bale {step['step']} as Update"] = outcome(
            lambda: aio["Update"].model_validate({"update_id": 1, "message": result})
        )

# Then every model still unbuilt, with only the namespace it carries: nothing from this frame.
failed = {}
for model in unbuilt:
    try:
        model.model_rebuild(_types_namespace={})  # None if the updates above built it already
        if not model.__pydantic_complete__:
            failed[name(model)] = "not complete after model_rebuild"
    except Exception as exc:
        failed[name(model)] = f"{type(exc).__name__}: {exc}"[:300]

# What each model was built as: its JSON schema (all in one pass, sharing definitions; an
# isinstance check, as for InputFile, shown by its class) and its validator's errors on {}.
import warnings
from pydantic.json_schema import GenerateJsonSchema, models_json_schema


class Schema(GenerateJsonSchema):
    def is_instance_schema(self, schema):
        return {"instance_of": schema["cls"].__qualname__}


models = aiogram_models()
warnings.simplefilter("ignore")  # defaults JSON cannot show (aiogram's Default("parse_mode"))
refs, schemas = models_json_schema([(m, "validation") for m in models], schema_generator=Schema)
fingerprints = {}
for model in models:
    ref = refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1]
    try:
        model.model_validate({})
        errors = "valid"
    except ValidationError as exc:
        errors = digest(sorted((e["type"], e["loc"]) for e in exc.errors()))
    except TypeError as exc:  # an abstract class: validated, then refused by Python
        errors = type(exc).__name__
    fingerprints[name(model)] = [digest(schemas["$defs"][ref]), errors]


print(json.dumps({
    "reported": reported,
    "models": len(models),
    "pending": len(unbuilt),
    "failed": failed,
    "fingerprints": fingerprints,
    "parsed": parsed,
}))
"""

CHAT = {"id": 5001, "type": "private", "first_name": "مریم"}
USER = {"id": 5001, "is_bot": False, "first_name": "مریم", "language_code": "fa"}
BOT = {"id": 111111, "is_bot": True, "first_name": "میز خدمت", "username": "jihad_tg_bot"}
GROUP = {"id": -1001234567890, "type": "supergroup", "title": "مدیریت آب و خاک"}
KEYBOARD = {"inline_keyboard": [[{"text": "برمی‌دارم", "callback_data": "claim:1404-12345"}]]}

# Telegram updates as the Bot API documents them: the kinds the bot handles.
TELEGRAM_UPDATES: list[dict[str, Any]] = [
    {"update_id": 10, "message": {
        "message_id": 1, "date": 1791025477, "chat": CHAT, "from": USER, "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}},
    {"update_id": 11, "message": {
        "message_id": 2, "date": 1791025478, "chat": CHAT, "from": USER,
        "contact": {"phone_number": "+989151234567", "first_name": "مریم", "user_id": 5001}}},
    {"update_id": 12, "message": {
        "message_id": 3, "date": 1791025479, "chat": CHAT, "from": USER, "caption": "چاه",
        "photo": [
            {"file_id": "AgAD1", "file_unique_id": "u1", "width": 90, "height": 60,
             "file_size": 1200},
            {"file_id": "AgAD2", "file_unique_id": "u2", "width": 1280, "height": 853,
             "file_size": 80000},
        ]}},
    {"update_id": 13, "message": {
        "message_id": 4, "date": 1791025480, "chat": CHAT, "from": USER,
        "voice": {"file_id": "AwAD", "file_unique_id": "v1", "duration": 4,
                  "mime_type": "audio/ogg", "file_size": 9000}}},
    {"update_id": 14, "message": {
        "message_id": 5, "date": 1791025481, "chat": CHAT, "from": USER,
        "location": {"latitude": 32.87, "longitude": 59.22}}},
    {"update_id": 15, "callback_query": {
        "id": "4382", "from": {"id": 501, "is_bot": False, "first_name": "احمد"},
        "chat_instance": "-52", "data": "claim:1404-12345",
        "message": {"message_id": 40, "date": 1791025490, "chat": GROUP, "from": BOT,
                    "text": "شکایت — کد رهگیری ۱۴۰۴-۱۲۳۴۵", "reply_markup": KEYBOARD}}},
    {"update_id": 16, "message": {
        "message_id": 41, "date": 1791025500, "chat": GROUP,
        "from": {"id": 501, "is_bot": False, "first_name": "احمد"},
        "text": "کارشناس روز شنبه مراجعه می‌کند.",
        "reply_to_message": {"message_id": 40, "date": 1791025490, "chat": GROUP, "from": BOT,
                             "text": "شکایت — کد رهگیری ۱۴۰۴-۱۲۳۴۵"}}},
    {"update_id": 17, "my_chat_member": {
        "chat": GROUP, "from": {"id": 501, "is_bot": False, "first_name": "احمد"},
        "date": 1791025510,
        "old_chat_member": {"status": "left", "user": BOT},
        "new_chat_member": {"status": "member", "user": BOT}}},
    {"update_id": 18, "message": {  # no `from`: a channel post forwarded into a group
        "message_id": 42, "date": 1791025520, "chat": GROUP,
        "sender_chat": {"id": -1009, "type": "channel", "title": "سازمان"}, "text": "اطلاعیه"}},
]  # fmt: skip


def run_probe(tmp_path: Path) -> dict[str, dict[str, Any]]:
    data = tmp_path / "payloads.json"
    bale = json.loads((ROOT / "tests" / "data" / "bale_answers.json").read_text("utf-8"))
    data.write_text(json.dumps({"updates": TELEGRAM_UPDATES, "bale": bale}), "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = {
        mode: subprocess.Popen(
            [sys.executable, "-c", PROBE, mode, str(data)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("lazy", "eager")
    }
    results = {}
    for mode, proc in procs.items():
        out, err = proc.communicate(timeout=100)
        assert proc.returncode == 0, f"{mode}: {err}"
        results[mode] = json.loads(out.strip().splitlines()[-1])
    return results


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return run_probe(tmp_path_factory.mktemp("lean"))


def test_every_deferred_model_builds(probes: dict[str, dict[str, Any]]) -> None:
    lazy = probes["lazy"]
    assert lazy["failed"] == {}
    assert lazy["reported"] == lazy["pending"], "lean_aiogram's count is what was left unbuilt"
    assert lazy["pending"] > 400, "aiogram's ~450 models are deferred"
    # importing aiogram builds all of its models but its mutable base
    assert probes["eager"]["failed"] == {} and probes["eager"]["pending"] <= 1


def test_lazy_models_are_built_the_same_as_eager_ones(probes: dict[str, dict[str, Any]]) -> None:
    lazy, eager = probes["lazy"]["fingerprints"], probes["eager"]["fingerprints"]
    assert lazy.keys() == eager.keys()
    differ = sorted(name for name in lazy if lazy[name] != eager[name])
    assert differ == [], f"{len(differ)} models differ, first: {differ[:5]}"


def test_updates_and_answers_parse_the_same_lazily_and_eagerly(
    probes: dict[str, dict[str, Any]],
) -> None:
    lazy, eager = probes["lazy"]["parsed"], probes["eager"]["parsed"]
    assert lazy == eager
    assert len(lazy) >= len(TELEGRAM_UPDATES) + 4
    for index in range(len(TELEGRAM_UPDATES)):
        assert lazy[f"update {index}"][0] == "ok", lazy[f"update {index}"]
    assert lazy["update 5"][1]["callback_query"]["data"] == "claim:1404-12345"
    assert lazy["update 2"][1]["message"]["photo"][1]["file_size"] == 80000
    assert lazy["bale sendMessage as Response[Message]"][0] == "ok"
