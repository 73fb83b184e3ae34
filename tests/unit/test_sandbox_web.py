"""The sandbox page shows Telegram HTML safely: b/i/code kept, everything else is text; and it
answers the person who started it only, not the web pages their browser visits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.fakebotapi import FakeBot
from bot.sandbox.web import Chats, SandboxWeb, card_phone, fake_phone, plain_html, telegram_html


def test_only_bold_italic_code_survive() -> None:
    text = '<b>شکایت</b> <a href="x">لینک</a> <i>کج</i> <code>۱۲۳</code> &lt;script&gt;'
    out = telegram_html(text)
    assert out == "<b>شکایت</b> لینک <i>کج</i> <code>۱۲۳</code> &lt;script&gt;"


def test_attributes_and_scripts_never_pass() -> None:
    out = telegram_html('<b onclick="x()">a</b><script>alert(1)</script><img src=x onerror=y>')
    assert out == "<b>a</b>alert(1)"


def test_bale_text_is_escaped_whole() -> None:
    assert plain_html("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_fake_phone_is_an_iranian_mobile() -> None:
    assert fake_phone(1001) == "989150001001"


def test_a_contact_card_writes_its_number_as_the_directory_does() -> None:
    lrm = "\u200e"
    assert card_phone("+985632231500") == f"{lrm}۰۵۶-۳۲۲۳۱۵۰۰{lrm}"
    assert card_phone("989151234567") == f"{lrm}۰۹۱۵-۱۲۳-۴۵۶۷{lrm}"  # shared without its +
    assert card_phone("+14155550100") == f"{lrm}+۱۴۱۵۵۵۵۰۱۰۰{lrm}"  # not Iranian: as it came


# The page's guard: a real server on loopback, requests as a hostile web page would send them.


@pytest.fixture
async def served() -> AsyncIterator[tuple[SandboxWeb, str, aiohttp.ClientSession]]:
    bots = {
        "telegram": FakeBot("7000001:sandbox-telegram-token-AAAAAAAA", "telegram", "sandbox_bot"),
        "bale": FakeBot("7000002:sandbox-bale-token-BBBBBBBB", "bale", "sandbox_bot"),
    }
    page = SandboxWeb(Chats(bots=bots, units=[]), {"organisation": "سازمان"})
    runner = web.AppRunner(page.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
    # no cookie jar of its own: each test says which cookie it carries
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        try:
            yield page, origin, session
        finally:
            await runner.cleanup()


def keyed(page: SandboxWeb, origin: str) -> dict[str, str]:
    """The cookie the page's first load leaves, as a header."""
    port = origin.rsplit(":", 1)[1]
    return {"Cookie": f"sandbox_key_{port}={page.key}"}


async def test_no_key_is_403_everywhere(served: Any) -> None:
    page, origin, session = served
    for path in ("/", "/api/config", "/api/messages?chat=1001", f"/?k={page.key}x"):
        async with session.get(origin + path, allow_redirects=False) as res:
            assert res.status == 403, path
            assert "sandbox" not in "".join(res.cookies)
    async with session.post(
        origin + "/api/send", json={"chat": 1001, "text": "x"}, headers={"Origin": origin}
    ) as res:
        assert res.status == 403


