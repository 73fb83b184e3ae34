"""Self-test of the fake Bot API server, driven by a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
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
