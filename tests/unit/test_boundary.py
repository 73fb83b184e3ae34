"""The platform boundary reads every answer shape seen in the wild (bot/runtime/boundary.py).

Each shape is what a real server or an edge proxy in front of it has answered: Bale's stub to
an edit (bale-mcp's tests, "what tapi.bale.ai really returns"), Bale's 403 "Token not found",
nginx's and Envoy's rate-limit and 502 pages, Telegram's migrate_to_chat_id.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    EditMessageText,
    GetMe,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from aiohttp import FormData

from bot.runtime.boundary import BaleReplies, Outcome, PlatformSession, classify
from bot.runtime.platforms import repair_update, repairing_json_loads

SEND = SendMessage(chat_id=-100123, text="card")
EDIT = EditMessageText(chat_id=-100123, message_id=7, text="card, claimed")
MESSAGE = {"message_id": 7, "date": 1, "chat": {"id": -100123, "type": "group", "title": "u"}}
NGINX_429 = (
    "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many "
    "Requests</h1></center><hr><center>nginx</center></body></html>"
)
NGINX_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)


@pytest.fixture
def session() -> PlatformSession:
    return PlatformSession(
        platform_name="bale",
        api=TelegramAPIServer.from_base("http://127.0.0.1:9"),
        json_loads=repairing_json_loads,
    )


@pytest.fixture
def bot(session: PlatformSession) -> Bot:
    return Bot("123:abc", session=session)


def answer(
    session: PlatformSession, bot: Bot, method: TelegramMethod[Any], status: int, body: Any
) -> Any:
    content = body if isinstance(body, str) else json.dumps(body)
    return session.check_response(bot, method, status, content).result


@pytest.mark.parametrize(
    "result", [{"message_id": 0}, True, None, {**MESSAGE, "text": "card, claimed"}]
)
def test_every_edit_answer_is_a_success(session: PlatformSession, bot: Bot, result: Any) -> None:
    got = answer(session, bot, EDIT, 200, {"ok": True, "result": result})
    assert got is True or isinstance(got, Message)


def test_a_send_answered_with_an_unreadable_result_counts_as_delivered(
    session: PlatformSession, bot: Bot
) -> None:
    got = answer(session, bot, SEND, 200, {"ok": True, "result": {"message_id": "x", "w": [1]}})
    assert isinstance(got, Message) and got.message_id == 0 and got.chat.id == -100123
    got = answer(session, bot, SEND, 200, {"ok": True, "result": {"message_id": 55}})
    assert got.message_id == 55, "the id is kept when it can be read"
    assert session.unparsed == 2


def test_an_album_answered_oddly_counts_as_delivered(session: PlatformSession, bot: Bot) -> None:
    album = SendMediaGroup(
        chat_id=5, media=[InputMediaPhoto(media="a"), InputMediaPhoto(media="b")]
    )
    got = answer(session, bot, album, 200, {"ok": True, "result": [{"message_id": 3}, {}]})
    assert [m.message_id for m in got] == [3, 0]


def test_a_read_answered_oddly_is_not_invented(session: PlatformSession, bot: Bot) -> None:
    with pytest.raises(ClientDecodeError) as error:
        answer(session, bot, GetMe(), 200, {"ok": True, "result": {"id": "me"}})
    assert classify(error.value, group=False).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("status", "body", "content"),
    [
        (429, {"ok": False, "error_code": 429, "description": "Too Many Requests"}, "json"),
        (429, "local_rate_limited", "text"),
        (429, NGINX_429, "html"),
        (420, {"ok": False, "error_code": 420, "description": "Flood wait"}, "json"),
        (400, {"ok": False, "error_code": 400, "description": "bot limit exceed"}, "json"),
        (200, {"ok": False, "error_code": 429, "description": "bot limit exceed"}, "json"),
        (503, "local_rate_limited", "text"),
    ],
)
def test_a_rate_limit_in_any_shape_pauses_with_a_growing_guess(
    session: PlatformSession, bot: Bot, status: int, body: Any, content: str
) -> None:
    waits = []
    for _ in range(3):
        with pytest.raises(TelegramRetryAfter) as error:
            answer(session, bot, SEND, status, body)
        verdict = classify(error.value, group=True)
        assert verdict.outcome is Outcome.RATE_LIMITED
        waits.append(verdict.wait)
    assert waits == [1.0, 2.0, 4.0], "no wait named: a guess that grows while it repeats"
    answer(session, bot, SEND, 200, {"ok": True, "result": MESSAGE})
    with pytest.raises(TelegramRetryAfter) as error:
        answer(session, bot, SEND, status, body)
    assert error.value.retry_after == 1.0, "a success starts the guess again"


def test_a_named_wait_is_kept(session: PlatformSession, bot: Bot) -> None:
    body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7}}  # fmt: skip
    with pytest.raises(TelegramRetryAfter) as error:
        answer(session, bot, SEND, 429, body)
    assert error.value.retry_after == 7


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, NGINX_502),
        (503, "upstream connect error or disconnect/reset before headers. reset reason: x"),
        (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
        (200, "<html><body>captive portal</body></html>"),
        (504, ""),
    ],
)
def test_pages_that_are_not_the_api_are_transient(
    session: PlatformSession, bot: Bot, status: int, body: Any
) -> None:
    with pytest.raises(TelegramServerError) as error:
        answer(session, bot, SEND, status, body)
    assert classify(error.value, group=True).outcome is Outcome.TRANSIENT
    assert "\n" not in error.value.message and len(error.value.message) <= 120


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (401, "Unauthorized"),
        (403, "Bad Request: Token not found"),
        (404, "Not Found: Unauthorized"),
    ],
)
def test_a_refused_token_in_each_shape(
    session: PlatformSession, bot: Bot, status: int, description: str
) -> None:
    body = {"ok": False, "error_code": status, "description": description}
    with pytest.raises(TelegramUnauthorizedError) as error:
        answer(session, bot, SEND, status, body)
    assert classify(error.value, group=True).outcome is Outcome.UNAUTHORIZED


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (403, "Forbidden: bot was kicked from the group chat"),
        (403, "Forbidden: bot is not a member of the group chat"),
        (400, "Bad Request: chat not found"),
        (400, "Bad Request: not enough rights to send text messages to the chat"),
        (400, "no such group or user"),
    ],
)
def test_a_group_that_refuses_the_bot_is_held_a_citizen_is_blocked(
    session: PlatformSession, bot: Bot, status: int, description: str
) -> None:
    body = {"ok": False, "error_code": status, "description": description}
    with pytest.raises(TelegramAPIError) as error:
        answer(session, bot, SEND, status, body)
    assert classify(error.value, group=True).outcome is Outcome.HELD
    assert classify(error.value, group=False).outcome is Outcome.BLOCKED


def test_an_upgraded_group_is_held_with_its_new_id(session: PlatformSession, bot: Bot) -> None:
    body = {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded "
            "to a supergroup chat", "parameters": {"migrate_to_chat_id": -1009}}  # fmt: skip
    with pytest.raises(TelegramMigrateToChat) as error:
        answer(session, bot, SEND, 400, body)
    verdict = classify(error.value, group=True)
    assert verdict.outcome is Outcome.HELD and verdict.new_chat_id == -1009


def test_refusals_of_the_message_itself_and_edits_with_nothing_to_do(
    session: PlatformSession, bot: Bot
) -> None:
    def refused(description: str) -> TelegramBadRequest:
        body = {"ok": False, "error_code": 400, "description": description}
        with pytest.raises(TelegramBadRequest) as error:
            answer(session, bot, SEND, 400, body)
        return error.value

    bad = refused("Bad Request: can't parse entities: Unsupported start tag")
    assert classify(bad, group=True).outcome is Outcome.PERMANENT
    same = refused("Bad Request: message is not modified: specified new message content")
    assert classify(same, group=True).outcome is Outcome.DONE
    gone = refused("Bad Request: message to edit not found")
    assert classify(gone, group=True).outcome is Outcome.DONE
    assert classify(RuntimeError("?"), group=True).outcome is Outcome.UNKNOWN
    assert classify(TimeoutError(), group=False).outcome is Outcome.TRANSIENT


async def test_bale_replies_thread_by_reply_to_message_id(bot: Bot) -> None:
    seen: list[Any] = []

    async def call(bot: Bot, method: Any) -> Any:
        seen.append(method.model_dump(exclude_none=True))
        return True

    method = SendMessage(
        chat_id=5,
        text="x",
        reply_parameters=ReplyParameters(message_id=9, allow_sending_without_reply=True),
    )
    await BaleReplies()(call, bot, method)
    assert seen[0]["reply_to_message_id"] == 9 and seen[0]["allow_sending_without_reply"]
    assert "reply_parameters" not in seen[0]


def test_bale_updates_without_file_unique_id_or_chat_type_are_repaired() -> None:
    sender = {"id": 77, "is_bot": False, "first_name": "x"}
    updates = [
        {"update_id": 1, "message": {"message_id": 1, "date": 1, "from": sender,
         "chat": {"id": 77}, "photo": [{"file_id": "AgAD1"}]}},
        {"update_id": 2, "message": {"message_id": 2, "date": 1, "from": sender,
         "chat": {"id": 5100000001, "title": "واحد"}, "document": {"file_id": "BQAD2"}}},
        {"update_id": 3, "message": {"message_id": 3, "date": 1, "from": sender,
         "chat": {"id": 5100000002}, "voice": {"file_id": "AwAD3"}}},
        {"update_id": 4, "channel_post": {"message_id": 4, "date": 1, "chat": {"id": -5}}},
    ]  # fmt: skip
    repaired = [repair_update(u) for u in updates]
    assert repaired[0]["message"]["chat"]["type"] == "private", "its own sender's id: private"
    assert repaired[0]["message"]["photo"][0]["file_unique_id"] == "AgAD1"
    assert repaired[1]["message"]["chat"]["type"] == "group", "a chat with a title is a group"
    assert repaired[1]["message"]["document"]["file_unique_id"] == "BQAD2"
    assert repaired[2]["message"]["chat"]["type"] == "group", "never defaulted to private"
    assert repaired[3]["channel_post"]["chat"]["type"] == "channel"


def test_a_citizens_button_press_on_bale_stays_in_a_private_chat() -> None:
    """The message under a button is the bot's own: its sender is the bot, so the presser's
    id tells a private chat; a reply in a chat takes that chat's type."""
    bot_user = {"id": 222222, "is_bot": True, "first_name": "bot"}
    citizen = {"id": 77, "is_bot": False, "first_name": "x"}
    press = {
        "update_id": 5,
        "callback_query": {
            "id": "q",
            "from": citizen,
            "data": "d",
            "message": {"message_id": 9, "date": 1, "from": bot_user, "chat": {"id": 77}},
        },
    }
    reply = {"update_id": 6, "message": {"message_id": 10, "date": 1, "from": citizen,
             "chat": {"id": 77}, "text": "x", "reply_to_message": {"message_id": 9, "date": 1,
             "from": bot_user, "chat": {"id": 77}}}}  # fmt: skip
    assert repair_update(press)["callback_query"]["message"]["chat"]["type"] == "private"
    replied = repair_update(reply)["message"]["reply_to_message"]
    assert replied["chat"]["type"] == "private"