async def test_the_key_leaves_a_strict_httponly_cookie_and_a_clean_address(served: Any) -> None:
    page, origin, session = served
    async with session.get(
        f"{origin}/?k={page.key}&as=citizen&id=1002", allow_redirects=False
    ) as res:
        assert res.status == 303
        assert res.headers["Location"] == "/?as=citizen&id=1002"
        cookie = res.headers["Set-Cookie"]
    assert page.key in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    async with session.get(origin + "/", headers=keyed(page, origin)) as res:
        assert res.status == 200 and 'dir="rtl"' in await res.text()
        assert res.headers["X-Frame-Options"] == "DENY"
    async with session.get(origin + "/api/config", headers=keyed(page, origin)) as res:
        assert res.status == 200 and (await res.json())["organisation"] == "سازمان"


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1", "127.0.0.1:1", "", "x"])
async def test_other_host_headers_are_refused(served: Any, host: str) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 still says Host: evil.example."""
    page, origin, session = served
    port = origin.rsplit(":", 1)[1]
    headers = {**keyed(page, origin), "Host": host.format(port=port)}
    async with session.get(f"{origin}/?k={page.key}", headers=headers) as res:
        assert res.status == 421


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
async def test_loopback_names_are_served(served: Any, host: str) -> None:
    page, origin, session = served
    port = origin.rsplit(":", 1)[1]
    headers = {**keyed(page, origin), "Host": host.format(port=port)}
    async with session.get(origin + "/api/config", headers=headers) as res:
        assert res.status == 200


@pytest.mark.parametrize(
    "origin_header",
    [None, "http://evil.example", "http://127.0.0.1:1", "null", "https://127.0.0.1:{port}"],
)
async def test_cross_origin_posts_are_403(served: Any, origin_header: str | None) -> None:
    page, origin, session = served
    port = origin.rsplit(":", 1)[1]
    headers = keyed(page, origin)
    if origin_header is not None:
        headers["Origin"] = origin_header.format(port=port)
    for path, body in (("/api/send", {"chat": 1001, "text": "/start"}), ("/api/contact", {})):
        async with session.post(origin + path, json=body, headers=headers) as res:
            assert res.status == 403, (path, origin_header)
    assert page.chats.bots["telegram"].pending_updates() == 0


async def test_form_posts_are_refused(served: Any) -> None:
    """What a <form> on another site can send: urlencoded, text/plain, multipart without header."""
    page, origin, session = served
    headers = {**keyed(page, origin), "Origin": origin}
    async with session.post(
        origin + "/api/send", data={"chat": "1001", "text": "/start"}, headers=headers
    ) as res:
        assert res.status == 415
    async with session.post(
        origin + "/api/send",
        data='{"chat": 1001, "text": "/start"}',
        headers={**headers, "Content-Type": "text/plain"},
    ) as res:
        assert res.status == 415
    form = aiohttp.FormData({"chat": "1001", "platform": "telegram"})
    script = b"<script>alert(1)</script>"
    form.add_field("file", script, filename="x.html", content_type="text/html")
    async with session.post(origin + "/api/file", data=form, headers=headers) as res:
        assert res.status == 403
    form = aiohttp.FormData({"chat": "1001"})
    async with session.post(
        origin + "/api/file", data=form(), headers={**headers, "X-Sandbox": "1"}
    ) as res:
        assert res.status == 415  # urlencoded, not multipart
    assert page.chats.bots["telegram"].pending_updates() == 0


async def test_files_are_downloads_under_unguessable_ids(served: Any) -> None:
    page, origin, session = served
    bot = page.chats.bots["telegram"]
    script = b"<html><script>alert(document.cookie)</script></html>"
    as_html = bot.upload(script, "document", "page.html", "text/html")["file_id"]
    as_svg = bot.upload(b"<svg onload=alert(1)/>", "document", "x.svg", "image/svg+xml")["file_id"]
    photo = bot.upload(b"\x89PNG\r\n\x1a\n", "photo", None, "image/png")["file_id"]
    urls = [page.chats.file_url("telegram", f) for f in (as_html, as_svg, photo)]
    assert page.chats.file_url("telegram", as_html) == urls[0]
    assert all(as_html not in u and photo not in u and len(u) > 30 for u in urls)
    for url in urls[:2]:
        async with session.get(origin + url, headers=keyed(page, origin)) as res:
            assert res.status == 200
            assert res.headers["Content-Type"] == "application/octet-stream"
            assert res.headers["Content-Disposition"].startswith("attachment")
            assert res.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in res.headers["Content-Security-Policy"]
    async with session.get(origin + urls[2], headers=keyed(page, origin)) as res:
        assert res.headers["Content-Type"] == "image/png"
        assert res.headers["X-Content-Type-Options"] == "nosniff"
    # a photo the bot uploads (the head's chart) has no type of its own: its bytes tell
    chart = bot.upload(b"\x89PNG\r\n\x1a\nchart", "photo", None, "application/octet-stream")
    fake = bot.upload(b"<html>", "photo", None, "application/octet-stream")
    for file, kind in ((chart, "image/png"), (fake, "application/octet-stream")):
        url = page.chats.file_url("telegram", file["file_id"])
        async with session.get(origin + url, headers=keyed(page, origin)) as res:
            assert res.headers["Content-Type"] == kind
    for guess in (f"/api/file/telegram/{as_html}", f"/api/file/{as_html}"):
        async with session.get(origin + guess, headers=keyed(page, origin)) as res:
            assert res.status == 404, guess
    async with session.get(origin + urls[0]) as res:
        assert res.status == 403  # the file's address alone is not enough
