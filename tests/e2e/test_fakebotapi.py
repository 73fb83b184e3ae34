"""Self-test of the fake Bot API server, driven by a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.sandbox.fakebotapi import FAULT_KINDS, POLL_SAFE_KINDS, REALITY_KINDS
from tests.fakebotapi import FakeBotAPI, FakeUser

TG_TOKEN = "111:AAA"
BALE_TOKEN = "222:BBB"
YES_NO = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="Yes", callback_data="yes"),
            InlineKeyboardButton(text="No", callback_data="no"),
        ]
    ]
)


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A started fake server with one Telegram and one Bale bot."""
    server = FakeBotAPI()
    server.add_bot(TG_TOKEN, "telegram", username="tg_bot")
    server.add_bot(BALE_TOKEN, "bale", username="bale_bot")
    await server.start()
    yield server
    await server.stop()


def make_bot(api: FakeBotAPI, token: str) -> Bot:
    """A real aiogram Bot pointed at the fake server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    return Bot(token, session=session)


def demo_router() -> Router:
    """A tiny bot: menu with inline buttons, reply keyboard, photo size check, echo."""
    router = Router()

    @router.message(F.text == "/menu")
    async def menu(message: Message) -> None:
        await message.answer("choose", reply_markup=YES_NO)

    @router.message(F.text == "/start")
    async def start(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Help"), KeyboardButton(text="Close")]]
        )
        await message.answer("welcome", reply_markup=keyboard)

    @router.message(F.text == "Close")
    async def close(message: Message) -> None:
        await message.answer("closed", reply_markup=ReplyKeyboardRemove())

    @router.callback_query(F.data == "yes")
    async def yes(callback: CallbackQuery, bot: Bot) -> None:
        await callback.answer("noted")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("you chose yes")
        await bot.send_message(callback.from_user.id, "thanks")

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo
        file = await bot.get_file(message.photo[-1].file_id)
        assert file.file_path
        data = await bot.download_file(file.file_path)
        assert data is not None
        await message.answer(f"photo {len(data.read())} bytes")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


@asynccontextmanager
async def polling(api: FakeBotAPI, token: str) -> AsyncIterator[Bot]:
    """Run the demo bot with long polling for the duration of the block."""
    bot = make_bot(api, token)
    dispatcher = Dispatcher()
    dispatcher.include_router(demo_router())
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_as_tasks=False, handle_signals=False, polling_timeout=1
        )
    )
    try:
        yield bot
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(task, 5)
        await bot.session.close()


async def raw_call(api: FakeBotAPI, token: str, method: str, **params: Any) -> tuple[int, Any]:
    """Call the fake API directly with a JSON body; return (status, parsed body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}/bot{token}/{method}", json=params) as response,
    ):
        return response.status, await response.json()


async def raw_round(api: FakeBotAPI, action: Awaitable[Any]) -> tuple[list[dict[str, Any]], Any]:
    """Let a user action run while playing the Bale bot by hand; return (updates, result)."""
    task = asyncio.ensure_future(action)
    _, body = await raw_call(api, BALE_TOKEN, "getUpdates", timeout=2)
    updates = body["result"]
    for update in updates:
        if "callback_query" in update:
            query_id = update["callback_query"]["id"]
            await raw_call(api, BALE_TOKEN, "answerCallbackQuery", callback_query_id=query_id)
    await raw_call(api, BALE_TOKEN, "getUpdates", offset=updates[-1]["update_id"] + 1)
    return updates, await task


