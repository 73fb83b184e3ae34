"""bot.runtime.redact: what the log filter masks (phones in every spelling, national codes, SQL
parameters, tokens) and what it leaves visible (tracking codes, timestamps, update ids)."""

from __future__ import annotations

import logging
import random
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.runtime.redact import RedactSecrets, is_national_code, redact
from desk import tracking, validation
from desk.text import to_persian_digits
from desk.validation import InvalidInput
from storage.db import make_engine

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
NATIONAL_CODE = "0084575948"  # passes the checksum
TRACKING_ONLY = "1234567805"  # a valid tracking code (Damm) that fails the national-code checksum
TRACKING_AND_NATIONAL = "1234568055"  # passes both checksums: masked (the accepted price)

PHONES = [
    "09151234567",
    "9151234567",
    "989151234567",
    "+989151234567",
    "00989151234567",
    "0915 123 4567",
    "0915-123-4567",
    "0915.123.4567",
    "0915 123 45 67",
    "(0915) 1234567",
    "(0915) 123-4567",
    "+98 915 123 4567",
    "+98-915-123-4567",
    "+98 (915) 123 4567",
    "+98 (0) 915 123 4567",
    "0098 915 123 4567",
    "0098-915-1234567",
    "۰۹۱۵۱۲۳۴۵۶۷",
    "۰۹۱۵ ۱۲۳ ۴۵۶۷",
    "+۹۸۹۱۵۱۲۳۴۵۶۷",
    "٠٩١٥١٢٣٤٥٦٧",
    "٠٩١٥-١٢٣-٤٥٦٧",
    "+۹۸ ۹۱۵ 123 ٤٥٦٧",  # mixed scripts
    "0915\u00a0123\u00a04567",  # no-break spaces
    # landlines with their area code
    "056-32224410",
    "05632224410",
    "(056) 3222 4410",
    "056 3222 4410",
    "021-88776655",
    "+98 56 3222 4410",
    "+98-21-88776655",
    "۰۵۶-۳۲۲۲۴۴۱۰",
    "٠٥٦ ٣٢٢٢ ٤٤١٠",
]

NATIONAL_CODES = [
    NATIONAL_CODE,
    to_persian_digits(NATIONAL_CODE),
    NATIONAL_CODE.translate(ARABIC),
    "008-457594-8",
    "۰۰۸-۴۵۷۵۹۴-۸",
    "1276543212",
    "0641234562",
    TRACKING_AND_NATIONAL,
]

