"""The browser sandbox (`python -m bot sandbox`) in headless Chromium: a citizen files a complaint
on the page, the staff group's pane shows the card, a reply to the card answers it, and the
citizen's pane shows the answer; phone numbers and contact cards keep their digit groups in
order; the admins' pane publishes a draft typed on several lines and gets the head's report,
its chart in view. One sandbox and one Chromium serve the module's tests (each its own tab and
citizen). Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import re
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.sandbox.run import Sandbox
from bot.ui import texts
from tests.e2e.conftest import ROOT
from tests.e2e.test_drafts_admin import SUMMARY, TITLE, UNIT_NAME
from tests.e2e.test_staff_desk import file_water_complaint

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
    pytest.mark.asyncio(loop_scope="module"),
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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    folder = tmp_path_factory.mktemp("sandbox")
    running = Sandbox(
        port=free_port(),
        database_url=f"sqlite+aiosqlite:///{folder / 'sandbox.db'}",
        routing_rules=ROOT / "routing_rules.yaml",
        directory_file=ROOT / "directory.yaml",
        _env_file=None,
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
    for fake in running.fakes.values():
        assert not fake.violations, f"{fake.flavour} protocol violations: {fake.violations}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the module: each test opens its own tab."""
    async with playwright_api.async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


class Pane:
    """One pane of the page (citizen, staff, head, admin), driven as a person would."""

    def __init__(self, page: Any, kind: str) -> None:
        self.node = page.locator(f'section[data-pane="{kind}"]')
        self.input = self.node.locator("form.input textarea")

    async def typed(self, text: str) -> None:
        """Typed into the input and sent with Enter."""
        await self.input.fill(text)
        await self.input.press("Enter")

    async def button(self, label: str) -> None:
        """The newest button with this label (inline, reply keyboard or the empty chat's)."""
        target = self.node.get_by_role("button", name=label, exact=True).last
        await playwright_api.expect(target).to_be_visible(timeout=WAIT)
        await target.click()

    async def bot_says(self, fragment: str) -> None:
        await playwright_api.expect(self.node.locator(".msg.bot").last).to_contain_text(
            fragment, timeout=WAIT
        )


async def open_page(browser: Any, sandbox: Sandbox, **params: object) -> Any:
    page = await browser.new_page(viewport={"width": 1500, "height": 900})
    await page.goto(sandbox.link(**params))
    return page


async def test_citizen_files_staff_answers_in_the_browser(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "field.png"
    photo.write_bytes(tiny_png())
    page = await open_page(browser, sandbox)  # the full view: citizen 1001, staff, head, admins
    assert page.url == sandbox.origin + "/", "the key is left in a cookie, not the address"
    html = page.locator("html")
    assert await html.get_attribute("dir") == "rtl"
    assert await html.get_attribute("lang") == "fa"
    citizen = Pane(page, "citizen")
    staff = Pane(page, "staff").node
    expect = playwright_api.expect

    # an empty chat says how to begin; its «شروع» sends /start
    await expect(citizen.node.locator(".hint")).to_contain_text("/start", timeout=WAIT)
    await citizen.button("شروع")
    await expect(citizen.node.locator(".msg.user").first).to_have_text(re.compile("/start"))
    await expect(citizen.node.locator(".hint")).to_have_count(0)
    await citizen.button(texts.BTN_COMPLAINT)
    await citizen.button("آب و آبیاری")
    await citizen.button("فردوس")
    await citizen.bot_says("نام")
    await citizen.typed("علی رضایی")
    await citizen.button(texts.BTN_SHARE_PHONE)  # the contact button shares a number
    shared = citizen.node.locator(".msg.user .card").last  # a card, not an empty bubble
    await expect(shared.locator(".phone")).to_have_text("\u200e۰۹۱۵-۰۰۰-۱۰۰۱\u200e")
    await expect(shared.locator(".name")).to_have_text("شهروند")
    await citizen.button(texts.BTN_NO_NATIONAL_CODE)  # no national code
    await citizen.bot_says("شرح")
    await citizen.typed("آب کشاورزی روستای ما سه هفته است قطع شده و باغ‌ها خشک می‌شوند.")
    await expect(citizen.node.get_by_role("button", name=texts.BTN_NO_ATTACHMENTS)).to_be_visible(
        timeout=WAIT
    )
    await citizen.node.locator("input[type=file]").set_input_files(str(photo))
    await expect(citizen.node.locator(".msg.user img")).to_be_visible(timeout=WAIT)
    await citizen.button(texts.BTN_DONE)
    await citizen.button(texts.BTN_CONFIRM)
    await citizen.bot_says("کد رهگیری")
    receipt = await citizen.node.locator(".msg.bot").last.inner_text()
    code = re.search(r"کد رهگیری: ?([۰-۹]{10})", receipt)
    assert code, receipt

    # The card is in the water and soil unit's group; a reply to it is the answer.
    card = staff.locator(".msg.bot", has_text=code.group(1)).first
    await expect(card).to_be_visible(timeout=WAIT)
    await expect(staff.locator(".msg.bot img")).to_be_visible(timeout=WAIT)
    await card.locator("a.reply").click()
    answer = "لوله اصلی تعمیر شد و آب از فردا صبح وصل است."
    await staff.locator("form.input textarea").fill(answer)
    await staff.get_by_role("button", name="ارسال", exact=True).click()

    await expect(citizen.node.locator(".msg.bot", has_text=answer)).to_be_visible(timeout=WAIT)
    best = texts.RATE_LABELS[-1]  # «۵ عالی»: the answer comes with its rating buttons
    await expect(citizen.node.get_by_role("button", name=best, exact=True).last).to_be_visible(
        timeout=WAIT
    )
    await expect(card).to_contain_text("پاسخ داده شده", timeout=WAIT)

    # A second citizen in another tab starts with an empty chat of their own.
    second = await open_page(browser, sandbox, **{"as": "citizen", "platform": "bale", "id": 2002})
    await expect(second.locator('section[data-pane="citizen"].bale')).to_be_visible()
    assert await second.locator('section[data-pane="staff"]').count() == 0
    await expect(second.locator(".hint")).to_contain_text("/start", timeout=WAIT)
    assert await second.locator(".msg").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "sandbox.png"), full_page=True)
    await page.context.close()
    await second.context.close()


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


