"""Security end to end: no token, phone number, national code, name or complaint text in the
logs (a failing write at DEBUG included), the per-chat flood limit,
and the ban list operators edit (issue 7)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.__main__ import setup_logging
from bot.runtime.middlewares import FloodLimit
from bot.runtime.redact import RedactSecrets
from bot.ui import texts
from desk.model import Platform
from desk.text import to_persian_digits
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN, Front
from tests.e2e.helpers import said, tracking_code
from tests.e2e.test_staff_desk import WATER, card_in, file_water_complaint, next_to

PHONE_DIGITS = ("9151234567", "۹۱۵۱۲۳۴۵۶۷")  # the tail every format shares: 0915…, +98915…, 98915…


class _Collect(logging.Handler):
    """Keeps every formatted line, as the real stderr handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.addFilter(RedactSecrets())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.slow
async def test_logs_hold_no_token_and_no_phone(api, tmp_path: Path, platform: Platform) -> None:
    root = logging.getLogger()
    collect, level = _Collect(), root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    try:
        await front.start()
        fake = front.bot(platform)
        citizen = fake.private_chat(31001, "علی")
        code = await file_water_complaint(citizen)  # shares +989151234567 as a contact
        card = await card_in(front, platform, WATER, code)
        water = front.group(WATER, platform)
        mark = len(fake.sent)
        # staff paste the number in every spelling; the answer reaches the citizen
        await water.send(
            "با شماره 09151234567 یا +989151234567 یا 989151234567 تماس گرفتیم.", reply_to=card
        )
        await next_to(front, platform, citizen.chat_id, mark, "تماس گرفتیم")
        await citizen.send(code)  # a tracking-code look-up
        await front.stop()
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    text = "\n".join(collect.lines)
    assert len(collect.lines) > 50, "DEBUG logging was captured"
    for secret in (TELEGRAM_TOKEN, BALE_TOKEN, TELEGRAM_TOKEN.split(":")[1], *PHONE_DIGITS):
        assert secret not in text, f"{secret!r} reached the logs"


def _flood_limit(front: Front) -> FloodLimit:
    assert front.app is not None
    found = [m for m in front.app.dispatcher.update.outer_middleware if isinstance(m, FloodLimit)]
    assert len(found) == 1
    return found[0]


@pytest.mark.slow
async def test_flooding_citizen_is_slowed_staff_are_not(front, platform: Platform) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(32001, "مریم")
    answered = [bool(await citizen.send("/start")) for _ in range(100)]
    assert answered[:30] == [True] * 30, "up to FLOOD_PER_MINUTE (30) messages are answered"
    assert not any(answered[31:]), "beyond the limit the chat is ignored"
    notices = [m for m in citizen.messages() if m.current_text() == texts.FLOOD_SLOW_DOWN]
    assert len(notices) == 1, "the citizen is told once"

    # a staff group writing 100 messages is never limited: its answer still goes through
    other = fake.private_chat(32002, "علی")
    code = await file_water_complaint(other, photo=False)
    card = await card_in(front, platform, WATER, code)
    water = front.group(WATER, platform)
    for n in range(100):
        await water.send(f"هماهنگی داخلی شماره {n}")
    mark = len(fake.sent)
    await water.send("پاسخ کارشناس پس از صد پیام.", reply_to=card)
    await next_to(front, platform, other.chat_id, mark, "پس از صد پیام")
    assert texts.FLOOD_SLOW_DOWN not in said(fake.messages_to(water.id))
    # so is the admin chat
    admins = front.admins(platform)
    for _ in range(40):
        assert await admins.send("/drafts"), "admins are answered every time"

    # once the minute has passed, the citizen is heard again
    _flood_limit(front).now = lambda: float("inf")
    assert await citizen.send("/start")


async def test_button_presses_count_toward_the_flood_limit(front, platform: Platform) -> None:
    """60 presses of a button may not make the bot write 120 messages to one chat: presses
    count like messages, the ones over the limit only stop the button's spinner."""
    fake = front.bot(platform)
    citizen = fake.private_chat(32003, "رضا")
    menu = (await citizen.send("/start"))[-1]
    offer = [m for m in citizen.messages() if texts.BTN_SUBSCRIBE in m.buttons()]
    target = offer[0] if offer else menu
    mark = len(fake.sent)
    for _ in range(60):
        if offer:
            await citizen.click(texts.BTN_SUBSCRIBE, message=target)
        else:
            await citizen.click_data("ds:1", target)
    to_citizen = [m for m in fake.sent[mark:] if m.chat_id == citizen.chat_id]
    assert len(to_citizen) <= 30 + 1, f"{len(to_citizen)} messages for 60 presses"
    assert sum(m.current_text() == texts.FLOOD_SLOW_DOWN for m in to_citizen) == 1
    assert len(fake.callback_answers) >= 60, "every press was answered (no endless spinner)"


async def test_ban_list_is_reread_and_unban_restores(api, tmp_path: Path) -> None:
    banned = tmp_path / "banned.yaml"
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", banned_file=banned)
    await front.start()
    try:
        citizen = front.telegram.private_chat(33001, "حسن")
        bystander = front.bale.private_chat(33001, "حسن")  # the same id on the other messenger
        menu = await citizen.send("/start")
        assert menu
        banned.write_text(
            "banned:\n  - chat: telegram:33001\n    reason: آزار کارشناسان\n  - bale:1\n",
            encoding="utf-8",
        )
        assert await citizen.send("/start") == [], "a banned chat gets nothing"
        assert await citizen.click(texts.BTN_COMPLAINT) == []
        assert await citizen.send_contact("+989151234567") == []
        # a button press is answered silently (the fake flags a press left unanswered)
        assert await citizen.click(texts.BTN_SUBSCRIBE, message=menu[1]) == []
        assert await bystander.send("/start"), "a ban names its platform"
        # a malformed edit keeps the previous list
        banned.write_text("banned: [telegram:abc]\n", encoding="utf-8")
        assert await citizen.send("/start") == []
        banned.write_text("banned: []\n", encoding="utf-8")
        assert await citizen.send("/start"), "unban restores"
    finally:
        await front.stop()
    for fake in (front.telegram, front.bale):
        assert not fake.violations