def test_pages_in_front_of_the_api_say_nothing_about_chats_or_tokens(
    session: PlatformSession, bot: Bot
) -> None:
    for status in (401, 403, 404):
        page = f"<html><head><title>{status} Forbidden</title></head><body>WAF</body></html>"
        with pytest.raises(TelegramServerError) as error:
            answer(session, bot, SEND, status, page)
        assert classify(error.value, group=False).outcome is Outcome.TRANSIENT


def test_a_gone_chat_in_bales_404_shape(session: PlatformSession, bot: Bot) -> None:
    body = {"ok": False, "error_code": 404, "description": "no such group or user"}
    with pytest.raises(TelegramAPIError) as error:
        answer(session, bot, SEND, 404, body)
    assert classify(error.value, group=True).outcome is Outcome.HELD
    assert classify(error.value, group=False).outcome is Outcome.BLOCKED


def test_a_proxy_that_is_down_is_transient() -> None:
    from python_socks import ProxyConnectionError, ProxyError

    assert classify(ProxyError("refused"), group=True).outcome is Outcome.TRANSIENT
    assert classify(ProxyConnectionError("down"), group=True).outcome is Outcome.TRANSIENT
    assert classify(ConnectionResetError(), group=False).outcome is Outcome.TRANSIENT


async def test_a_button_press_answered_before_does_not_cut_the_handler_short(bot: Bot) -> None:
    from aiogram.methods import AnswerCallbackQuery

    from bot.runtime.boundary import ForgivingCallbackAnswers

    async def stale(bot: Bot, method: Any) -> Any:
        raise TelegramBadRequest(method, "Bad Request: query is too old and response timeout "
                                 "expired or query ID is invalid")  # fmt: skip

    got = await ForgivingCallbackAnswers()(stale, bot, AnswerCallbackQuery(callback_query_id="1"))
    assert got.result is True
    with pytest.raises(TelegramBadRequest):
        await ForgivingCallbackAnswers()(stale, bot, SEND)


