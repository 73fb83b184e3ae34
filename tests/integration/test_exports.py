"""Exports of a period: the XLSX opens and holds exactly the rows in range, with Jalali dates;
the survey summary matches numbers worked out by hand; the CSV files say the same."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.ui import exports, texts
from desk import services, staff
from desk.calendar import TEHRAN, parse_jalali
from desk.model import (
    Actor,
    Attachment,
    AttachmentKind,
    ChatRef,
    CloseReason,
    Contact,
    Kind,
    NewRequest,
    Platform,
    Request,
    Status,
)
from desk.routing import RoutingRules, load_rules
from storage.exports import ExportData, collect_with
from tests.integration.conftest import Database
from tests.unit.fakes import FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"
CITIZEN = ChatRef(Platform.TELEGRAM, 70_001)
STAFF = Actor(Platform.TELEGRAM, 501, "مریم احمدی")
INJECTION = '=HYPERLINK("http://example.com","click")'


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


def tehran(jalali: str, clock: str = "00:00:00") -> datetime:
    """An aware moment from a Jalali day and a Tehran wall-clock time."""
    day = parse_jalali(jalali)
    hour, minute, second = (int(x) for x in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TEHRAN)


class Seeder:
    """Files and acts on requests at chosen moments, through the desk's own use cases."""

    def __init__(self, db: Database, rules: RoutingRules) -> None:
        self.clock = FixedClock(tehran("1405-01-01"))
        self.uow = db.uow()
        self.rules = rules
        self.desk = staff.Desk(self.uow, rules, self.clock)

    def at(self, moment: datetime) -> None:
        self.clock._now = moment

    async def file(self, moment: datetime, new: NewRequest) -> Request:
        self.at(moment)
        return await services.file_request(new, uow=self.uow, rules=self.rules, clock=self.clock)

    def chat_of(self, request: Request) -> ChatRef:
        chat = self.rules.staff_chat(request.unit or "", request.platform)
        assert chat is not None
        return chat


def complaint(name: str = "زهرا احمدی", phone: str = "09151234567") -> NewRequest:
    return NewRequest(
        kind=Kind.COMPLAINT,
        chat=CITIZEN,
        user_id=70_001,
        text="چاه آب کشاورزی ما از هفته پیش خاموش است.",
        topic="water",
        county="ferdows",
        contact=Contact(name=name, phone=phone, national_code="0499370899"),
        attachments=[Attachment(AttachmentKind.PHOTO, file_id="AgAC", file_unique_id="AQ")],
    )


def survey(service: str, scores: list[int], rules: RoutingRules, comment: str = "") -> NewRequest:
    return NewRequest(
        kind=Kind.SURVEY,
        chat=CITIZEN,
        user_id=70_001,
        text=comment,
        survey={
            "service": service,
            "answers": [
                {"question": q, "score": s}
                for q, s in zip(rules.survey.questions, scores, strict=True)
            ],
        },
    )


@pytest.fixture
async def seeded(db: Database, rules: RoutingRules) -> dict[str, Request]:
    """Requests, events and survey answers around 1405-09 (Azar 1405)."""
    s = Seeder(db, rules)
    x, y = rules.survey.services[0], rules.survey.services[2]
    made: dict[str, Request] = {}
    made["before"] = await s.file(tehran("1405-08-30", "23:30:00"), complaint("علی رضایی"))
    made["first"] = await s.file(tehran("1405-09-01"), complaint())
    made["anonymous"] = await s.file(
        tehran("1405-09-15", "10:00:00"),
        NewRequest(kind=Kind.SUGGESTION, chat=CITIZEN, user_id=None, anonymous=True,
                   text="پیشنهاد می‌کنم ساعت کاری را بیشتر کنید.", topic="extension"),
    )  # fmt: skip
    made["last"] = await s.file(
        tehran("1405-09-30", "23:59:59"),
        NewRequest(kind=Kind.HEAD, chat=CITIZEN, user_id=70_001, text="پیام به رئیس سازمان",
                   contact=Contact(name="رضا کریمی", phone="09150000000")),
    )  # fmt: skip
    made["after"] = await s.file(tehran("1405-10-01"), complaint("سارا نوری"))
    made["s1"] = await s.file(tehran("1405-09-03", "09:00:00"), survey(x, [5, 4, 3, 2], rules))
    made["s2"] = await s.file(tehran("1405-09-10", "09:00:00"), survey(x, [4, 4, 4, 4], rules))
    made["s3"] = await s.file(
        tehran("1405-09-20", "09:00:00"), survey(y, [1, 5, 2, 5], rules, comment=INJECTION)
    )
    made["s4"] = await s.file(tehran("1405-10-02", "09:00:00"), survey(y, [1, 1, 1, 1], rules))

    before, first, anonymous = made["before"], made["first"], made["anonymous"]
    s.at(tehran("1405-09-02", "10:00:00"))
    await staff.claim(s.desk, before.code, chat=s.chat_of(before), actor=STAFF)
    s.at(tehran("1405-09-03", "08:00:00"))
    await staff.claim(s.desk, first.code, chat=s.chat_of(first), actor=STAFF)
    s.at(tehran("1405-09-05", "11:15:00"))
    await staff.answer(s.desk, first.code, "چاه بازدید و برق آن وصل شد.",
                       chat=s.chat_of(first), actor=STAFF)  # fmt: skip
    s.at(tehran("1405-09-06", "12:00:00"))
    await staff.rate(s.desk, first.code, 4, chat=CITIZEN)
    s.at(tehran("1405-09-16", "08:30:00"))
    await staff.close(s.desk, anonymous.code, CloseReason.DUPLICATE,
                      chat=s.chat_of(anonymous), actor=STAFF)  # fmt: skip
    return made


