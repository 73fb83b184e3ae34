"""The sandbox page's HTTP API (bot/sandbox/web.py) over the real bot, on both platforms, as
the page uses it: the admins' pane publishes a draft whose sections are separated by blank
lines and gets the head's report with its chart; contact cards come as a name and a phone,
never as an empty bubble. The browser test (test_sandbox_browser.py) drives the same API
through Chromium; this one needs no browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.web import Chats, SandboxWeb, fake_phone
from bot.ui import exports, texts
from desk import regulations
from desk.calendar import local_date
from desk.model import Platform
from tests.e2e.test_drafts_admin import SUMMARY, TITLE, UNIT, UNIT_NAME, desk_of
from tests.e2e.test_staff_desk import file_water_complaint

LRM = "\u200e"
CITIZEN = 1001


class PageClient:
    """What the page sends: JSON with its own Origin and the key's cookie."""

    def __init__(self, session: aiohttp.ClientSession, origin: str, key: str) -> None:
        self.session, self.origin = session, origin
        port = origin.rsplit(":", 1)[1]
        self.headers = {"Cookie": f"sandbox_key_{port}={key}", "Origin": origin}

    async def get(self, path: str) -> Any:
        async with self.session.get(self.origin + path, headers=self.headers) as res:
            assert res.status == 200, await res.text()
            return await res.json()

    async def post(self, path: str, **body: Any) -> None:
        async with self.session.post(self.origin + path, json=body, headers=self.headers) as res:
            assert res.status == 200, await res.text()

    async def upload(self, platform: str, chat: int, content: bytes, name: str, mime: str) -> None:
        form = aiohttp.FormData({"platform": platform, "chat": str(chat)})
        form.add_field("file", content, filename=name, content_type=mime)
        async with self.session.post(
            self.origin + "/api/file", data=form, headers={**self.headers, "X-Sandbox": "1"}
        ) as res:
            assert res.status == 200, await res.text()

    async def timeline(self, platform: str, chat: int) -> list[Any]:
        data = await self.get(f"/api/messages?platform={platform}&chat={chat}")
        return list(data["messages"])

    async def last_bot(self, platform: str, chat: int) -> Any:
        return [m for m in await self.timeline(platform, chat) if m["from"] == "bot"][-1]

    async def press(self, platform: str, chat: int, label: str) -> None:
        """The inline button with this label on the newest bot message that has it."""
        for message in reversed(await self.timeline(platform, chat)):
            for row in message["buttons"]:
                for button in row:
                    if button["text"] == label:
                        await self.post(
                            "/api/click", platform=platform, chat=chat,
                            message_id=message["id"], data=button["callback_data"],
                        )  # fmt: skip
                        return
        raise AssertionError(f"no button {label!r}")