VISIBLE = [
    TRACKING_ONLY,
    to_persian_digits(TRACKING_ONLY),
    "1234567890",  # ten digits failing the national-code checksum
    "0084575949",  # a national code with a wrong check digit
    "0000000000",  # passes the arithmetic, but is no code (validation refuses it too)
    "update 734561290 is handled",
    "Update id=734561290 is handled. Duration 12 ms by bot id=123456",
    "2026-12-01 11:08:41,123",
    "2026-12-01T11:08:41.123456+03:30",
    "1733051321.4471",  # a unix timestamp with fractions
    "12345678901234",  # a longer number: no national code, no phone inside
    "0915123456",  # a mobile with a digit missing
    "091512345678",  # and with one too many
    "chat telegram:31001 page 3 of 9",
    "took 0.915 s",
    "message_id=915",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_spellings_are_masked(phone: str) -> None:
    masked = redact(f"شماره من {phone} است")
    assert masked == "شماره من <phone> است", masked


@pytest.mark.parametrize("phone", PHONES[:6])
def test_phone_is_masked_next_to_punctuation(phone: str) -> None:
    assert redact(f"phone={phone}, ok") == "phone=<phone>, ok"
    assert redact(f"«{phone}»") == "«<phone>»"
    assert redact(f"['{phone}', 'x']") == "['<phone>', 'x']"


@pytest.mark.parametrize("code", NATIONAL_CODES)
def test_national_codes_are_masked(code: str) -> None:
    assert redact(f"کد ملی {code} است") == "کد ملی <national-code> است"
    assert redact(f"code='{code}'") == "code='<national-code>'"


@pytest.mark.parametrize("text", VISIBLE)
def test_what_is_not_personal_stays_visible(text: str) -> None:
    assert redact(text) == text


def test_a_group_named_as_a_chat_stays_readable() -> None:
    # a Bale group's ten-digit id that passes the national-code checksum: the operator must
    # see which unit's group a warning is about
    group = "5100000015"
    assert is_national_code(group)
    for line in (
        f"Flood control exceeded on method 'SendMessage' in chat {group}. Retry in 1.0 seconds.",
        f"administrators of bale:{group} not fetched (TelegramForbiddenError); none known",
        f"chat_id={group}",
        f"telegram:-1001000000004 and bale:{group}",
    ):
        assert redact(line) == line
    # anywhere else the same ten digits are a national code
    assert redact(f"national_code={group}") == "national_code=<national-code>"
    assert redact(f"chatter {group}") == "chatter <national-code>"
    assert redact(f"in chat 30009, code {NATIONAL_CODES[0]}").endswith("<national-code>")


def test_the_fixtures_are_what_they_claim() -> None:
    assert tracking.is_valid(TRACKING_ONLY) and not is_national_code(TRACKING_ONLY)
    assert tracking.is_valid(TRACKING_AND_NATIONAL) and is_national_code(TRACKING_AND_NATIONAL)
    assert validation.national_code(NATIONAL_CODE) == NATIONAL_CODE


def test_national_code_check_agrees_with_validation() -> None:
    rng = random.Random(1405)
    for _ in range(5000):
        code = "".join(rng.choice("0123456789") for _ in range(10))
        try:
            validation.national_code(code)
            valid = True
        except InvalidInput:
            valid = False
        assert is_national_code(code) is valid, code
        if valid:  # one starting with 9 reads as a mobile without its 0: masked as well
            assert redact(code) == ("<phone>" if code[0] == "9" else "<national-code>")


# codes filed before tracking.generate left out 9 and the national-code checksum (issue 15, 8)
CODE_WITH_9 = "9123456784"  # valid (Damm), starts with 9: reads as a mobile without its 0
CODE_WITH_9_AND_NATIONAL = "9012345677"  # valid, starts with 9, passes the national checksum
NAMED_CODES = [CODE_WITH_9, CODE_WITH_9_AND_NATIONAL, TRACKING_AND_NATIONAL, TRACKING_ONLY]
# the lines the bot itself writes about a request (bot/conversations/filing.py,
# bot/handlers/followup.py, bot/workers/delivery/senders.py, storage delivery errors)
CODE_LINES = [
    "filed complaint request {} to unit water_soil",
    "clarification quota on request {}: waits until 2026-12-01T11:08:41+00:00",
    "outbox 17: no card of request {} in telegram:-1001000000001 to edit; sending it anew",
    "Permanent: request {} does not exist",
    "OutboxRow(id=3, request_code='{}', kind='staff_card')",
    "Request #{} reopened",
    "tracking code: {}",
]


def test_the_fixtures_with_9_are_codes_and_read_as_phones() -> None:
    for code in (CODE_WITH_9, CODE_WITH_9_AND_NATIONAL):
        assert tracking.is_valid(code) and code[0] == "9"
        assert redact(code) == "<phone>", "alone, ten digits starting with 9 are a mobile"
    assert is_national_code(CODE_WITH_9_AND_NATIONAL) and not is_national_code(CODE_WITH_9)


@pytest.mark.parametrize("line", CODE_LINES)
@pytest.mark.parametrize("code", NAMED_CODES)
def test_a_code_the_bot_names_stays_readable(line: str, code: str) -> None:
    assert redact(line.format(code)) == line.format(code)


def test_a_logged_filing_keeps_its_code_and_masks_the_phone() -> None:
    record = _record(
        "filed %s request %s to unit %s; citizen %s, %s, national code %s",
        "complaint", CODE_WITH_9, "water_soil", "9151234561", "09151234561", "1234568055",
    )  # fmt: skip
    assert RedactSecrets().filter(record)
    assert record.getMessage() == (
        f"filed complaint request {CODE_WITH_9} to unit water_soil; "
        "citizen <phone>, <phone>, national code <national-code>"
    )


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        # a mobile after «request» that fails the Damm check is a mobile
        ("request 9151234567", "request <phone>"),
        ("request_code='9151234567'", "request_code='<phone>'"),
        # with its 0, +98 or separators a number is never a code (codes are ten bare digits)
        ("request 09151234561", "request <phone>"),
        ("request +989151234561", "request <phone>"),
        ("request 915 123 4561", "request <phone>"),
        ("request ۰۹۱۵۱۲۳۴۵۶۱", "request <phone>"),
        ("request 056-32224410", "request <phone>"),
        # a national code that is no valid code, next to a label
        ("request 0084575948", "request <national-code>"),
        # labels other than a request's keep nothing: national codes and phones stay masked
        (f"national code {TRACKING_AND_NATIONAL}", "national code <national-code>"),
        (f"national_code='{TRACKING_AND_NATIONAL}'", "national_code='<national-code>'"),
        (f"code={TRACKING_AND_NATIONAL}", "code=<national-code>"),
        (f"phone {CODE_WITH_9}", "phone <phone>"),
        (f"chat_request {CODE_WITH_9}", "chat_request <phone>"),
        (f"{CODE_WITH_9} request", "<phone> request"),
    ],
)
def test_phones_and_national_codes_stay_masked_next_to_codes(line: str, masked: str) -> None:
    assert redact(line) == masked