async def azar(db: Database) -> ExportData:
    return await collect_with(db.uow(), *exports.period(parse_jalali("1405-09-01"),
                                                         parse_jalali("1405-09-30")))  # fmt: skip


def rows_of(content: bytes, title: str) -> list[tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(content))[title]
    return list(sheet.iter_rows(values_only=True))


async def test_the_workbook_holds_exactly_the_period(
    db: Database, rules: RoutingRules, seeded: dict[str, Request]
) -> None:
    data = await azar(db)
    content = exports.workbook(exports.sheets(data, rules))
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["درخواست‌ها", "رویدادها", "نظرسنجی", "خلاصه نظرسنجی"]
    assert all(book[name].sheet_view.rightToLeft for name in book.sheetnames)

    requests = rows_of(content, "درخواست‌ها")
    assert requests[0] == texts.EXPORT_REQUEST_HEADERS
    first, anonymous, last = seeded["first"], seeded["anonymous"], seeded["last"]
    assert [r[0] for r in requests[1:]] == [first.code, anonymous.code, last.code]
    row = requests[1]
    assert row[1:9] == (
        "شکایت",
        "پاسخ داده شده",
        rules.units["water_soil"].name,
        "آب و آبیاری",
        "فردوس",
        "1405-09-01 00:00",
        "1405-09-05 11:15",
        exports.stamp(first.due_at),
    )
    assert str(row[8]).startswith("1405-09-") and str(row[8]).endswith("23:59")
    assert row[9:] == (4, 0, "تلگرام", "زهرا احمدی", "09151234567")
    assert requests[2][1:3] == ("پیشنهاد و انتقاد", "بسته شده — تکراری")
    assert requests[2][12:] == ("بدون نام", None)
    head = rules.units["head_office"].name
    routed = texts.EXPORT_STATUS_NAMES[Status.ROUTED]  # the unit has its own column
    assert requests[3][1:4] == ("پیام به رئیس سازمان", routed, head)
    assert requests[3][6] == "1405-09-30 23:59"

    events = rows_of(content, "رویدادها")
    assert events[0] == texts.EXPORT_EVENT_HEADERS
    got = [(e[0], e[2]) for e in events[1:]]
    a = texts.EXPORT_ACTIONS
    s1, s2, s3 = seeded["s1"].code, seeded["s2"].code, seeded["s3"].code
    assert got == [
        (first.code, a["filed"]), (first.code, a["routed"]),
        (seeded["before"].code, a["claimed"]), (first.code, a["claimed"]),
        (s1, a["filed"]), (s1, a["routed"]),
        (first.code, a["answered"]), (first.code, a["rated"]),
        (s2, a["filed"]), (s2, a["routed"]),
        (anonymous.code, a["filed"]), (anonymous.code, a["routed"]),
        (anonymous.code, a["closed"]),
        (s3, a["filed"]), (s3, a["routed"]),
        (last.code, a["filed"]), (last.code, a["routed"]),
    ]  # fmt: skip
    claimed = events[3]
    assert claimed[1] == "1405-09-02 10:00" and claimed[3] == "telegram:501 (مریم احمدی)"
    assert claimed[4] == "در حال بررسی"
    assert events[2][4] == "ارجاع شده" and events[2][5] == rules.units["water_soil"].name
    assert events[13][5] == "تکراری"


