"""The browser sandbox (`python -m bot sandbox`) in headless Chromium: a citizen files a complaint
on the page, the staff group's pane shows the card, a reply to the card answers it, and the
citizen's pane shows the answer. A screenshot is kept in test-artifacts/sandbox.png."""

from __future__ import annotations

import re
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.run import Sandbox
from bot.ui import texts
from tests.e2e.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 15_000  # ms: one step of the bot plus a 500 ms poll, with room for a slow CI machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.timeout(90),
]
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (pip install -e .[dev])"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tiny_png() -> bytes:
    """A valid 2×2 green PNG, made here (no file in the repository)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x2f\x6b\x3a" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    running = Sandbox(
        port=free_port(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        routing_rules=ROOT / "routing_rules.yaml",
        directory_file=ROOT / "directory.yaml",
        _env_file=None,
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.mark.slow
async def test_citizen_files_staff_answers_in_the_browser(sandbox: Sandbox, tmp_path: Path):
    photo = tmp_path / "field.png"
    photo.write_bytes(tiny_png())
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1500, "height": 900})
            await page.goto(sandbox.url)  # the full view: citizen, staff group, head's office
            assert page.url == sandbox.origin + "/", "the key is left in a cookie, not the address"
            html = page.locator("html")
            assert await html.get_attribute("dir") == "rtl"
            assert await html.get_attribute("lang") == "fa"
            citizen = page.locator('section[data-pane="citizen"]')
            staff = page.locator('section[data-pane="staff"]')
            expect = playwright_api.expect

            async def button(label: str) -> None:
                target = citizen.get_by_role("button", name=label, exact=True).last
                await expect(target).to_be_visible(timeout=WAIT)
                await target.click()

            async def bot_says(fragment: str) -> None:
                await expect(citizen.locator(".msg.bot").last).to_contain_text(
                    fragment, timeout=WAIT
                )

            async def typed(text: str) -> None:
                await citizen.locator("form.input input[type=text]").fill(text)
                await citizen.get_by_role("button", name="ارسال", exact=True).click()

            await typed("/start")
            await button(texts.BTN_COMPLAINT)
            await button("آب و آبیاری")
            await button("فردوس")
            await bot_says("نام")
            await typed("علی رضایی")
            await button(texts.BTN_SHARE_PHONE)  # the contact button shares a number
            await button(texts.BTN_NO_NATIONAL_CODE)  # no national code
            await bot_says("شرح")
            await typed("آب کشاورزی روستای ما سه هفته است قطع شده و باغ‌ها خشک می‌شوند.")
            await expect(
                citizen.get_by_role("button", name=texts.BTN_NO_ATTACHMENTS)
            ).to_be_visible(timeout=WAIT)
            await citizen.locator("input[type=file]").set_input_files(str(photo))
            await expect(citizen.locator(".msg.user img")).to_be_visible(timeout=WAIT)
            await button(texts.BTN_DONE)
            await button(texts.BTN_CONFIRM)
            await bot_says("کد رهگیری")
            receipt = await citizen.locator(".msg.bot").last.inner_text()
            code = re.search(r"کد رهگیری: ?([۰-۹]{10})", receipt)
            assert code, receipt

            # The card is in the water and soil unit's group; a reply to it is the answer.
            card = staff.locator(".msg.bot", has_text=code.group(1)).first
            await expect(card).to_be_visible(timeout=WAIT)
            await expect(staff.locator(".msg.bot img")).to_be_visible(timeout=WAIT)
            await card.locator("a.reply").click()
            answer = "لوله اصلی تعمیر شد و آب از فردا صبح وصل است."
            await staff.locator("form.input input[type=text]").fill(answer)
            await staff.get_by_role("button", name="ارسال", exact=True).click()

            await expect(citizen.locator(".msg.bot", has_text=answer)).to_be_visible(timeout=WAIT)
            best = texts.RATE_LABELS[-1]  # «۵ عالی»: the answer comes with its rating buttons
            await expect(citizen.get_by_role("button", name=best, exact=True).last).to_be_visible(
                timeout=WAIT
            )
            await expect(card).to_contain_text("پاسخ داده شده", timeout=WAIT)

            # A second citizen in another tab starts with an empty chat of their own.
            second = await browser.new_page()
            await second.goto(sandbox.link(**{"as": "citizen", "platform": "bale", "id": 2002}))
            await expect(second.locator('section[data-pane="citizen"].bale')).to_be_visible()
            assert await second.locator('section[data-pane="staff"]').count() == 0
            assert await second.locator(".msg").count() == 0

            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "sandbox.png"), full_page=True)
        finally:
            await browser.close()
    for fake in sandbox.api._bots.values():
        assert not fake.violations, f"{fake.flavour} protocol violations: {fake.violations}"


# Where each digit group of a phone number lies on screen, left edge first: for every text in
# `groups`, the left of the first box of its first occurrence inside `node`.
_GROUP_LEFTS = """(node, groups) => groups.map((group) => {
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const at = text.data.indexOf(group);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(text, at);
    range.setEnd(text, at + group.length);
    return range.getClientRects()[0].left;
  }
  return null;
})"""

# The same bubble again at the end of the chat, with the bot's left-to-right marks taken out:
# what a citizen would see had the number not been marked.
_UNMARKED_COPY = """(node) => {
  const copy = node.cloneNode(true);
  const walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    text.data = text.data.replaceAll("\\u200e", "");
  }
  copy.classList.add("unmarked");
  node.parentNode.append(copy);
  return copy.textContent.includes("\\u200e");
}"""


@pytest.mark.slow
async def test_phone_numbers_keep_their_digit_groups_in_order(sandbox: Sandbox) -> None:
    """Chromium lays text out with the bidi algorithm the apps use: the switchboard's area code
    «۰۵۶» stays left of «۳۲۲۳۱۵۰۰», as people read a number; without the marks it would not."""
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1500, "height": 900})
            await page.goto(sandbox.url)
            citizen = page.locator('section[data-pane="citizen"]')
            staff = page.locator('section[data-pane="staff"]')
            expect = playwright_api.expect

            async def typed(text: str) -> None:
                await citizen.locator("form.input input[type=text]").fill(text)
                await citizen.get_by_role("button", name="ارسال", exact=True).click()

            async def button(label: str) -> None:
                target = citizen.get_by_role("button", name=label, exact=True).last
                await expect(target).to_be_visible(timeout=WAIT)
                await target.click()

            await typed("/start")
            await button(texts.BTN_CONTACT)
            office = citizen.locator(".msg.bot", has_text="۳۲۲۳۱۵۰۰").last
            await expect(office).to_be_visible(timeout=WAIT)
            groups = ["۰۵۶", "۳۲۲۳۱۵۰۰"]
            area, rest = await office.locator(".text").evaluate(_GROUP_LEFTS, groups)
            assert area is not None and rest is not None
            assert area < rest, "the area code is on the left, the number in order"

            assert not await office.evaluate(_UNMARKED_COPY)
            unmarked = citizen.locator(".msg.unmarked .text")
            area, rest = await unmarked.evaluate(_GROUP_LEFTS, groups)
            assert area > rest, "without the marks the groups swap: the test can see it"
            await citizen.locator(".msg.unmarked").evaluate("(node) => node.remove()")

            await button("مدیریت باغبانی")
            await expect(citizen.locator(".msg.bot", has_text="مهندس ابوالفضل شریفی").last
                         ).to_be_visible(timeout=WAIT)  # fmt: skip
            ARTIFACTS.mkdir(exist_ok=True)
            await citizen.screenshot(path=str(ARTIFACTS / "directory.png"))

            # a receipt, and the card with the citizen's number in the unit's group
            await typed("/start")
            await button(texts.BTN_COMPLAINT)
            await button("آب و آبیاری")
            await button("فردوس")
            await typed("علی رضایی")
            await button(texts.BTN_SHARE_PHONE)
            await button(texts.BTN_NO_NATIONAL_CODE)
            await typed("آب چاه روستای خراشاد قطع شده است، پروانه ۱۲۳۴ به نام پدرم است.")
            await button(texts.BTN_NO_ATTACHMENTS)
            await button(texts.BTN_CONFIRM)
            await expect(citizen.locator(".msg.bot").last).to_contain_text(
                "کد رهگیری", timeout=WAIT
            )
            await citizen.screenshot(path=str(ARTIFACTS / "receipt.png"))
            card = staff.locator(".msg.bot", has_text="پروانه ۱۲۳۴").last
            await expect(card).to_be_visible(timeout=WAIT)
            await staff.screenshot(path=str(ARTIFACTS / "card.png"))
        finally:
            await browser.close()