async def test_phone_numbers_keep_their_digit_groups_in_order(
    sandbox: Sandbox, browser: Any
) -> None:
    """Chromium lays text out with the bidi algorithm the apps use: the switchboard's area code
    «۰۵۶» stays left of «۳۲۲۳۱۵۰۰», as people read a number; without the marks it would not.
    A contact card's number too."""
    page = await open_page(browser, sandbox, id=1003)
    citizen = Pane(page, "citizen")
    staff = Pane(page, "staff").node
    expect = playwright_api.expect

    await citizen.typed("/start")
    await citizen.button(texts.BTN_CONTACT)
    office = citizen.node.locator(".msg.bot", has_text="۳۲۲۳۱۵۰۰").last
    await expect(office).to_be_visible(timeout=WAIT)
    groups = ["۰۵۶", "۳۲۲۳۱۵۰۰"]
    area, rest = await office.locator(".text").evaluate(_GROUP_LEFTS, groups)
    assert area is not None and rest is not None
    assert area < rest, "the area code is on the left, the number in order"

    assert not await office.evaluate(_UNMARKED_COPY)
    unmarked = citizen.node.locator(".msg.unmarked .text")
    area, rest = await unmarked.evaluate(_GROUP_LEFTS, groups)
    assert area > rest, "without the marks the groups swap: the test can see it"
    await citizen.node.locator(".msg.unmarked").evaluate("(node) => node.remove()")

    # the switchboard's contact card (the bot's sendContact): a name and the number in order
    await citizen.button(texts.BTN_SWITCHBOARD_CARD)
    card = citizen.node.locator(".msg.bot .card").last
    await expect(card.locator(".name")).to_contain_text("تلفن‌خانه", timeout=WAIT)
    await expect(card.locator(".phone")).to_contain_text("۳۲۲۳۱۵۰۰")
    area, rest = await card.locator(".phone").evaluate(_GROUP_LEFTS, groups)
    assert area < rest, "the card's area code is on the left"

    await citizen.button("مدیریت باغبانی")
    await expect(citizen.node.locator(".msg.bot", has_text="مهندس ابوالفضل شریفی").last
                 ).to_be_visible(timeout=WAIT)  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    await citizen.node.screenshot(path=str(ARTIFACTS / "directory.png"))

    # a receipt, and the card with the citizen's number in the unit's group
    await citizen.typed("/start")
    await citizen.button(texts.BTN_COMPLAINT)
    await citizen.button("آب و آبیاری")
    await citizen.button("فردوس")
    await citizen.typed("علی رضایی")
    await citizen.button(texts.BTN_SHARE_PHONE)
    await citizen.button(texts.BTN_NO_NATIONAL_CODE)
    await citizen.typed("آب چاه روستای خراشاد قطع شده است، پروانه ۱۲۳۴ به نام پدرم است.")
    await citizen.button(texts.BTN_NO_ATTACHMENTS)
    await citizen.button(texts.BTN_CONFIRM)
    await citizen.bot_says("کد رهگیری")
    await citizen.node.screenshot(path=str(ARTIFACTS / "receipt.png"))
    card = staff.locator(".msg.bot", has_text="پروانه ۱۲۳۴").last
    await expect(card).to_be_visible(timeout=WAIT)
    await staff.screenshot(path=str(ARTIFACTS / "card.png"))
    await page.context.close()