async def test_survey_answers_and_their_summary(
    db: Database, rules: RoutingRules, seeded: dict[str, Request]
) -> None:
    content = exports.workbook(exports.sheets(await azar(db), rules))
    x, y = rules.survey.services[0], rules.survey.services[2]
    q = rules.survey.questions
    assert len(q) == 4

    answers = rows_of(content, "نظرسنجی")
    assert answers[0] == ("کد رهگیری", "تاریخ", "خدمت", *q, "توضیح")
    assert answers[1:] == [
        (seeded["s1"].code, "1405-09-03 09:00", x, 5, 4, 3, 2, None),
        (seeded["s2"].code, "1405-09-10 09:00", x, 4, 4, 4, 4, None),
        (seeded["s3"].code, "1405-09-20 09:00", y, 1, 5, 2, 5, INJECTION),
    ]
    # a citizen's «=…» stays text: no formula runs when the file is opened
    sheet = load_workbook(io.BytesIO(content))["نظرسنجی"]
    assert sheet.cell(4, 8).data_type == "s"

    summary = rows_of(content, "خلاصه نظرسنجی")
    assert summary[0] == (*texts.EXPORT_SUMMARY_HEADERS, *texts.LIKERT_LABELS)
    every = texts.EXPORT_ALL_SERVICES
    # worked out by hand from the three answers above
    assert summary[1:] == [
        (every, q[0], 3, 3.33, 1, 0, 0, 1, 1),  # 5, 4, 1
        (every, q[1], 3, 4.33, 0, 0, 0, 2, 1),  # 4, 4, 5
        (every, q[2], 3, 3.0, 0, 1, 1, 1, 0),  # 3, 4, 2
        (every, q[3], 3, 3.67, 0, 1, 0, 1, 1),  # 2, 4, 5
        (x, q[0], 2, 4.5, 0, 0, 0, 1, 1),
        (x, q[1], 2, 4.0, 0, 0, 0, 2, 0),
        (x, q[2], 2, 3.5, 0, 0, 1, 1, 0),
        (x, q[3], 2, 3.0, 0, 1, 0, 1, 0),
        (y, q[0], 1, 1.0, 1, 0, 0, 0, 0),
        (y, q[1], 1, 5.0, 0, 0, 0, 0, 1),
        (y, q[2], 1, 2.0, 0, 1, 0, 0, 0),
        (y, q[3], 1, 5.0, 0, 0, 0, 0, 1),
    ]


async def test_an_empty_period_still_gives_every_sheet(db: Database, rules: RoutingRules) -> None:
    data = await azar(db)
    content = exports.workbook(exports.sheets(data, rules))
    assert rows_of(content, "درخواست‌ها") == [texts.EXPORT_REQUEST_HEADERS]
    assert rows_of(content, "رویدادها") == [texts.EXPORT_EVENT_HEADERS]
    summary = rows_of(content, "خلاصه نظرسنجی")
    assert [r[2] for r in summary[1:]] == [0] * len(rules.survey.questions)
    assert all(r[3] is None for r in summary[1:])


def _as_csv(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith("=") else text


async def test_csv_files_say_what_the_workbook_says(
    db: Database, rules: RoutingRules, seeded: dict[str, Request]
) -> None:
    tables = exports.sheets(await azar(db), rules)
    files = exports.csv_files(tables)
    assert list(files) == [
        "export-requests.csv",
        "export-events.csv",
        "export-survey.csv",
        "export-survey-summary.csv",
    ]
    content = exports.workbook(tables)
    with zipfile.ZipFile(io.BytesIO(exports.csv_zip(tables))) as archive:
        assert archive.namelist() == list(files)
        for (name, raw), table in zip(files.items(), tables, strict=True):
            assert archive.read(name) == raw
            assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
            parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
            table_rows: list[list[Any]] = [list(table.headers), *table.rows]
            assert parsed == [[_as_csv(v) for v in row] for row in table_rows]
            assert len(parsed) == len(rows_of(content, table.title))
    survey = list(csv.reader(io.StringIO(files["export-survey.csv"].decode("utf-8-sig"))))
    assert survey[3][-1] == "'" + INJECTION


def test_period_arguments() -> None:
    first, last = exports.parse_period("۱۴۰۵/۰۹/۰۱ 1405-09-30")
    assert (first, last) == (parse_jalali("1405-09-01"), parse_jalali("1405-09-30"))
    assert exports.file_stem(first, last) == "export-1405-09-01-1405-09-30"
    start, end = exports.period(first, last)
    assert end - start == timedelta(days=30)
    for args, reason in (
        (None, "usage"),
        ("1405-09-01", "usage"),
        ("1405-13-01 1405-09-30", "date"),
        ("1405-09-30 1405-09-01", "order"),
    ):
        with pytest.raises(exports.PeriodError) as caught:
            exports.parse_period(args)
        assert caught.value.reason == reason
    with pytest.raises(exports.PeriodError, match="long"):
        exports.parse_period("1404-01-01 1405-09-30", max_days=366)
