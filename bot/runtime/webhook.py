"""Webhook mode's HTTP side (aiohttp): the platforms' secret paths, `/healthz` and `/metrics`.

`POST /webhook/<platform>/<secret>`: the secret is compared in constant time, and on Telegram the
`X-Telegram-Bot-Api-Secret-Token` header too (`setWebhook`'s `secret_token`); a wrong or missing
one is 404, as for any path that is not there (nothing says a webhook lives here). The body is
repaired as polling repairs getUpdates' answer and parsed once
(`bot.runtime.platforms.parse_update`), written to the inbox with the same `Inbox.store`
polling uses, and only then answered 200: a crash after the answer loses nothing, the row is
handled after the restart. A body that is no update is 400, logged by its size only; a
database that refuses the row is 503, and the platform sends the update again (the inbox
keeps it once, by its update_id).

`/healthz` (JSON) and `/metrics` (Prometheus text, `bot.runtime.metrics`) are served in webhook
mode, and beside polling on HEALTH_PORT when set.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiogram.types import Update
from aiohttp import web

from bot.ports import HealthQueries, Inbox
from bot.runtime.metrics import Metrics
from bot.runtime.platforms import PlatformBot, parse_update
from bot.runtime.polling import InboxConsumer, lane_key
from desk.inbox import Incoming
from desk.model import Platform

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
MAX_BODY = 1024 * 1024  # an update is kilobytes (files come as ids); deploy/nginx says 1m too
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HEALTH_TIMEOUT = 5.0  # seconds the database has to answer /healthz


def webhook_path(platform: Platform, secret: str) -> str:
    """The path a platform posts its updates to."""
    return f"/webhook/{platform.value}/{secret}"


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _not_found() -> web.Response:
    return web.Response(status=404, text="404: Not Found")


class Receiver:
    """Takes each platform's updates into the inbox; the consumer handles them from there."""

    def __init__(
        self,
        bots: Mapping[Platform, PlatformBot],
        secrets: Mapping[Platform, str],
        inbox: Inbox,
        consumer: Callable[[], InboxConsumer | None],
        metrics: Metrics,
    ) -> None:
        self.bots = {p: b for p, b in bots.items() if p in secrets}
        self.secrets = dict(secrets)
        self.inbox = inbox
        self.consumer = consumer  # the running one (it starts with the dispatcher)
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        """One POST from a platform."""
        name = request.match_info.get("platform", "")
        platform = next((p for p in self.bots if p.value == name), None)
        if platform is None:
            return _not_found()
        expected = self.secrets[platform]
        given = request.match_info.get("secret", "")
        secret_ok = _same(given, expected)
        if platform is Platform.TELEGRAM:  # both checked, whatever the first said
            header_ok = _same(request.headers.get(SECRET_HEADER, ""), expected)
            secret_ok = secret_ok and header_ok
        if not secret_ok:
            self.metrics.webhook_answer(platform.value, 404)
            return _not_found()
        response = await self._take(platform, request)
        self.metrics.webhook_answer(platform.value, response.status)
        return response

    async def _take(self, platform: Platform, request: web.Request) -> web.Response:
        bot = self.bots[platform]
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            log.warning("%s webhook: a body over %d bytes; answered 413", platform.value, MAX_BODY)
            return web.Response(status=413)
        parsed = self._parse(platform, bot, body)
        if parsed is None:
            return web.Response(status=400, text="400: not an update")
        payload, update = parsed
        row = Incoming(update.update_id, lane_key(bot.id, update), payload)
        consumer = self.consumer()
        worker = consumer.worker if consumer is not None else ""
        try:
            fresh, earlier = await self.inbox.store_seeing(
                bot.id, [row], datetime.now(UTC), worker=worker
            )
        except Exception as exc:
            # not stored: not confirmed either; the platform sends it again
            log.warning("%s webhook: update %s not stored (%s); answered 503", platform.value,
                        update.update_id, type(exc).__name__)  # fmt: skip
            return web.Response(status=503, text="503: try again")
        if consumer is not None and update.update_id in fresh:
            consumer.offer(bot.id, [update], earlier)
        return web.Response(status=200, text="ok")

    @staticmethod
    def _parse(
        platform: Platform, bot: PlatformBot, body: bytes
    ) -> tuple[dict[str, Any], Update] | None:
        """The update in a body, repaired as polling repairs it (its JSON to store, and the
        update parsed once); None (logged without the content, which is a citizen's message)
        when it is none."""
        try:
            # NaN and Infinity are no JSON: PostgreSQL's json type would refuse the row, and a
            # 503 would have the platform send it for ever
            data = json.loads(body, parse_constant=_no_constant)
        except ValueError:
            data = None
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("%s webhook: a body of %d bytes that is no update; answered 400",
                        platform.value, len(body))  # fmt: skip
            return None
        assert isinstance(data, dict)
        return parse_update(data, bot)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Monitor:
    """`/healthz` and `/metrics`: the database's answer, the backlogs, each platform's last
    successful API call (any of its bots' sessions)."""

    def __init__(
        self,
        queries: HealthQueries,
        bots: Mapping[Platform, Sequence[PlatformBot]],
        metrics: Metrics,
        *,
        max_inbox_lag: float,
    ) -> None:
        self.queries = queries
        self.bots = bots
        self.metrics = metrics
        self.max_inbox_lag = max_inbox_lag

    def _last_success(self) -> dict[str, float | None]:
        """Seconds since each platform's last call that worked (None: none yet)."""
        tick = time.monotonic()
        out: dict[str, float | None] = {}
        for platform, bots in self.bots.items():
            last = max((getattr(b.session, "last_success", 0.0) for b in bots), default=0.0)
            out[platform.value] = round(tick - last, 3) if last > 0 else None
        return out

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether all is well, and the report."""
        now = datetime.now(UTC)
        platforms = {
            name: {
                "last_success_seconds_ago": ago,
                "last_success_at": (
                    None if ago is None
                    else datetime.fromtimestamp(now.timestamp() - ago, UTC).isoformat()
                ),
            }
            for name, ago in self._last_success().items()
        }  # fmt: skip
        report: dict[str, Any] = {"status": "ok", "database": {"ok": True}}
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                backlogs = await self.queries.backlogs(now)
        except Exception as exc:
            report.update(status="unhealthy", database={"ok": False, "error": type(exc).__name__})
            report["platforms"] = platforms
            return False, report
        inbox, outbox = backlogs.inbox, backlogs.outbox
        lagging = inbox.oldest_seconds is not None and inbox.oldest_seconds > self.max_inbox_lag
        report["inbox"] = {
            "pending": inbox.pending,
            "oldest_seconds": _round(inbox.oldest_seconds),
            "max_lag_seconds": self.max_inbox_lag,
            "ok": not lagging,
        }
        report["outbox"] = {
            "pending": outbox.pending,
            "oldest_seconds": _round(outbox.oldest_seconds),
            "parked": backlogs.parked,
        }
        report["platforms"] = platforms
        if lagging:
            report["status"] = "unhealthy"
        return not lagging, report

    async def metrics_text(self) -> str:
        """The Prometheus exposition; the gauges that need the database are left out when it
        does not answer (`jihad_database_up` 0)."""
        gauges: dict[str, tuple[str, float | Mapping[str, float]]] = {}
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                backlogs = await self.queries.backlogs(datetime.now(UTC))
        except Exception:
            gauges["database_up"] = ("Whether the database answered this scrape.", 0)
        else:
            gauges["database_up"] = ("Whether the database answered this scrape.", 1)
            gauges["inbox_pending"] = ("Updates in the inbox not handled yet.",
                                       backlogs.inbox.pending)  # fmt: skip
            gauges["inbox_oldest_seconds"] = ("Age of the oldest update waiting in the inbox.",
                                              backlogs.inbox.oldest_seconds or 0)  # fmt: skip
            gauges["outbox_depth"] = ("Outbox rows not sent yet.", backlogs.outbox.pending)
            gauges["outbox_oldest_seconds"] = ("Age of the oldest unsent outbox row.",
                                               backlogs.outbox.oldest_seconds or 0)  # fmt: skip
            gauges["outbox_parked"] = ("Outbox rows parked (python -m bot outbox).",
                                       backlogs.parked)  # fmt: skip
        seen = {k: v for k, v in self._last_success().items() if v is not None}
        gauges["platform_last_success_seconds"] = (
            "Seconds since the platform's last successful API call.",
            seen,
        )
        return self.metrics.render(gauges)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def web_app(monitor: Monitor, receiver: Receiver | None = None) -> web.Application:
    """The aiohttp application: the webhook paths when `receiver` is given, and the
    monitoring paths; everything else is 404."""
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(request: web.Request) -> web.Response:
        ok, report = await monitor.health()
        return web.json_response(report, status=200 if ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        text = await monitor.metrics_text()
        return web.Response(body=text.encode(), headers={"Content-Type": PROMETHEUS_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if receiver is not None:
        app.router.add_post("/webhook/{platform}/{secret}", receiver.handle)
    return app


class ListenFailed(RuntimeError):
    """The address cannot be listened on (taken, or not this host's)."""


class WebServer:
    """The aiohttp server of one App; access log off (paths hold secrets)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port (0: a free port, then in `port`)."""
        self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise ListenFailed(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        self.port = int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening and finish the requests in hand."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