@pytest.fixture
async def page(front: Any) -> AsyncIterator[PageClient]:
    """The sandbox's web API over the running front office's fake messengers."""
    chats = Chats.from_rules({"telegram": front.telegram, "bale": front.bale}, front.rules)
    served = SandboxWeb(chats, {"organisation": front.rules.organisation})
    runner = web.AppRunner(served.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        try:
            yield PageClient(session, origin, served.key)
        finally:
            await runner.cleanup()


async def test_the_admin_pane_publishes_a_draft_with_its_blank_lines(
    front: Any, page: PageClient, platform: Platform
) -> None:
    name = platform.value
    admins = (await page.get("/api/config"))["admins"]
    chat = front.admins(platform).id
    assert admins[name] == [chat], "the page is told the admins' group of routing_rules.yaml"
    assert await page.timeline(name, chat) == []

    await page.post("/api/send", platform=name, chat=chat, text="/publish")
    question = await page.last_bot(name, chat)
    assert texts.ADMIN_ASK_TITLE in question["html"]
    # Telegram's ForceReply: the page opens the reply by itself, as the apps do; Bale has none
    assert question["force_reply"] is (platform is Platform.TELEGRAM)
    await page.post("/api/send", platform=name, chat=chat, text=TITLE, reply_to=question["id"])
    assert texts.ADMIN_ASK_SUMMARY in (await page.last_bot(name, chat))["html"]
    assert "\n\n" in SUMMARY
    await page.post("/api/send", platform=name, chat=chat, text=SUMMARY)
    typed = [m for m in await page.timeline(name, chat) if m["from"] == "user"][-1]
    assert typed["html"] == SUMMARY, "the lines as typed, blank line included"
    assert typed["name"] == "مدیر"
    assert texts.ADMIN_ASK_FILE in (await page.last_bot(name, chat))["html"]

    await page.upload(name, chat, b"%PDF-1.4\n" + b"x" * 3000, "draft.pdf", "application/pdf")
    asked = await page.last_bot(name, chat)
    assert texts.ADMIN_ASK_UNIT in asked["html"]
    await page.press(name, chat, UNIT_NAME)
    await page.press(name, chat, texts.BTN_DAYS_DEFAULT)
    preview = (await page.last_bot(name, chat))["html"]
    assert "تعداد بخش‌ها: ۲" in preview, "two sections: the blank line reached the bot"
    await page.press(name, chat, texts.BTN_CONFIRM)

    drafts = await regulations.list_drafts(desk_of(front))
    assert [(d.title, d.summary, d.unit) for d in drafts] == [(TITLE, SUMMARY, UNIT)]
    assert drafts[0].created_by is not None and "مدیر نمونه" in drafts[0].created_by
    assert TITLE in (await page.last_bot(name, chat))["html"]


async def test_the_admin_pane_gets_the_report_with_its_chart_and_the_export(
    front: Any, page: PageClient, platform: Platform
) -> None:
    name = platform.value
    await file_water_complaint(front.bot(platform).private_chat(CITIZEN), photo=False)
    chat = front.admins(platform).id
    await page.post("/api/send", platform=name, chat=chat, text="/report")
    # the chart is drawn off the event loop after the text: wait for the photo
    await front.bot(platform).wait_for(lambda m: m.chat_id == chat and m.method == "sendPhoto")
    shown = [m for m in await page.timeline(name, chat) if m["from"] == "bot"]
    report, chart = shown[0], shown[-1]
    assert texts.REPORT_TITLE in report["html"] and texts.REPORT_BY_UNIT in report["html"]
    assert "مدیریت آب و خاک" in report["html"]
    assert chart["media"]["kind"] == "photo"
    assert "به تفکیک واحد" in chart["html"], "the chart's caption"
    async with page.session.get(page.origin + chart["media"]["url"], headers=page.headers) as res:
        assert res.status == 200 and res.headers["Content-Type"] == "image/png"
        assert (await res.read()).startswith(b"\x89PNG")

    today = exports.jalali_day(local_date(front.app.clock.now()))
    await page.post("/api/send", platform=name, chat=chat, text=f"/export {today} {today}")
    workbook = await page.last_bot(name, chat)
    assert workbook["media"]["kind"] == "document"
    assert workbook["media"]["name"] == f"export-{today}-{today}.xlsx"
    async with page.session.get(
        page.origin + workbook["media"]["url"], headers=page.headers
    ) as res:
        assert res.headers["Content-Disposition"].startswith("attachment")
        assert (await res.read()).startswith(b"PK"), "an XLSX workbook, as a download"


async def test_contact_cards_are_a_name_and_a_phone(
    front: Any, page: PageClient, platform: Platform
) -> None:
    name = platform.value
    await page.post("/api/contact", platform=name, chat=CITIZEN)
    shared = (await page.timeline(name, CITIZEN))[0]
    assert shared["from"] == "user" and shared["html"] == ""
    phone = "۰۹۱۵-۰۰۰-۱۰۰۱"  # fake_phone(1001): 989150001001, written as the directory does
    assert fake_phone(CITIZEN) == "989150001001"
    assert shared["contact"] == {"name": "شهروند", "phone": f"{LRM}{phone}{LRM}"}

    # the switchboard's card from «تماس با ما»: the bot's sendContact
    await page.post("/api/send", platform=name, chat=CITIZEN, text="/start")
    await page.post("/api/send", platform=name, chat=CITIZEN, text=texts.BTN_CONTACT)
    await page.press(name, CITIZEN, texts.BTN_SWITCHBOARD_CARD)
    card = (await page.timeline(name, CITIZEN))[-1]
    assert card["from"] == "bot" and card["html"] == ""
    assert card["contact"] == {
        "name": "سازمان جهاد کشاورزی استان خراسان جنوبی تلفن‌خانه",
        "phone": f"{LRM}۰۵۶-۳۲۲۳۱۵۰۰{LRM}",  # +98 56 3223 1500 in directory.yaml
    }
    assert not any(m["contact"] for m in (await page.timeline(name, CITIZEN))[1:-1])