def test_many_codes_and_phones_in_one_line() -> None:
    codes = [tracking.generate() for _ in range(50)] + [CODE_WITH_9] * 3
    line = "; ".join(f"request {c} by 0915123456{n % 10}" for n, c in enumerate(codes))
    expected = "; ".join(f"request {c} by <phone>" for c in codes)
    assert redact(line) == expected


def test_sql_parameters_are_dropped() -> None:
    error = (
        "(sqlite3.OperationalError) database is locked\n"
        "[SQL: INSERT INTO requests (name, phone) VALUES (?, ?)]\n"
        "[parameters: ('علی رضایی', 'آب چاه قطع شده', 17)]\n"
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    masked = redact(error)
    assert "علی" not in masked and "آب چاه" not in masked
    assert "[parameters: <hidden>]" in masked
    assert "[SQL: INSERT INTO requests" in masked and "database is locked" in masked
    assert "[parameters: <hidden>]" in redact("[SQL parameters hidden due to hide_parameters=True]")


def test_tokens_are_masked() -> None:
    assert redact("GET /bot123456789:AAHk-abcdefghij_KLMN/getUpdates") == (
        "GET /bot<token>/getUpdates"
    )


def test_webhook_secrets_in_paths_are_masked() -> None:
    secret = "3f9a" * 16
    assert redact(f"Error handling request POST /webhook/telegram/{secret} HTTP/1.1") == (
        "Error handling request POST /webhook/telegram/<secret> HTTP/1.1"
    )
    assert redact(f"url='https://bot.example.ir/webhook/bale/{secret}'") == (
        "url='https://bot.example.ir/webhook/bale/<secret>'"
    )


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("t", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_filter_masks_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("citizen 0915 123 4567, code ۰۰۸۴۵۷۵۹۴۸")
    except ValueError as exc:
        record = _record("saving %s for %s failed", "+98 915 123 4567", TRACKING_ONLY, exc=exc)
    assert record.exc_info is not None and sys.exc_info()[0] is None
    assert RedactSecrets().filter(record)
    text = logging.Formatter().format(record)
    assert "Traceback" in text and "ValueError" in text
    assert "123 4567" not in text and "۴۵۷۵۹۴۸" not in text
    assert f"saving <phone> for {TRACKING_ONLY} failed" in text
    assert "citizen <phone>, code <national-code>" in text


def test_filter_is_fast() -> None:
    import time

    line = "Update id=734561290 is handled. Duration 12 ms by bot id=123456 " * 4
    pathological = "1" * 5000 + " 1" * 2000 + "-9" * 2000
    start = time.process_time()  # this process's CPU: what the filter costs, whatever else runs
    for _ in range(2000):
        redact(line)
    redact(pathological)
    assert time.process_time() - start < 1.0


async def test_engines_hide_statement_parameters(tmp_path: Path) -> None:
    """Without any log filter: SQLAlchemy's error text names the statement, not its values."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as caught:
                await conn.execute(
                    text("INSERT INTO nowhere (name, phone) VALUES (:name, :phone)"),
                    {"name": "علی رضایی", "phone": "09151234567"},
                )
    finally:
        await engine.dispose()
    message = str(caught.value)
    assert "INSERT INTO nowhere" in message and "hide_parameters" in message
    assert "علی" not in message and "09151234567" not in message
