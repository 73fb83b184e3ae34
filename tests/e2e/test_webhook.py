"""Webhook mode end to end (issue 15, item 2): the app serves `/webhook/<platform>/<secret>` over
real aiohttp on loopback, the fake Bot API posts each update there (as the platforms do once
`python -m bot set-webhook` registered it), the update is in the inbox before the 200, and it is
handled from there by the same consumer, delivery worker and scheduler as in polling mode."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli.webhook import register
from bot.runtime import polling
from desk.inbox import Incoming
from desk.model import Platform, Status
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN, Front, seed_database, wait_until
from tests.e2e.helpers import said, stored
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to
from tests.fakebotapi import FakeBotAPI

TELEGRAM_SECRET = "t" * 8 + "0123456789abcdef" * 2 + "_-tg"
BALE_SECRET = "b" * 8 + "fedcba9876543210" * 2 + "-_bl"
SECRETS = {Platform.TELEGRAM: TELEGRAM_SECRET, Platform.BALE: BALE_SECRET}
HEADER = "X-Telegram-Bot-Api-Secret-Token"
WELCOMED = "میز خدمت"  # in the welcome /start answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HookedFront(Front):
    """A Front in webhook mode: `python -m bot webhook` on a fixed loopback port (the same
    after a restart, as behind nginx), registered once with `set-webhook`."""

    def __init__(self, api: FakeBotAPI, db_url: str, **settings: Any) -> None:
        super().__init__(
            api, db_url, telegram_webhook_secret=TELEGRAM_SECRET,
            bale_webhook_secret=BALE_SECRET, **settings,
        )  # fmt: skip
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.registered: list[str] = []

    async def start(self, *, deliver: bool = True) -> None:
        seed_database(self.db_url)
        from bot.app import build_app
        from bot.sandbox.run import report_handling

        self.app = build_app(self.settings(), clock=self.clock)
        report_handling(self.app, (self.telegram, self.bale))
        self.app.deliver = deliver
        app = self.app
        self.task = asyncio.create_task(
            app.run(handle_signals=False, webhook=("127.0.0.1", self.port))
        )
        await wait_until(
            lambda: app.web is not None and app.web.port == self.port
            and app.dispatcher.consumer is not None and len(app.dispatcher.consumer.bots) == 2,
            what="the webhook server listening",
        )  # fmt: skip
        if not self.registered:
            code, self.registered = await register(self.settings(), self.base, delete=False)
            assert code == 0, self.registered

    def url(self, platform: Platform, secret: str | None = None) -> str:
        return f"{self.base}/webhook/{platform.value}/{secret or SECRETS[platform]}"


@pytest.fixture
async def hooked(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[HookedFront]:
    running = HookedFront(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        for fake in (running.telegram, running.bale):
            assert not fake.violations, f"{fake.flavour} protocol violations: {fake.violations}"


async def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session, session.post(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    ) as answer:  # fmt: skip
        return answer.status, await answer.text()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.text()


def start_update(update_id: int, chat_id: int) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "کاربر"}
    return {
        "update_id": update_id,
        "message": {"message_id": 1, "date": 1_700_000_000, "text": "/start",
                    "chat": {**person, "type": "private"}, "from": person,
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
    }  # fmt: skip


@pytest.mark.slow
async def test_a_complaint_comes_by_webhook_and_staff_answer_it(hooked, platform) -> None:
    fake = hooked.bot(platform)
    # set-webhook registered each platform's secret path, Telegram's with the header's secret
    assert hooked.registered == [
        f"telegram: webhook set to {hooked.base}/webhook/telegram/<secret>",
        f"bale: webhook set to {hooked.base}/webhook/bale/<secret>",
    ]
    assert fake.webhook_url == hooked.url(platform)
    assert fake.webhook_secret == (TELEGRAM_SECRET if platform is Platform.TELEGRAM else None)

    citizen = fake.private_chat(15201, "علی")
    code = await file_water_complaint(citizen, photo=False)
    card = await card_in(hooked, platform, WATER, code)
    staff = hooked.group(WATER, platform).as_admin(15202, "احمد")
    mark = len(fake.sent)
    await staff.send("کارشناس آبیاری فردا برای بازدید مراجعه می‌کند.", reply_to=card)
    await next_to(hooked, platform, citizen.chat_id, mark, "فردا برای بازدید")
    assert (await stored(hooked, code)).status is Status.ANSWERED

    # every update came by webhook, each answered 200 at once; nobody called getUpdates
    assert fake.webhook_posts and {status for _, status in fake.webhook_posts} == {200}
    assert len(fake.webhook_posts) == len({uid for uid, _ in fake.webhook_posts})
    assert fake.calls_of("getUpdates") == [] and fake.calls_of("deleteWebhook") == []
    assert (await hooked.app.inbox.counts())["pending"] == 0
    # named by its port in the inbox's leases: the workers of one host hold their own lanes
    assert hooked.app.dispatcher.worker.endswith(f":webhook-{hooked.port}")


async def test_a_wrong_secret_or_a_missing_header_is_404_and_stores_nothing(
    hooked, caplog: pytest.LogCaptureFixture
) -> None:
    before = await hooked.app.inbox.counts()
    hooked.bale.private_chat(15301, "کاربر")
    update = start_update(900_001, 15301)
    wrong = "x" * 64
    refused = [
        (hooked.url(Platform.TELEGRAM, wrong), {HEADER: TELEGRAM_SECRET}),  # path wrong
        (hooked.url(Platform.TELEGRAM), {}),  # the header missing
        (hooked.url(Platform.TELEGRAM), {HEADER: wrong}),  # the header wrong
        (hooked.url(Platform.TELEGRAM, BALE_SECRET), {HEADER: BALE_SECRET}),  # Bale's secret
        (hooked.url(Platform.BALE, wrong), {}),
        (hooked.url(Platform.BALE, TELEGRAM_SECRET), {HEADER: TELEGRAM_SECRET}),
        (f"{hooked.base}/webhook/viber/{TELEGRAM_SECRET}", {HEADER: TELEGRAM_SECRET}),
        (f"{hooked.base}/webhook/telegram", {HEADER: TELEGRAM_SECRET}),
    ]
    with caplog.at_level(logging.DEBUG):
        for url, headers in refused:
            status, text = await post(url, update, headers)
            assert status == 404, url
            assert "secret" not in text.lower() and "webhook" not in text.lower()
    assert await hooked.app.inbox.counts() == before, "nothing stored"
    assert hooked.telegram.sent == [] and hooked.bale.sent == []
    logged = caplog.text
    for secret in (TELEGRAM_SECRET, BALE_SECRET, wrong):
        assert secret not in logged

    # the right path (and header) takes the very same update
    status, _ = await post(hooked.url(Platform.BALE), update)
    assert status == 200
    await wait_until(lambda: hooked.bale.sent != [], what="the welcome on Bale")
    assert WELCOMED in said(hooked.bale.sent)


async def test_a_body_that_is_no_update_is_400_and_logged_without_its_content(
    hooked, caplog: pytest.LogCaptureFixture
) -> None:
    before = await hooked.app.inbox.counts()
    private = "متن خصوصی شهروند ۰۹۱۵۱۲۳۴۵۶۷"
    bodies: list[Any] = [
        f"{{not json {private}".encode(),
        {"message": {"text": private}},  # no update_id
        {"update_id": "12", "message": {"text": private}},
        [{"update_id": 12}],
        b'{"update_id": 13, "message": {"text": "' + private.encode() + b'"}, "x": NaN}',
    ]
    with caplog.at_level(logging.INFO):
        for body in bodies:
            for platform in Platform:
                status, _ = await post(hooked.url(platform), body, {HEADER: TELEGRAM_SECRET})
                assert status == 400, (platform, body)
        huge = {"update_id": 77, "message": {"text": private * 40_000}}  # 2.5 MB: no update
        status, _ = await post(hooked.url(Platform.BALE), huge)
        assert status == 413
    assert await hooked.app.inbox.counts() == before
    assert "answered 400" in caplog.text and "answered 413" in caplog.text
    assert private not in caplog.text and "09151234567" not in caplog.text


async def test_an_update_aiogram_cannot_read_is_confirmed_dropped_and_the_chat_goes_on(
    hooked, caplog: pytest.LogCaptureFixture
) -> None:
    """An update whose message no repair makes readable (its date is words) is answered 200,
    so the platform does not send it for ever, logged by its id and the fields at fault (not
    its words), and handled as empty; the chat's next update is answered as usual."""
    hooked.telegram.private_chat(15301, "کاربر")
    private = "متن خصوصی شهروند ۰۹۱۵۱۲۳۴۵۶۷"
    broken = start_update(900_051, 15301)
    broken["message"] |= {"text": private, "date": "دیروز"}
    with caplog.at_level(logging.INFO):
        status, _ = await post(hooked.url(Platform.TELEGRAM), broken, {HEADER: TELEGRAM_SECRET})
        assert status == 200
        await wait_until(
            lambda: "update 900051 has no content we understand; skipped" in caplog.text,
            what="the empty update handled",
        )
    assert "dropping update 900051 that cannot be parsed (message.date)" in caplog.text
    assert private not in caplog.text and "09151234567" not in caplog.text
    assert hooked.telegram.sent == [], "nothing answers the unreadable one"
    status, _ = await post(
        hooked.url(Platform.TELEGRAM), start_update(900_052, 15301), {HEADER: TELEGRAM_SECRET}
    )
    assert status == 200
    await wait_until(lambda: hooked.telegram.sent != [], what="the welcome after it")
    assert WELCOMED in said(hooked.telegram.sent)