# How far the newest message is below the visible part of a chat (0: in view, at the bottom)
_BELOW = "(log) => log.scrollHeight - log.scrollTop - log.clientHeight"


async def test_the_admins_pane_publishes_a_draft_and_gets_the_report(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    """/publish with a summary typed on several lines (Shift+Enter), then /report: its chart
    loads after it is drawn, and the chat still shows the newest message."""
    await file_water_complaint(sandbox.fakes["telegram"].private_chat(1006), photo=False)
    pdf = tmp_path / "draft.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"x" * 3000)
    page = await open_page(browser, sandbox, id=1005)
    admin = Pane(page, "admin")
    expect = playwright_api.expect
    await expect(admin.node.locator(".head")).to_contain_text("گروه مدیران (تلگرام)")
    await expect(admin.node.locator(".hint")).to_contain_text("/publish", timeout=WAIT)

    await admin.button("/publish")  # the empty chat's button
    await admin.bot_says(texts.ADMIN_ASK_TITLE)
    # Telegram's ForceReply: the page opens a reply to the question, as the apps do
    await expect(admin.node.locator(".replying.on")).to_contain_text(texts.ADMIN_ASK_TITLE)
    await admin.typed(TITLE)
    await admin.bot_says("خلاصه")

    first, second = SUMMARY.split("\n\n")
    one_line = await admin.input.evaluate("(node) => node.offsetHeight")
    await admin.input.fill(first)
    await admin.input.press("Shift+Enter")
    await admin.input.press("Shift+Enter")
    await page.keyboard.insert_text(second)
    assert await admin.input.input_value() == SUMMARY, "Shift+Enter adds a line, sends nothing"
    assert await admin.input.evaluate("(node) => node.offsetHeight") > one_line, "it grows"
    await admin.input.press("Enter")
    await expect(admin.node.locator(".msg.user .text").last).to_have_text(SUMMARY)
    assert await admin.input.input_value() == ""
    await admin.bot_says("فایل")

    await admin.node.locator("input[type=file]").set_input_files(str(pdf))
    await expect(admin.node.locator(".msg.user a", has_text="draft.pdf")).to_be_visible()
    await admin.button(UNIT_NAME)
    await admin.button(texts.BTN_DAYS_DEFAULT)
    await admin.bot_says("تعداد بخش‌ها: ۲")  # the blank line made two sections
    await admin.button(texts.BTN_CONFIRM)
    published = admin.node.locator(".msg.bot", has_text="منتشر شد")
    await expect(published).to_contain_text(TITLE, timeout=WAIT)

    await admin.typed("/report")
    chart = admin.node.locator(".msg.bot img").last
    await expect(chart).to_be_visible(timeout=WAIT)
    await chart.evaluate("(img) => img.decode()")
    height = await chart.evaluate("(img) => img.getBoundingClientRect().height")
    assert height > 50, "the chart is drawn at its size"
    log = admin.node.locator(".log")
    assert await log.evaluate("(log) => log.scrollHeight > log.clientHeight"), "the chat scrolls"
    await page.wait_for_function(
        f"(log) => ({_BELOW})(log) < 2", arg=await log.element_handle(), timeout=WAIT
    )
    await expect(admin.node.locator(".msg.bot").last).to_contain_text("به تفکیک واحد")
    ARTIFACTS.mkdir(exist_ok=True)
    await admin.node.screenshot(path=str(ARTIFACTS / "admins.png"))
    await page.context.close()
