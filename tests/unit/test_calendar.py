"""desk.calendar: Jalali conversion (against jdatetime), parsing, and working-day deadlines.

Expected deadlines are counted by hand in the comments; the calendar of the months used:

         March 2026                November 2026             December 2026
    Sa Su Mo Tu We Th Fr      Sa Su Mo Tu We Th Fr      Sa Su Mo Tu We Th Fr
        1  2  3  4  5  6          1  2  3  4  5  6                1  2  3  4
     7  8  9 10 11 12 13       7  8  9 10 11 12 13       5  6  7  8  9 10 11
    14 15 16 17 18 19 20      14 15 16 17 18 19 20      12 13 14 15 16 17 18
    21 22 23 24 25 26 27      21 22 23 24 25 26 27      19 20 21 22 23 24 25
    28 29 30 31               28 29 30                  26 27 28 29 30 31

Tehran is UTC+03:30 all year (no DST since 2022; these months were outside the old DST
period anyway), so 23:59:59 Tehran is 20:29:59 UTC of the same date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import jdatetime
import pytest

from desk.calendar import (
    TEHRAN,
    WorkCalendar,
    end_of_day,
    gregorian_to_jalali,
    half_time,
    jalali_to_gregorian,
    local_date,
    parse_jalali,
    start_of_day,
)

FIRST_YEAR, LAST_YEAR = 1390, 1420


def tehran(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware moment given in Tehran wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=TEHRAN)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


# --- conversion, against jdatetime -------------------------------------------------------------


def test_every_gregorian_day_of_1390_to_1420_converts_like_jdatetime() -> None:
    day = jdatetime.date(FIRST_YEAR, 1, 1).togregorian()
    last = jdatetime.date(LAST_YEAR, 12, _month_length(LAST_YEAR, 12)).togregorian()
    count = 0
    while day <= last:
        expected = jdatetime.date.fromgregorian(date=day)
        assert gregorian_to_jalali(day) == (expected.year, expected.month, expected.day), day
        day += timedelta(days=1)
        count += 1
    assert count > 31 * 365  # 31 years were really walked


def test_every_jalali_day_of_1390_to_1420_converts_like_jdatetime() -> None:
    previous: date | None = None
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            for day in range(1, _month_length(year, month) + 1):
                got = jalali_to_gregorian(year, month, day)
                assert got == jdatetime.date(year, month, day).togregorian(), (year, month, day)
                # consecutive Jalali days are consecutive Gregorian days: no gaps, no repeats
                assert previous is None or got == previous + timedelta(days=1)
                previous = got
            # the day after the month's last does not exist
            with pytest.raises(ValueError):
                jalali_to_gregorian(year, month, _month_length(year, month) + 1)


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ((1405, 1, 1), date(2026, 3, 21)),  # Nowruz 1405
        ((1405, 9, 7), date(2026, 11, 28)),  # 7 Azar 1405
        ((1405, 9, 3), date(2026, 11, 24)),  # a holiday in the shipped rules
        ((1404, 12, 29), date(2026, 3, 20)),  # last day of the common year 1404
        ((1403, 12, 30), date(2025, 3, 20)),  # leap day of 1403
        ((1404, 1, 1), date(2025, 3, 21)),
        ((1405, 6, 31), date(2026, 9, 22)),  # last 31-day month ends
        ((1405, 7, 1), date(2026, 9, 23)),  # first 30-day month begins
    ],
)
def test_known_dates(jalali: tuple[int, int, int], gregorian: date) -> None:
    assert jalali_to_gregorian(*jalali) == gregorian
    assert gregorian_to_jalali(gregorian) == jalali


def test_leap_years() -> None:
    assert jalali_to_gregorian(1403, 12, 30) == date(2025, 3, 20)  # 1403 is leap
    assert jalali_to_gregorian(1399, 12, 30) == date(2021, 3, 20)  # so is 1399
    with pytest.raises(ValueError):
        jalali_to_gregorian(1404, 12, 30)  # 1404 is not
    with pytest.raises(ValueError):
        jalali_to_gregorian(1405, 12, 30)


@pytest.mark.parametrize(
    "jalali",
    [
        (1405, 13, 1),  # month 13
        (1405, 0, 1),  # month 0
        (1405, 1, 0),  # day 0
        (1405, 1, 32),  # 32 Farvardin
        (1405, 7, 31),  # 31 Mehr: the second half-year has 30-day months
        (1405, 11, 31),
        (1405, 12, 31),
        (1404, 12, 30),  # not a leap year
    ],
)
def test_invalid_jalali_dates_raise(jalali: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        jalali_to_gregorian(*jalali)


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1405-09-03",
        "1405/9/3",
        "1405/09/03",
        "1405-9-03",
        "۱۴۰۵-۰۹-۰۳",  # Persian digits
        "١٤٠٥/٩/٣",  # Arabic-Indic digits
        "  1405-09-03 \n",
    ],
)
def test_parse_jalali_accepts_usual_spellings(text: str) -> None:
    assert parse_jalali(text) == date(2026, 11, 24)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "۳ آذر ۱۴۰۵",
        "1405-09",
        "05-09-03",
        "14050-09-03",
        "1405-09-03x",
        "1405.09.03",
        "1405 09 03",
        "1405-009-03",
        "1405-13-01",  # well formed, no such month
        "1405-07-31",  # well formed, no such day
        "1404-12-30",  # well formed, not a leap year
    ],
)
def test_parse_jalali_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_jalali(text)


# --- days in Tehran ----------------------------------------------------------------------------


def test_start_and_end_of_day_are_tehran_midnight_and_last_second_in_utc() -> None:
    start = start_of_day(date(2026, 3, 15))
    end = end_of_day(date(2026, 3, 15))
    assert start == utc(2026, 3, 14, 20, 30)  # 00:00 Tehran = 20:30 UTC the day before
    assert end == utc(2026, 3, 15, 20, 29, 59)  # 23:59:59 Tehran
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert local_date(start) == local_date(end) == date(2026, 3, 15)
    assert local_date(start - timedelta(seconds=1)) == date(2026, 3, 14)
    assert local_date(end + timedelta(seconds=1)) == date(2026, 3, 16)


def test_half_time_is_the_midpoint() -> None:
    filed = utc(2026, 3, 1, 8, 0)
    due = utc(2026, 3, 11, 8, 0)
    assert half_time(filed, due) == utc(2026, 3, 6, 8, 0)


# --- working-day deadlines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "days", "expected"),
    [
        # Sun 1 Mar, 11:30 Tehran: Sunday itself never counts; Mon 2 is day 1
        (tehran(2026, 3, 1, 11, 30), 1, date(2026, 3, 2)),
        # Mon 2 (1), Tue 3 (2), Wed 4 (3)
        (tehran(2026, 3, 1, 11, 30), 3, date(2026, 3, 4)),
        # Mon 2 (1), Tue 3 (2), Wed 4 (3), Thu 5 and Fri 6 off, Sat 7 (4)
        (tehran(2026, 3, 1, 11, 30), 4, date(2026, 3, 7)),
        # Mon 2, Tue 3, Wed 4 (3), Sat 7, Sun 8, Mon 9, Tue 10, Wed 11 (8), Sat 14 (9), Sun 15 (10)
        (tehran(2026, 3, 1, 11, 30), 10, date(2026, 3, 15)),
        # filed on Thursday 5: Fri 6 off, Sat 7 (1)
        (tehran(2026, 3, 5, 12, 0), 1, date(2026, 3, 7)),
        # filed on Friday 6: Sat 7 (1)
        (tehran(2026, 3, 6, 9, 0), 1, date(2026, 3, 7)),
        # filed on Saturday 7 at 08:00: Sat never counts, Sun 8 (1)
        (tehran(2026, 3, 7, 8, 0), 1, date(2026, 3, 8)),
        # Wednesday 4 at 23:30 Tehran (20:00 UTC): still Wednesday; Thu, Fri off; Sat 7 (1)
        (utc(2026, 3, 4, 20, 0), 1, date(2026, 3, 7)),
        # Saturday 7 at 00:30 Tehran is Friday 6 21:00 UTC: the filing day is Saturday in
        # Tehran, so it does not count; Sun 8 (1). (Counting by the UTC date would give Sat 7.)
        (utc(2026, 3, 6, 21, 0), 1, date(2026, 3, 8)),
        # Wednesday 4 at 23:59:59 Tehran is still Wednesday: Sat 7 (1)
        (tehran(2026, 3, 4, 23, 59, 59), 1, date(2026, 3, 7)),
        # Thursday 5 at 00:00 Tehran is Thursday: Fri off, Sat 7 (1)
        (tehran(2026, 3, 5, 0, 0), 1, date(2026, 3, 7)),
    ],
)
def test_due_counts_working_days_after_the_filing_day(
    filed: datetime, days: int, expected: date
) -> None:
    due = WorkCalendar().due(filed, days)
    # 23:59:59 Tehran of the expected date = 20:29:59 UTC the same date
    assert due == utc(expected.year, expected.month, expected.day, 20, 29, 59)
    assert due.tzinfo is UTC
    assert due.astimezone(TEHRAN).replace(tzinfo=None) == datetime(
        expected.year, expected.month, expected.day, 23, 59, 59
    )


def test_due_accepts_any_aware_filing_time() -> None:
    """The same instant in UTC or in Tehran gives the same deadline."""
    calendar = WorkCalendar()
    instant = tehran(2026, 3, 4, 23, 30)
    assert calendar.due(instant, 1) == calendar.due(instant.astimezone(UTC), 1)


def test_due_skips_holidays() -> None:
    calendar = WorkCalendar(holidays=frozenset({date(2026, 3, 2), date(2026, 3, 3)}))
    # filed Sun 1: Mon 2 and Tue 3 are holidays, Wed 4 (1), Thu/Fri off, Sat 7 (2)
    assert calendar.due(tehran(2026, 3, 1, 10, 0), 2) == utc(2026, 3, 7, 20, 29, 59)


def test_a_holiday_on_a_weekend_or_the_filing_day_changes_nothing() -> None:
    calendar = WorkCalendar(holidays=frozenset({date(2026, 3, 6), date(2026, 3, 1)}))
    # filed Sun 1 (a holiday, but it never counts): Mon 2, Tue 3, Wed 4, Fri 6 is off anyway,
    # Sat 7 (4)
    assert calendar.due(tehran(2026, 3, 1, 10, 0), 4) == utc(2026, 3, 7, 20, 29, 59)


def test_due_with_the_shipped_holiday_of_3_azar() -> None:
    """1405-09-03 is Tuesday 24 November 2026."""
    calendar = WorkCalendar.of([5, 6, 0, 1, 2], [parse_jalali("1405-09-03")])
    # filed Sat 21 Nov: Sun 22 (1), Mon 23 (2), Tue 24 holiday, Wed 25 (3), Sat 28 (4),
    # Sun 29 (5), Mon 30 (6), Tue 1 Dec (7), Wed 2 (8), Sat 5 (9), Sun 6 (10)
    assert calendar.due(tehran(2026, 11, 21, 10, 0), 10) == utc(2026, 12, 6, 20, 29, 59)


def test_due_with_other_working_days() -> None:
    six_days = WorkCalendar(working_days=(5, 6, 0, 1, 2, 3))  # Thursday works too
    # filed Wed 4: Thu 5 (1)
    assert six_days.due(tehran(2026, 3, 4, 10, 0), 1) == utc(2026, 3, 5, 20, 29, 59)
    # Fri 6 still off: Thu 5 (1), Sat 7 (2)
    assert six_days.due(tehran(2026, 3, 4, 10, 0), 2) == utc(2026, 3, 7, 20, 29, 59)


def test_is_working() -> None:
    calendar = WorkCalendar(holidays=frozenset({date(2026, 3, 2)}))
    assert calendar.is_working(date(2026, 3, 1))  # Sunday
    assert not calendar.is_working(date(2026, 3, 2))  # Monday, a holiday
    assert not calendar.is_working(date(2026, 3, 5))  # Thursday
    assert not calendar.is_working(date(2026, 3, 6))  # Friday
    assert calendar.is_working(date(2026, 3, 7))  # Saturday


@pytest.mark.parametrize("days", [0, -1, -10])
def test_due_needs_at_least_one_day(days: int) -> None:
    with pytest.raises(ValueError):
        WorkCalendar().due(tehran(2026, 3, 1, 10, 0), days)