async def test_the_same_update_twice_is_stored_and_handled_once(hooked) -> None:
    hooked.telegram.private_chat(15401, "کاربر")
    update = start_update(900_101, 15401)
    headers = {HEADER: TELEGRAM_SECRET}
    for _ in range(3):  # a platform that missed the first answer posts it again
        assert (await post(hooked.url(Platform.TELEGRAM), update, headers))[0] == 200
    await wait_until(lambda: hooked.telegram.sent != [], what="the welcome")
    await hooked.delivered()
    await asyncio.sleep(0.3)
    sent = hooked.telegram.messages_to(15401)
    assert WELCOMED in (sent[0].text or "")
    assert len(sent) == 2, "one /start answered once: the welcome and the subscribe offer"
    assert (await hooked.app.inbox.counts())["done"] == 1


async def test_a_crash_after_the_200_loses_nothing(hooked, platform, monkeypatch) -> None:
    """The update is in the inbox when the platform hears 200; the app dies before handling
    it; after the restart it is handled (the platform never sends it again)."""
    fake = hooked.bot(platform)
    stuck = asyncio.Event()

    async def never(self: Any, row: Any) -> None:  # the handling that the crash cuts off
        stuck.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(polling.InboxConsumer, "_handle", never)
    citizen = fake.private_chat(15501, "علی")
    sending = asyncio.create_task(citizen.send("/start", timeout=30))
    await asyncio.wait_for(stuck.wait(), 10)
    assert [status for _, status in fake.webhook_posts] == [200]
    assert fake.pending_updates() == 0, "confirmed to the platform: it will not come again"
    assert (await hooked.app.inbox.counts())["pending"] == 1
    await hooked.crash()
    monkeypatch.undo()

    await hooked.start()
    replies = await asyncio.wait_for(sending, 30)
    assert WELCOMED in said(replies)
    assert [status for _, status in fake.webhook_posts] == [200], "posted once, handled once"
    assert (await hooked.app.inbox.counts())["pending"] == 0