@pytest.mark.asyncio
async def test_get_me_echo_and_reply_keyboard(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    user = fake.private_chat(1001, "Ali")
    async with polling(api, TG_TOKEN) as bot:
        me = await bot.get_me()
        assert (me.id, me.username, me.is_bot) == (111, "tg_bot", True)
        answers = await user.send("hello")
        assert [m.text for m in answers] == ["echo: hello"]
        assert answers[0].method == "sendMessage"
        await user.send("/start")
        assert user.keyboard() == ["Help", "Close"]
        closed = await user.click("Close")
        assert closed[0].text == "closed"
        assert user.keyboard() == []
    assert fake.pending_updates() == 0
    assert fake.violations == []
    assert fake.calls_of("getMe")


@pytest.mark.asyncio
async def test_inline_click_telegram(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    user = fake.private_chat(1002)
    group = fake.group_chat(-100500, "Staff")
    async with polling(api, TG_TOKEN):
        menu = (await user.send("/menu"))[0]
        assert menu.buttons() == ["Yes", "No"]
        answers = await user.click("Yes")
        assert [m.text for m in answers] == ["thanks"]
        assert menu.current_text() == "you chose yes"
        assert menu.buttons() == []  # edit without reply_markup drops the inline keyboard
        assert fake.callback_answers[0]["text"] == "noted"
        with pytest.raises(LookupError):
            await user.click("Yes")
        member_answers = await group.as_member(7, "Reza").send("hi all")
        assert member_answers[0].chat_id == -100500
        assert member_answers[0].result["chat"]["type"] == "supergroup"
    assert fake.violations == []


@pytest.mark.asyncio
async def test_bale_flavour_raw_updates_and_edit(api: FakeBotAPI) -> None:
    fake = api.bot(BALE_TOKEN)
    user = fake.private_chat(2001, "Sara")
    bot = make_bot(api, BALE_TOKEN)
    try:
        message = await bot.send_message(user.id, "pick one", reply_markup=YES_NO)
        updates, answers = await raw_round(api, user.click("Yes"))
        query = updates[0]["callback_query"]
        assert "chat_instance" not in query
        assert (query["data"], query["from"]["id"]) == ("yes", 2001)
        assert answers == []
        fake.edit_answer = "true"  # aiogram itself cannot parse Bale's default stub answer
        edited = await bot.edit_message_text("done", chat_id=user.id, message_id=message.message_id)
        assert edited is True
        assert fake.sent[0].current_text() == "done"
        updates, _ = await raw_round(api, user.send_voice(duration=4))
        assert "duration" not in updates[0]["message"]["voice"]
        updates, _ = await raw_round(api, user.send_sticker())
        assert not {"type", "is_animated", "is_video"} & updates[0]["message"]["sticker"].keys()
        assert fake.violations == []
        await bot.send_message(user.id, "<b>bold</b>", parse_mode="HTML")
        assert len(fake.violations) == 2  # parse_mode and HTML tags are not Bale
        with pytest.raises(TelegramNotFound):
            await bot.set_my_commands([])
        assert fake.violations[-1] == "setMyCommands: method not found (bale)"
    finally:
        await bot.session.close()
    status, body = await raw_call(api, BALE_TOKEN, "getChat", chat_id=2001)
    assert status == 200
    assert body["result"]["type"] == "private"


@pytest.mark.asyncio
async def test_faults(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    user = fake.private_chat(1003)
    bot = make_bot(api, TG_TOKEN)
    try:
        api.fail("sendMessage", "429", retry_after=3)
        with pytest.raises(TelegramRetryAfter) as retry:
            await bot.send_message(user.id, "first")
        assert retry.value.retry_after == 3
        assert fake.sent == []
        assert fake.calls_of("sendMessage")
        api.fail(None, "drop")
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(user.id, "second")
        api.fail(None, "403")
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(user.id, "third")
        await bot.send_message(user.id, "fourth")
        assert [m.text for m in fake.sent] == ["fourth"]
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(424242, "nobody")
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(user.id, "<b>open", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="too long"):
            await bot.send_message(user.id, "x" * 4097)
        assert len(fake.violations) == 3
        user.block()
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(user.id, "blocked")
    finally:
        await bot.session.close()
    assert (await raw_call(api, "999:ZZZ", "getMe"))[0] == 401
    assert (await raw_call(api, TG_TOKEN, "noSuchMethod"))[0] == 404


@pytest.mark.asyncio
async def test_files_roundtrip(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    user: FakeUser = fake.private_chat(1004)
    content = b"\xff\xd8fake-jpeg" * 100
    file_obj = fake.upload(content, "photo")
    async with polling(api, TG_TOKEN) as bot:
        file = await bot.get_file(file_obj["file_id"])
        assert file.file_size == len(content)
        assert file.file_path
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None
        assert downloaded.read() == content
        answers = await user.send_photo(size=12_345)
        assert answers[0].text == "photo 12345 bytes"
        upload = BufferedInputFile(b"%PDF-1.4 report", filename="report.pdf")
        sent = await bot.send_document(user.id, upload, caption="report")
        assert sent.document is not None
        record = fake.sent[-1]
        assert record.media is not None
        assert (record.media["size"], record.media["file_name"]) == (15, "report.pdf")
        assert fake.file_content(sent.document.file_id) == b"%PDF-1.4 report"
        copy = await bot.copy_message(user.id, from_chat_id=user.id, message_id=sent.message_id)
        assert fake.sent[-1].message_id == copy.message_id
        assert fake.sent[-1].media and fake.sent[-1].media["file_id"] == sent.document.file_id
    big = fake.upload(b"\0" * (21 * 1024 * 1024), "document", "big.zip")
    status, body = await raw_call(api, TG_TOKEN, "getFile", file_id=big["file_id"])
    assert (status, body["description"]) == (400, "Bad Request: file is too big")
    assert fake.violations == []


async def raw_answer(
    api: FakeBotAPI, token: str, method: str, **params: Any
) -> tuple[int, str, str]:
    """Call the fake API with a JSON body; (status, content type, body text); status 0 when the
    connection was dropped."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{api.base_url}/bot{token}/{method}", json=params) as response,
        ):
            return response.status, response.content_type, await response.text()
    except aiohttp.ClientError:
        return 0, "", ""


def json_error(code: int, description: str) -> dict[str, Any]:
    """A Bot API error body."""
    return {"ok": False, "error_code": code, "description": description}


NGINX_429 = (
    "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many "
    "Requests</h1></center><hr><center>nginx</center></body></html>"
)
NGINX_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)
UPSTREAM_RESET = (
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)
FAULT_ANSWERS: dict[str, tuple[int, str, Any]] = {
    "429": (
        429,
        "application/json",
        {**json_error(429, "Too Many Requests: retry after 7"), "parameters": {"retry_after": 7}},
    ),
    "429_bare": (429, "application/json", json_error(429, "Too Many Requests")),
    "429_text": (429, "text/plain", "local_rate_limited"),
    "429_html": (429, "text/html", NGINX_429),
    "420": (420, "application/json", json_error(420, "Flood wait")),
    "bale_limit": (400, "application/json", json_error(400, "bot limit exceed")),
    "bale_limit_any": (200, "application/json", json_error(429, "bot limit exceed")),
    "500": (500, "application/json", json_error(500, "Internal Server Error")),
    "502_html": (502, "text/html", NGINX_502),
    "503_text": (503, "text/plain", UPSTREAM_RESET),
    "401": (401, "application/json", json_error(401, "Unauthorized")),
    "403": (403, "application/json", json_error(403, "Forbidden: bot was blocked by the user")),
    "403_kicked": (
        403,
        "application/json",
        json_error(403, "Forbidden: bot was kicked from the group chat"),
    ),
    "403_not_member": (
        403,
        "application/json",
        json_error(403, "Forbidden: bot is not a member of the group chat"),
    ),
    "chat_not_found": (400, "application/json", json_error(400, "Bad Request: chat not found")),
    "400": (
        400,
        "application/json",
        json_error(
            400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
        ),
    ),
}
GARBAGE = {"ok": True, "result": {"message_id": "not-a-number", "weird": [1]}}


def parsed(content_type: str, text: str) -> Any:
    """The body as JSON when it claims to be JSON, else the text itself."""
    return json.loads(text) if content_type == "application/json" else text


@pytest.mark.parametrize("kind", sorted(FAULT_ANSWERS))
async def test_fault_kind_answers_exactly(api: FakeBotAPI, kind: str) -> None:
    fake = api.bot(TG_TOKEN)
    user = fake.private_chat(1010)
    api.fail("sendMessage", kind, retry_after=7)
    status, content_type, text = await raw_answer(
        api, TG_TOKEN, "sendMessage", chat_id=user.id, text="hi"
    )
    assert (status, content_type, parsed(content_type, text)) == FAULT_ANSWERS[kind]
    assert fake.sent == []  # refused: nothing was sent
    assert api.injected == {kind: 1}
    status, _, text = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=user.id, text="hi")
    assert status == 200 and json.loads(text)["ok"] is True  # used up after one call
    assert [m.text for m in fake.sent] == ["hi"]


def test_fault_kinds_cover_the_table() -> None:
    assert set(FAULT_KINDS) == set(FAULT_ANSWERS) | {"timeout", "drop", "ok_garbage"}
    with pytest.raises(ValueError, match="kind must be one of"):
        FakeBotAPI().fail(None, "418")


async def test_ok_garbage_carries_the_call_out(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    user = fake.private_chat(1011)
    api.fail("sendMessage", "ok_garbage")
    status, content_type, text = await raw_answer(
        api, TG_TOKEN, "sendMessage", chat_id=user.id, text="sent anyway"
    )
    assert (status, content_type, json.loads(text)) == (200, "application/json", GARBAGE)
    last = user.last()
    assert last is not None and last.text == "sent anyway"
    assert user.chat.messages[last.message_id]["text"] == "sent anyway"
    bot = make_bot(api, TG_TOKEN)
    try:
        api.fail("editMessageText", "ok_garbage")
        with pytest.raises(ClientDecodeError):
            await bot.edit_message_text("edited", chat_id=user.id, message_id=last.message_id)
        assert last.current_text() == "edited"  # the edit happened all the same
        api.fail(None, "ok_garbage")
        with pytest.raises(ClientDecodeError):
            await bot.send_message(user.id, "again")
        assert [m.text for m in user.messages()] == ["sent anyway", "again"]
    finally:
        await bot.session.close()
    assert api.injected == {"ok_garbage": 3}


async def test_ok_garbage_keeps_real_refusals(api: FakeBotAPI) -> None:
    api.fail("sendMessage", "ok_garbage")
    status, _, text = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=5, text="x")
    assert (status, json.loads(text)) == (400, json_error(400, "Bad Request: chat not found"))


async def test_refuse_chat_for_a_while(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    group = fake.group_chat(-100700, "Staff")
    other = fake.private_chat(1012)
    api.refuse_chat(TG_TOKEN, group.id, 0.3)
    expected = json_error(403, "Forbidden: bot was kicked from the group chat")
    for method, params in (
        ("sendMessage", {"text": "hi"}),
        ("sendChatAction", {"action": "typing"}),
        ("getChat", {}),
    ):
        status, _, text = await raw_answer(api, TG_TOKEN, method, chat_id=group.id, **params)
        assert (status, json.loads(text)) == (403, expected)
    status, _, _ = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=other.id, text="ok")
    assert status == 200  # other chats are unaffected
    assert (await raw_answer(api, TG_TOKEN, "getMe"))[0] == 200
    assert (await raw_answer(api, BALE_TOKEN, "getChat", chat_id=group.id))[0] == 400  # not Bale's
    assert fake.refused == [
        ("sendMessage", group.id),
        ("sendChatAction", group.id),
        ("getChat", group.id),
    ]
    assert [m.chat_id for m in fake.sent] == [other.id]
    await asyncio.sleep(0.35)
    status, _, _ = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=group.id, text="back")
    assert status == 200
    assert [m.text for m in group.messages()] == ["back"]
    assert len(fake.refused) == 3


async def test_restore_chat_ends_a_refusal_early(api: FakeBotAPI) -> None:
    fake = api.bot(BALE_TOKEN)
    user = fake.private_chat(2010)
    api.refuse_chat(BALE_TOKEN, user.id, 60, kind="chat_not_found")
    status, _, text = await raw_answer(api, BALE_TOKEN, "sendMessage", chat_id=user.id, text="a")
    assert (status, json.loads(text)) == (400, json_error(400, "Bad Request: chat not found"))
    api.restore_chat(BALE_TOKEN, user.id)
    status, _, _ = await raw_answer(api, BALE_TOKEN, "sendMessage", chat_id=user.id, text="b")
    assert status == 200
    assert fake.refused == [("sendMessage", user.id)]
    assert [m.text for m in fake.sent] == ["b"]
    with pytest.raises(ValueError, match="kind must be one of"):
        api.refuse_chat(BALE_TOKEN, user.id, 1, kind="kicked")


async def reality_run(api: FakeBotAPI, seed: int, rate: float, **kw: Any) -> list[tuple[str, ...]]:
    """Turn reality on and make a fixed sequence of calls; return what was injected."""
    fake = api.bot(TG_TOKEN)
    user = fake.private_chat(1013)
    api.injected.clear()
    api.injected_log.clear()
    api.reality(seed, rate, **kw)
    try:
        for n in range(60):
            if n % 6 == 5:
                await raw_answer(api, TG_TOKEN, "getUpdates", timeout=0)
            elif n % 2:
                await raw_answer(api, TG_TOKEN, "getMe")
            else:
                await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=user.id, text=f"m{n}")
    finally:
        api.reality_off()
    return list(api.injected_log)


async def test_reality_is_reproducible_and_transient(api: FakeBotAPI) -> None:
    first = await reality_run(api, seed=42, rate=0.5)
    again = await reality_run(api, seed=42, rate=0.5)
    other = await reality_run(api, seed=43, rate=0.5)
    assert first == again
    assert first != other
    assert 10 < len(first) < 50  # about half of the 60 calls
    everything = await reality_run(api, seed=7, rate=1.0)
    assert len(everything) == 60
    kinds = {kind for _, _, kind in everything}
    assert kinds <= set(REALITY_KINDS) | set(POLL_SAFE_KINDS)
    assert not kinds & {"401", "403", "403_kicked", "403_not_member", "chat_not_found", "400"}
    assert len(kinds) >= 6  # a real mix
    poll_kinds = {kind for _, method, kind in everything if method == "getUpdates"}
    assert poll_kinds and poll_kinds <= set(POLL_SAFE_KINDS)
    assert sum(api.injected.values()) == 60
    # off means off
    status, _, _ = await raw_answer(api, TG_TOKEN, "getMe")
    assert status == 200 and sum(api.injected.values()) == 60


async def test_reality_kinds_and_token(api: FakeBotAPI) -> None:
    injected = await reality_run(api, seed=1, rate=1.0, kinds=("403_kicked",))
    assert {(method, kind) for _, method, kind in injected} == {
        ("sendMessage", "403_kicked"),
        ("getMe", "403_kicked"),
    }  # getUpdates only ever gets transient kinds
    assert await reality_run(api, seed=1, rate=1.0, token=BALE_TOKEN) == []
    with pytest.raises(ValueError, match="kinds must be among"):
        api.reality(1, kinds=("nope",))
    with pytest.raises(ValueError, match="rate"):
        api.reality(1, rate=1.5)


async def test_reality_answers_bale_edits_at_random(api: FakeBotAPI) -> None:
    async def edits(seed: int) -> tuple[list[str], list[str]]:
        shapes = {}
        for token in (TG_TOKEN, BALE_TOKEN):
            fake = api.bot(token)
            fake.edit_answers.clear()
            user = fake.private_chat(1014)
            _, _, text = await raw_answer(api, token, "sendMessage", chat_id=user.id, text="e")
            message_id = json.loads(text)["result"]["message_id"]
            api.reality(seed, rate=0.0)
            for n in range(12):
                await raw_answer(
                    api, token, "editMessageText", chat_id=user.id, message_id=message_id,
                    text=f"e{n}",
                )  # fmt: skip
            api.reality_off()
            shapes[token] = list(fake.edit_answers)
        return shapes[TG_TOKEN], shapes[BALE_TOKEN]

    telegram, bale = await edits(5)
    assert telegram == ["message"] * 12
    assert len(set(bale)) >= 3
    assert (await edits(5))[1] == bale
    assert api.bot(BALE_TOKEN).edit_answer == "stub"  # reality does not change the setting
    assert api.injected == {}


EDIT_SHAPES = {"true": True, "stub": {"message_id": 0}, "null": None}


@pytest.mark.parametrize("token", [TG_TOKEN, BALE_TOKEN])
@pytest.mark.parametrize("shape", ["message", "true", "stub", "null"])
async def test_edit_answer_shapes(api: FakeBotAPI, token: str, shape: str) -> None:
    fake = api.bot(token)
    user = fake.private_chat(1015)
    fake.edit_answer = shape
    _, _, text = await raw_answer(api, token, "sendMessage", chat_id=user.id, text="before")
    message_id = json.loads(text)["result"]["message_id"]
    _, _, text = await raw_answer(
        api, token, "sendDocument", chat_id=user.id, caption="cap",
        document=fake.upload(b"%PDF", "document", "a.pdf")["file_id"],
    )  # fmt: skip
    document_id = json.loads(text)["result"]["message_id"]
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("editMessageText", {"message_id": message_id, "text": "after"}),
        ("editMessageReplyMarkup", {"message_id": message_id, "reply_markup": markup}),
        ("editMessageCaption", {"message_id": document_id, "caption": "new cap"}),
    ]
    for method, params in calls:
        status, _, text = await raw_answer(api, token, method, chat_id=user.id, **params)
        body = json.loads(text)
        assert (status, body["ok"]) == (200, True)
        if shape == "message":
            assert body["result"]["message_id"] == params["message_id"]
            assert isinstance(body["result"]["edit_date"], int)
        else:
            assert body["result"] == EDIT_SHAPES[shape]
    sent, document = fake.sent
    assert (sent.current_text(), sent.buttons(), document.current_text()) == (
        "after",
        ["Go"],
        "new cap",
    )
    assert sent.edit_methods == ["editMessageText", "editMessageReplyMarkup"]
    assert fake.edit_answers == [shape] * 3
    assert fake.violations == []


async def test_edit_answer_defaults_and_random(api: FakeBotAPI) -> None:
    assert api.bot(TG_TOKEN).edit_answer == "message"
    fake = api.bot(BALE_TOKEN)
    assert fake.edit_answer == "stub"
    with pytest.raises(ValueError, match="edit_answer must be one of"):
        fake.edit_answer = "maybe"
    user = fake.private_chat(2011)
    _, _, text = await raw_answer(api, BALE_TOKEN, "sendMessage", chat_id=user.id, text="x")
    message_id = json.loads(text)["result"]["message_id"]
    _, _, text = await raw_answer(
        api, BALE_TOKEN, "editMessageText", chat_id=user.id, message_id=message_id, text="y"
    )
    assert json.loads(text)["result"] == {"message_id": 0}

    async def run(seed: int) -> list[Any]:
        fake.edit_answer, fake.edit_seed = "random", seed
        fake.edit_answers.clear()
        answers = []
        for n in range(16):
            _, _, text = await raw_answer(
                api, BALE_TOKEN, "editMessageText", chat_id=user.id, message_id=message_id,
                text=f"r{n}",
            )  # fmt: skip
            answers.append(json.loads(text)["result"])
        return answers

    answers = await run(3)
    assert fake.sent[0].current_text() == "r15"
    assert set(fake.edit_answers) == {"message", "true", "stub", "null"}
    for n, (shape, answer) in enumerate(zip(fake.edit_answers, answers, strict=True)):
        if shape == "message":
            assert answer["text"] == f"r{n}" and "edit_date" in answer
        else:
            assert answer == EDIT_SHAPES[shape]
    shapes = list(fake.edit_answers)
    await run(3)
    assert fake.edit_answers == shapes
    await run(4)
    assert fake.edit_answers != shapes


async def test_bale_quirks(api: FakeBotAPI) -> None:
    fake = api.bot(BALE_TOKEN)
    user = fake.private_chat(2012, "Sara")
    group = fake.group_chat(-200700, "Staff")
    updates, _ = await raw_round(api, user.send_photo(size=5_000))
    message = updates[0]["message"]
    assert all("file_unique_id" in size for size in message["photo"])  # off by default
    assert message["chat"]["type"] == "private"
    fake.bale_quirks = True
    updates, _ = await raw_round(api, user.send_photo(size=5_000, caption="look"))
    message = updates[0]["message"]
    assert message["photo"] and not any("file_unique_id" in size for size in message["photo"])
    assert all(size["file_id"] for size in message["photo"])
    assert message["chat"] == {"id": 2012, "first_name": "Sara"}
    for action, kind in (
        (user.send_document(), "document"),
        (user.send_voice(), "voice"),
        (user.send_video(), "video"),
        (user.send_audio(), "audio"),
    ):
        updates, _ = await raw_round(api, action)
        assert "file_unique_id" not in updates[0]["message"][kind]
        assert updates[0]["message"][kind]["file_id"]
    updates, _ = await raw_round(api, group.send("hello"))
    assert updates[0]["message"]["chat"] == {"id": -200700, "title": "Staff"}
    document = fake.upload(b"%PDF-1.4", "document", "a.pdf")
    _, _, text = await raw_answer(
        api, BALE_TOKEN, "sendDocument", chat_id=group.id, document=document["file_id"],
        reply_to_message_id=updates[0]["message"]["message_id"],
    )  # fmt: skip
    result = json.loads(text)["result"]
    assert result["chat"] == {"id": -200700, "title": "Staff"}
    assert "file_unique_id" not in result["document"]
    assert "type" not in result["reply_to_message"]["chat"]
    # the fake's own state keeps the full objects
    assert fake.sent[-1].result["chat"]["type"] == "group"
    assert "file_unique_id" in fake.sent[-1].result["document"]
    _, _, text = await raw_answer(api, BALE_TOKEN, "getChat", chat_id=group.id)
    assert json.loads(text)["result"]["type"] == "group"
    telegram = api.bot(TG_TOKEN)
    telegram.bale_quirks = True  # Bale's quirks only: no effect on Telegram
    tg_user = telegram.private_chat(1016)
    _, _, text = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=tg_user.id, text="x")
    assert json.loads(text)["result"]["chat"]["type"] == "private"


async def test_a_fault_for_one_chat_only(api: FakeBotAPI) -> None:
    fake = api.bot(TG_TOKEN)
    slow, other = fake.private_chat(1021), fake.private_chat(1022)
    api.fail("sendMessage", "429", times=1, retry_after=20, token=TG_TOKEN, chat_id=slow.id)
    status, _, _ = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=other.id, text="a")
    assert status == 200, "another chat is not slowed"
    status, _, text = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=slow.id, text="b")
    assert status == 429 and json.loads(text)["parameters"]["retry_after"] == 20
    status, _, _ = await raw_answer(api, TG_TOKEN, "sendMessage", chat_id=slow.id, text="c")
    assert status == 200, "once"


async def test_a_bot_that_reports_handling_answers_when_it_has_handled(api: FakeBotAPI) -> None:
    """A bot with an inbox confirms at once and says later what it has handled: a person's
    message returns then, with what the bot said meanwhile."""
    fake = api.bot(BALE_TOKEN)
    fake.reports_handling = True
    person = fake.private_chat(1031)
    sending = asyncio.create_task(person.send("hello", timeout=5))
    _, body = await raw_call(api, BALE_TOKEN, "getUpdates", timeout=2)
    update_id = body["result"][0]["update_id"]
    await raw_call(api, BALE_TOKEN, "getUpdates", offset=update_id + 1)  # confirmed at once
    assert fake.pending_updates() == 0 and not fake.is_handled(update_id)
    await asyncio.sleep(0.05)
    assert not sending.done(), "confirmed is not handled"
    await raw_call(api, BALE_TOKEN, "sendMessage", chat_id=person.id, text="hi there")
    fake.mark_handled(update_id)
    assert [m.text for m in await sending] == ["hi there"]
    assert fake.unhandled() == 0
