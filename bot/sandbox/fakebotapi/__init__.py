"""Fake Telegram / Bale Bot API server on loopback: the e2e tests' fake and the sandbox's messenger.

The bot under test talks to it over real HTTP (``TelegramAPIServer.from_base(api.base_url)``);
tests play citizens and staff through :class:`FakeUser` / :class:`FakeGroup` and read what the
bot sent from :attr:`FakeBot.sent`.  ``send()``/``click()`` wait until the bot has handled the
update: confirmed it with a later ``getUpdates(offset=...)`` (so poll plain aiogram with
``handle_as_tasks=False``), or, for a bot that confirms at once and handles later (the front
office's inbox), reported it through ``mark_handled`` once ``reports_handling`` is set.

Where things are (each module's docstring says where to start reading it):

- ``server``: :class:`FakeBotAPI`, the HTTP server: routes, parameter decoding, dispatch.
- ``methods``: :class:`FakeBot`, the Bot API methods one bot token answers, and its checks.
- ``world``: the memory behind a bot: chats, messages (:class:`SentMessage`), files, updates.
- ``people``: the test-facing actors :class:`FakeUser`, :class:`FakeGroup`, :class:`FakeMember`.
- ``platforms``: Telegram vs Bale: flavours, limits, HTML rules, the answers that differ.
- ``faults``: fault injection (``fail``, ``refuse_chat``, ``reality``) and the fault kinds.
- ``responses``: the HTTP answers: JSON envelope, error body, each fault kind's exact shape.

They import one way: ``platforms`` and ``responses`` at the bottom, then ``world``, ``people``,
``methods``, ``faults``, ``server``.

Switches on a bot:

- ``FakeBot.edit_answer``: what edits answer: "message" (Telegram's default), "true", "stub"
  (``{"message_id": 0}``, seen from Bale: Bale's default), "null" or "random" (seeded by
  ``FakeBot.edit_seed``).
- ``FakeBot.bale_quirks``: Bale leaves ``file_unique_id`` and ``chat.type`` out of messages.
- webhook delivery: after ``setWebhook`` the bot's updates are POSTed to its url in order (with
  Telegram's ``X-Telegram-Bot-Api-Secret-Token`` when a ``secret_token`` was given; Bale sends
  none), each until answered 2xx (``FakeBot.webhook_retry``, doubling to ``webhook_retry_max``);
  ``FakeBot.webhook_posts`` lists (update id, status); ``getUpdates`` answers 409 meanwhile.
"""

from bot.sandbox.fakebotapi.faults import (
    FAULT_KINDS,
    POLL_SAFE_KINDS,
    REALITY_KINDS,
    REALITY_TIMEOUT_DELAY,
)
from bot.sandbox.fakebotapi.methods import FakeBot, Handler
from bot.sandbox.fakebotapi.people import FakeGroup, FakeMember, FakeUser
from bot.sandbox.fakebotapi.platforms import (
    _BALE_HTML,
    _HTML_TAG,
    BALE,
    CHANNEL_BOT,
    DOWNLOAD_LIMIT,
    EDIT_ANSWERS,
    FILE_UPLOAD_LIMIT,
    GROUP_ANONYMOUS_BOT,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    MB,
    PHOTO_UPLOAD_LIMIT,
    TELEGRAM,
    Json,
    _html_error,
)
from bot.sandbox.fakebotapi.server import FakeBotAPI
from bot.sandbox.fakebotapi.world import ApiError, SentMessage, Upload

__all__ = [
    "BALE",
    "CHANNEL_BOT",
    "DOWNLOAD_LIMIT",
    "EDIT_ANSWERS",
    "FAULT_KINDS",
    "FILE_UPLOAD_LIMIT",
    "GROUP_ANONYMOUS_BOT",
    "MAX_CALLBACK_DATA",
    "MAX_CAPTION",
    "MAX_TEXT",
    "MB",
    "PHOTO_UPLOAD_LIMIT",
    "POLL_SAFE_KINDS",
    "REALITY_KINDS",
    "REALITY_TIMEOUT_DELAY",
    "TELEGRAM",
    "_BALE_HTML",  # the card-length test checks the bot's HTML with the fake's own rules
    "_HTML_TAG",
    "ApiError",
    "FakeBot",
    "FakeBotAPI",
    "FakeGroup",
    "FakeMember",
    "FakeUser",
    "Handler",
    "Json",
    "SentMessage",
    "Upload",
    "_html_error",
]