async def test_while_the_app_is_down_the_platform_retries_until_it_is_back(hooked) -> None:
    fake = hooked.telegram
    await hooked.stop()
    citizen = fake.private_chat(15601, "علی")
    sending = asyncio.create_task(citizen.send("/start", timeout=30))
    await wait_until(lambda: len(fake.webhook_posts) >= 2, what="refused posts")
    assert {status for _, status in fake.webhook_posts} == {0}, "nobody answers"
    assert fake.webhook_error is not None and "Connection failed" in fake.webhook_error[1]
    await hooked.start()
    replies = await asyncio.wait_for(sending, 30)
    assert WELCOMED in said(replies)
    assert fake.webhook_posts[-1][1] == 200


@pytest.mark.slow
async def test_healthz_and_metrics(hooked) -> None:
    await hooked.bale.private_chat(15702, "علی").send("/start")
    # a complaint on Telegram: its card goes through the outbox, after a 429 and a 500
    water = hooked.group(WATER, Platform.TELEGRAM)
    hooked.api.fail("sendMessage", "429", retry_after=1, token=TELEGRAM_TOKEN, chat_id=water.id)
    hooked.api.fail("sendMessage", "500", token=TELEGRAM_TOKEN, chat_id=water.id)
    code = await file_water_complaint(hooked.telegram.private_chat(15701, "علی"), photo=False)
    await card_in(hooked, Platform.TELEGRAM, WATER, code)
    await hooked.delivered()

    status, text = await get(f"{hooked.base}/healthz")
    assert status == 200, text
    health = json.loads(text)
    assert health["status"] == "ok" and health["database"] == {"ok": True}
    assert health["inbox"]["pending"] == 0 and health["inbox"]["oldest_seconds"] is None
    assert health["outbox"] == {"pending": 0, "oldest_seconds": None, "parked": 0}
    for name in ("telegram", "bale"):
        seen = health["platforms"][name]
        assert 0 <= seen["last_success_seconds_ago"] < 30, seen
        moment = datetime.fromisoformat(seen["last_success_at"])
        assert abs((datetime.now(UTC) - moment).total_seconds()) < 30

    status, text = await get(f"{hooked.base}/metrics")
    assert status == 200
    lines = text.splitlines()
    assert "# TYPE jihad_updates_handled_total counter" in lines
    filing = len(hooked.telegram.webhook_posts)  # /start, the buttons, name, contact ...
    assert f'jihad_updates_handled_total{{platform="telegram"}} {filing}' in lines
    assert 'jihad_updates_handled_total{platform="bale"} 1' in lines
    assert "# TYPE jihad_update_handling_seconds histogram" in lines
    assert 'jihad_update_handling_seconds_count{platform="bale"} 1' in lines
    assert 'jihad_update_handling_seconds_bucket{platform="bale",le="+Inf"} 1' in lines
    assert 'jihad_sends_total{platform="telegram",outcome="rate_limited"} 1' in lines
    assert 'jihad_sends_total{platform="telegram",outcome="transient"} 1' in lines
    assert 'jihad_rate_limited_total{platform="telegram"} 1' in lines
    sent = [line for line in lines if 'outcome="sent"' in line]
    assert sent and sent[0].startswith('jihad_sends_total{platform="telegram",outcome="sent"} ')
    assert "# TYPE jihad_parked_total counter" in lines
    assert 'jihad_webhook_requests_total{platform="bale",status="200"} 1' in lines
    assert "jihad_outbox_depth 0" in lines and "jihad_outbox_parked 0" in lines
    assert "jihad_inbox_pending 0" in lines and "jihad_database_up 1" in lines
    assert any(line.startswith('jihad_platform_last_success_seconds{platform="bale"}')
               for line in lines)  # fmt: skip
    for line in lines:  # the text format: comments, or `name{labels} number`
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])

    # An update waiting in the inbox longer than HEALTH_MAX_INBOX_LAG (120 s): 503
    old = datetime.now(UTC) - timedelta(minutes=5)
    await hooked.app.inbox.store(4242, [Incoming(1, "4242:chat:1", {"update_id": 1})], old)
    status, text = await get(f"{hooked.base}/healthz")
    health = json.loads(text)
    assert status == 503 and health["status"] == "unhealthy"
    assert health["inbox"]["pending"] == 1 and health["inbox"]["oldest_seconds"] >= 300
    assert health["inbox"]["ok"] is False and health["database"] == {"ok": True}

    # The database not answering: 503, and /metrics says so
    async def down(now: datetime) -> Any:
        raise ConnectionRefusedError("database down")

    hooked.app.monitor.queries.backlogs = down
    status, text = await get(f"{hooked.base}/healthz")
    assert status == 503 and json.loads(text)["database"] == {
        "ok": False, "error": "ConnectionRefusedError"
    }  # fmt: skip
    status, text = await get(f"{hooked.base}/metrics")
    assert status == 200 and "jihad_database_up 0" in text.splitlines()