def test_every_session_shares_one_certificate_store_and_aiogram_keeps_its_ssl() -> None:
    """Bots made in several threads at once get the one store loaded per process, and aiogram's
    session module is left with the real `ssl` module (a plain aiogram session builds its own)."""
    import ssl
    import sys
    import threading

    import aiogram.client.session.aiohttp as aiogram_aiohttp
    from aiogram.client.session.aiohttp import AiohttpSession

    from bot.runtime.boundary import tls_context

    made: list[PlatformSession] = []

    def make() -> None:
        for _ in range(20):
            made.append(PlatformSession(platform_name="telegram"))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=make) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert vars(aiogram_aiohttp)["ssl"] is ssl
    assert {id(s._connector_init["ssl"]) for s in made} == {id(tls_context())}
    assert AiohttpSession()._connector_init["ssl"] is not tls_context()


def test_calls_go_as_json_with_objects_nested_and_uploads_as_forms(
    session: PlatformSession, bot: Bot
) -> None:
    """What python-bale-bot sends Bale (and Telegram documents): a call without a file is a
    JSON body, its keyboard an object in it, Persian as UTF-8; a call with a file stays
    aiogram's multipart form."""
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="ثبت شکایت")]], resize_keyboard=True
    )
    send = SendMessage(chat_id=5, text="سلام", reply_markup=keyboard, disable_notification=False)
    body = session.build_form_data(bot, send)
    assert body.content_type == "application/json"
    sent = json.loads(body.decode())
    assert sent == {
        "chat_id": 5,
        "text": "سلام",
        "reply_markup": {"keyboard": [[{"text": "ثبت شکایت"}]], "resize_keyboard": True},
        "disable_notification": False,
    }
    assert "سلام" in body.decode()  # as UTF-8, not \u-escaped: a third of the bytes
    photo = SendPhoto(chat_id=5, photo=BufferedInputFile(b"\x89PNG", filename="chart.png"))
    assert isinstance(session.build_form_data(bot, photo), FormData)