# ------------------------------------------------------------- personal data in a faulty session
NAME = "پرویز ناصری‌پور"
PHONE_TYPED = "(0915) 765-4321"  # at the phone step
PHONES_IN_TEXT = (
    "0915 765 4321", "0098-915-765-4321", "۰۹۱۵۷۶۵۴۳۲۱", "٠٩١٥ ٧٦٥ ٤٣٢١", "056-32224410",
)  # fmt: skip
NATIONAL_CODE = "0084575948"  # passes the national-code checksum
PHRASE = "چاه عمیق روستای گزیک"
DESCRIPTION_WITH_DATA = (
    f"{PHRASE} سه هفته است خاموش است. با {PHONES_IN_TEXT[0]} یا {PHONES_IN_TEXT[1]} یا "
    f"{PHONES_IN_TEXT[2]} یا {PHONES_IN_TEXT[3]} یا تلفن ثابت {PHONES_IN_TEXT[4]} تماس بگیرید. "
    f"کد ملی من {to_persian_digits(NATIONAL_CODE)} است."
)


def _personal_data(*, words: bool = True) -> list[str]:
    """Every piece of personal data the citizen types, as typed and as bare digits, in each
    digit script (`words`: the name and the description's phrase too)."""
    pieces = {PHONE_TYPED, *PHONES_IN_TEXT}
    if words:
        pieces |= {NAME, *NAME.split(), PHRASE}
    digits = {
        "09157654321", "9157654321", "989157654321", "00989157654321", "7654321", "765 4321",
        "765-4321", "05632224410", "32224410", NATIONAL_CODE,
    }  # fmt: skip
    for number in digits:
        pieces |= {number, to_persian_digits(number), number.translate(ARABIC_DIGITS)}
    return sorted(pieces)


ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("driver_lines", [False, True], ids=["as-shipped", "driver-debug-on"])
async def test_faulty_session_at_debug_logs_no_personal_data(
    api, tmp_path: Path, platform: Platform, capsys: pytest.CaptureFixture[str], driver_lines: bool
) -> None:
    """A complaint full of personal data, its first confirm refused by a locked database, at
    LOG_LEVEL=DEBUG through the real setup_logging. As shipped, nothing personal is logged.
    With the SQL driver's DEBUG lines forced on (every statement with its values: a logging
    setup gone wrong), RedactSecrets still masks every phone and the national code; a name or
    a description it cannot tell from other text, hence the driver's lines are off."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    capsys.readouterr()
    setup_logging("DEBUG")  # the real thing: a stderr handler with RedactSecrets, at DEBUG
    if driver_lines:
        logging.getLogger("aiosqlite").setLevel(logging.DEBUG)
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    refused: list[str] = []
    try:
        await front.start()
        fake = front.bot(platform)
        citizen = fake.private_chat(34001, "پرویز")
        await citizen.send("/start")
        await citizen.click(texts.BTN_COMPLAINT)
        await citizen.click("آب و آبیاری")
        await citizen.click("فردوس")
        await citizen.send(NAME)
        await citizen.send(PHONE_TYPED)
        await citizen.send(NATIONAL_CODE)
        await citizen.send(DESCRIPTION_WITH_DATA)
        summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
        assert to_persian_digits(NATIONAL_CODE) in summary, "every step took what was typed"
        assert front.app is not None
        engine = front.app.engine.sync_engine

        def locked(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            inbox = "update_inbox" in statement or "inbox_lanes" in statement  # the bot's own
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and not inbox:
                refused.append(statement)
                # the driver's own error: SQLAlchemy wraps it with the statement's parameters
                raise sqlite3.OperationalError("database is locked")

        event.listen(engine, "before_cursor_execute", locked)
        try:
            assert texts.ERR_TRY_AGAIN in said(await citizen.click(texts.BTN_CONFIRM))
        finally:
            event.remove(engine, "before_cursor_execute", locked)
        # the lock is gone: the complaint is filed and its card reaches the staff group
        code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
        await card_in(front, platform, WATER, code)
        await front.delivered()
        await front.stop()
    finally:
        await front.stop()
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in loggers.items():
            logging.getLogger(name).setLevel(old)
    text = capsys.readouterr().err
    assert refused, "the write was attempted"
    assert text.count("\n") > 50, "DEBUG logging was captured"
    assert "Traceback" in text and "database is locked" in text, "the failure was logged"
    assert "[SQL: INSERT" in text, "the statement (without its values) is still there to debug"
    # a tracking code never looks like a phone or a national code, so it stays readable
    assert code in text, "the tracking code is visible"
    leaked = [piece for piece in _personal_data(words=not driver_lines) if piece in text]
    assert not leaked, f"personal data in the logs: {leaked}"
    if driver_lines:
        assert "aiosqlite: executing" in text and "INSERT INTO requests" in text
        assert "<phone>" in text and "<national-code>" in text, "the values passed the filter"