async def test_polling_starts_again_after_a_webhook(api: FakeBotAPI, tmp_path: Path) -> None:
    """A platform with a webhook refuses getUpdates (409); polling's start removes it."""
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    for fake in (front.telegram, front.bale):
        async with aiohttp.ClientSession() as session:
            token = TELEGRAM_TOKEN if fake is front.telegram else BALE_TOKEN
            async with session.post(
                f"{api.base_url}/bot{token}/getUpdates", json={"timeout": 0}
            ) as answer:
                assert answer.status == 200
            async with session.post(
                f"{api.base_url}/bot{token}/setWebhook", json={"url": "http://127.0.0.1:9/x"}
            ) as answer:
                assert answer.status == 200
            async with session.post(f"{api.base_url}/bot{token}/getUpdates") as answer:
                assert answer.status == 409
                body = await answer.json()
            assert body == {
                "ok": False, "error_code": 409,
                "description": "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            }  # fmt: skip
    try:
        await front.start()
        for fake in (front.telegram, front.bale):
            assert fake.webhook_url == "" and fake.calls_of("deleteWebhook")
            replies = await fake.private_chat(15801, "علی").send("/start")
            assert WELCOMED in said(replies)
    finally:
        await front.stop()
    assert not front.telegram.violations and not front.bale.violations


async def test_an_update_the_database_refuses_is_503_and_comes_again(
    hooked, platform, monkeypatch
) -> None:
    """Not stored, not confirmed: 503, and the platform posts it again until it is."""
    fake = hooked.bot(platform)
    inbox = hooked.app.inbox
    real = inbox.store_seeing
    refusals = [2]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if refusals[0] > 0:
            refusals[0] -= 1
            raise ConnectionResetError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(inbox, "store_seeing", flaky)
    replies = await fake.private_chat(15901, "علی").send("/start")
    assert WELCOMED in said(replies)
    assert [status for _, status in fake.webhook_posts] == [503, 503, 200]
    _, text = await get(f"{hooked.base}/metrics")
    assert f'jihad_webhook_requests_total{{platform="{platform.value}",status="503"}} 2' in text


async def test_the_fakes_webhook_info_reads_as_telegrams(api: FakeBotAPI) -> None:
    fake = api.add_bot("333333:webhook-info-token-CCCCCCCC", "telegram")
    fake.webhook_retry = fake.webhook_retry_max = 5.0  # one failed post is enough here

    async def call(method: str, **params: Any) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session, session.post(
            f"{api.base_url}/bot{fake.token}/{method}", json=params
        ) as answer:  # fmt: skip
            return answer.status, await answer.json()

    assert await call("getWebhookInfo") == (200, {"ok": True, "result": {
        "url": "", "has_custom_certificate": False, "pending_update_count": 0}})  # fmt: skip
    dead = f"http://127.0.0.1:{free_port()}/webhook/telegram/{TELEGRAM_SECRET}"
    assert await call("setWebhook", url=dead, secret_token=TELEGRAM_SECRET) == (
        200, {"ok": True, "result": True})  # fmt: skip
    await fake._push({"message": {"message_id": 1, "text": "x"}})
    await wait_until(lambda: fake.webhook_posts != [], what="a post to the dead address")
    status, body = await call("getWebhookInfo")
    info = body["result"]
    assert status == 200 and info["url"] == dead and info["pending_update_count"] == 1
    assert info["max_connections"] == 40 and isinstance(info["last_error_date"], int)
    assert info["last_error_message"].startswith("Connection failed")
    status, body = await call("setWebhook", url=dead, secret_token="not allowed!")
    assert (status, body["description"]) == (
        400, "Bad Request: secret token contains unallowed characters")  # fmt: skip
    fake.violations.clear()  # asked for on purpose
    assert await call("deleteWebhook", drop_pending_updates=True) == (
        200, {"ok": True, "result": True})  # fmt: skip
    assert await call("getWebhookInfo") == (200, {"ok": True, "result": {
        "url": "", "has_custom_certificate": False, "pending_update_count": 0}})  # fmt: skip


async def test_health_port_beside_polling(api: FakeBotAPI, tmp_path: Path) -> None:
    port = free_port()
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", health_port=port)
    await front.start()
    try:
        await front.telegram.private_chat(16001, "علی").send("/start")
        status, text = await get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(text)["status"] == "ok"
        status, text = await get(f"http://127.0.0.1:{port}/metrics")
        assert 'jihad_updates_handled_total{platform="telegram"} 1' in text.splitlines()
        # polling serves no webhook path, whatever the secret
        status, _ = await post(f"http://127.0.0.1:{port}/webhook/telegram/{TELEGRAM_SECRET}",
                               start_update(1, 16001), {HEADER: TELEGRAM_SECRET})  # fmt: skip
        assert status == 404
    finally:
        await front.stop()
    assert not await asyncio.to_thread(_listening, port), "closed with the app"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
