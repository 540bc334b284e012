"""Cron schedules read in a timezone, checked against calendars worked by hand.

In 2026, 1 January is a Thursday, so 15 January is a Thursday and 17 and 18
January are a Saturday and a Sunday. 1 July 2026 is a Wednesday. New York is
UTC-5 in winter (EST) and UTC-4 in summer (EDT). Its clocks jump from 02:00 to
03:00 on Sunday 8 March and fall back from 02:00 to 01:00 on Sunday 1 November.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.errors import InvalidCronError, InvalidTimezoneError
from stonkmarket.domain.schedules import (
    check_cron,
    check_schedule,
    next_runs,
    ticks_between,
    zone,
)

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=150, deadline=None, database=None)

NEW_YORK = "America/New_York"
WEEKDAY_CLOSE = "30 17 * * 1-5"
FIELDS_HINT = "minute hour day-of-month month day-of-week"
TIMEZONE_HINT = "use a name such as 'America/New_York' or 'UTC'"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_weekday_close_fires_at_2230_utc_in_winter() -> None:
    thursday_morning = utc(2026, 1, 15)

    runs = next_runs(WEEKDAY_CLOSE, NEW_YORK, thursday_morning, count=1)

    assert runs == [utc(2026, 1, 15, 22, 30)]


def test_weekday_close_fires_at_2130_utc_in_summer() -> None:
    wednesday_morning = utc(2026, 7, 1)

    runs = next_runs(WEEKDAY_CLOSE, NEW_YORK, wednesday_morning, count=1)

    assert runs == [utc(2026, 7, 1, 21, 30)]


def test_weekday_close_skips_the_weekend() -> None:
    friday_after_close = utc(2026, 1, 16, 23)
    monday_morning = utc(2026, 1, 19, 12)

    ticks = ticks_between(WEEKDAY_CLOSE, NEW_YORK, friday_after_close, monday_morning)

    assert ticks == []


def test_weekday_close_resumes_on_monday() -> None:
    friday_after_close = utc(2026, 1, 16, 23)

    runs = next_runs(WEEKDAY_CLOSE, NEW_YORK, friday_after_close, count=1)

    assert runs == [utc(2026, 1, 19, 22, 30)]


def test_time_skipped_in_spring_fires_one_hour_later() -> None:
    # 02:30 does not exist on 8 March, so it runs at 03:30 EDT, which is 07:30 UTC.
    # The days around it run at 02:30 EST (07:30 UTC) and 02:30 EDT (06:30 UTC).
    start = utc(2026, 3, 7)
    end = utc(2026, 3, 10)

    ticks = ticks_between("30 2 * * *", NEW_YORK, start, end)

    assert ticks == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 9, 6, 30),
    ]


def test_time_repeated_in_autumn_fires_once() -> None:
    # 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST) on 1 November,
    # and only the first counts. The days around it run at 05:30 and 06:30 UTC.
    start = utc(2026, 10, 31)
    end = utc(2026, 11, 3)

    ticks = ticks_between("30 1 * * *", NEW_YORK, start, end)

    assert ticks == [
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
    ]


def test_repeated_time_skips_second_reading() -> None:
    between_the_two_readings = utc(2026, 11, 1, 6)

    runs = next_runs("30 1 * * *", NEW_YORK, between_the_two_readings, count=1)

    assert runs == [utc(2026, 11, 2, 6, 30)]


def test_every_minute_cron_spans_spring_change() -> None:
    # 05:30 to 08:30 UTC is 00:30 EST to 04:30 EDT: it spans the jump at 07:00 UTC.
    start = utc(2026, 3, 8, 5, 30)
    end = utc(2026, 3, 8, 8, 30)

    ticks = ticks_between("* * * * *", NEW_YORK, start, end)

    assert len(ticks) == 180
    assert ticks == [start + dt.timedelta(minutes=n) for n in range(1, 181)]


def test_time_after_half_hour_jump_still_fires() -> None:
    # Lord Howe Island jumps from 02:00 (UTC+10:30) to 02:30 (UTC+11) on Sunday
    # 4 October 2026, at 15:30 UTC on 3 October. 02:31 is a real time, 15:31 UTC.
    # 02:02 is skipped and runs at the same reading after the jump, 02:32 (15:32 UTC).
    start = utc(2026, 10, 3, 15)
    end = utc(2026, 10, 3, 16)

    ticks = ticks_between("2,31 2 * * *", "Australia/Lord_Howe", start, end)

    assert ticks == [utc(2026, 10, 3, 15, 31), utc(2026, 10, 3, 15, 32)]


def test_time_after_two_hour_jump_still_fires() -> None:
    # Troll station jumps from 01:00 (UTC) to 03:00 (UTC+2) on Sunday 29 March
    # 2026. 03:30 is a real time, 01:30 UTC. The skipped 02:30 runs at 02:30 UTC.
    start = utc(2026, 3, 29)
    end = utc(2026, 3, 29, 12)

    ticks = ticks_between("30 2,3 * * *", "Antarctica/Troll", start, end)

    assert ticks == [utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 30)]


def test_ticks_between_includes_end_and_excludes_start() -> None:
    start = utc(2026, 1, 15, 3)
    end = utc(2026, 1, 16, 3)

    ticks = ticks_between("0 3 * * *", "UTC", start, end)

    assert ticks == [end]


def test_next_runs_of_zero_is_empty() -> None:
    runs = next_runs("0 3 * * *", "UTC", utc(2026, 1, 15), count=0)

    assert runs == []


def test_five_field_cron_is_accepted() -> None:
    check_cron(WEEKDAY_CLOSE)


def test_cron_of_four_fields_is_rejected() -> None:
    with pytest.raises(InvalidCronError) as raised:
        check_cron("30 17 * *")

    assert str(raised.value) == (
        f"cron must have five fields ({FIELDS_HINT}), such as '30 17 * * 1-5'; "
        "got '30 17 * *'"
    )
    assert raised.value.field == "cron"


def test_cron_of_six_fields_is_rejected() -> None:
    with pytest.raises(InvalidCronError) as raised:
        check_cron("0 30 17 * * 1-5")

    assert str(raised.value) == (
        f"cron must have five fields ({FIELDS_HINT}), such as '30 17 * * 1-5'; "
        "got '0 30 17 * * 1-5'"
    )


def test_empty_cron_is_rejected() -> None:
    with pytest.raises(InvalidCronError) as raised:
        check_cron("")

    assert str(raised.value) == (
        f"cron must have five fields ({FIELDS_HINT}), such as '30 17 * * 1-5'; got ''"
    )


def test_cron_with_minute_61_is_rejected() -> None:
    with pytest.raises(InvalidCronError) as raised:
        check_cron("61 * * * *")

    assert str(raised.value) == (
        "cron '61 * * * *' has a field out of range or unreadable; "
        f"use {FIELDS_HINT}, such as '30 17 * * 1-5'"
    )
    assert raised.value.field == "cron"


def test_cron_on_30_february_never_fires() -> None:
    with pytest.raises(InvalidCronError) as raised:
        check_cron("0 0 30 2 *")

    assert str(raised.value) == (
        "cron '0 0 30 2 *' never fires (no calendar date matches it)"
    )
    assert raised.value.field == "cron"


def test_cron_on_29_february_is_accepted() -> None:
    check_cron("0 0 29 2 *")


def test_cron_with_random_minute_is_rejected() -> None:
    # croniter reads R as a minute drawn at random each time it parses the cron,
    # so two schedulers would compute different ticks and each run its own.
    with pytest.raises(InvalidCronError) as raised:
        check_cron("R 17 * * *")

    assert str(raised.value) == (
        "cron 'R 17 * * *' has a field out of range or unreadable; "
        f"use {FIELDS_HINT}, such as '30 17 * * 1-5'"
    )


def test_cron_with_backward_range_is_rejected() -> None:
    with pytest.raises(InvalidCronError) as raised:
        check_cron("1-0 * * * *")

    assert str(raised.value) == (
        "cron '1-0 * * * *' has the range 1-0, which runs backwards; write it as 0-1"
    )


def test_cron_longer_than_120_characters_is_rejected() -> None:
    every_minute = ",".join(str(minute) for minute in range(60)) + " * * * *"

    with pytest.raises(InvalidCronError) as raised:
        check_cron(every_minute)

    assert len(every_minute) == 177
    assert str(raised.value) == (
        "cron must be at most 120 characters, got 177; use ranges and steps, "
        "such as '*/5' or '1-5'"
    )


def test_schedule_reports_cron_before_timezone() -> None:
    with pytest.raises(InvalidCronError):
        check_schedule("61 * * * *", "Mars/Olympus")


def test_known_timezone_is_returned() -> None:
    assert zone(NEW_YORK) == ZoneInfo(NEW_YORK)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Mars/Olympus", "'Mars/Olympus'"),
        ("", "''"),
        ("../etc/passwd", "'../etc/passwd'"),
        (" UTC", "' UTC'"),
    ],
)
def test_unknown_timezone_is_rejected(name: str, shown: str) -> None:
    with pytest.raises(InvalidTimezoneError) as raised:
        zone(name)

    assert str(raised.value) == (
        f"timezone {shown} is not an IANA timezone; {TIMEZONE_HINT}"
    )
    assert raised.value.field == "timezone"


def test_timezone_folder_is_rejected() -> None:
    # America is a folder of zones in the tz database, not a zone.
    with pytest.raises(InvalidTimezoneError) as raised:
        zone("America")

    assert (
        str(raised.value)
        == f"timezone 'America' is not an IANA timezone; {TIMEZONE_HINT}"
    )


def test_schedule_with_unknown_timezone_is_rejected() -> None:
    with pytest.raises(InvalidTimezoneError) as raised:
        check_schedule(WEEKDAY_CLOSE, "Mars/Olympus")

    assert str(raised.value) == (
        f"timezone 'Mars/Olympus' is not an IANA timezone; {TIMEZONE_HINT}"
    )


# Zones with a whole-hour jump, a half-hour offset, a half-hour jump, none at all,
# and one in the southern hemisphere, where summer time spans the new year.
zones = st.sampled_from(
    [
        "UTC",
        NEW_YORK,
        "Europe/London",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
    ]
)
minutes = st.sets(st.integers(0, 59), min_size=1, max_size=4)
hours = st.sets(st.integers(0, 23), min_size=1, max_size=4)
starts = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2040, 12, 31),
    timezones=st.just(dt.UTC),
)


def cron_of(minute_set: set[int], hour_set: set[int]) -> str:
    minute_field = ",".join(str(m) for m in sorted(minute_set))
    hour_field = ",".join(str(h) for h in sorted(hour_set))
    return f"{minute_field} {hour_field} * * *"


def reads_as_named_time(
    tick: dt.datetime, tz: ZoneInfo, minute_set: set[int], hour_set: set[int]
) -> bool:
    """Return True when a wall time the cron names first reads as `tick`.

    Outside a change that wall time is the tick's own local time. A time
    skipped in spring reads one jump later, so the time one jump earlier is
    tried too. A time repeated in autumn counts only at its first reading (fold 0).
    """
    local = tick.astimezone(tz).replace(tzinfo=None, fold=0)
    offset_now = tick.astimezone(tz).utcoffset()
    offset_a_day_ago = (tick - dt.timedelta(days=1)).astimezone(tz).utcoffset()
    assert offset_now is not None
    assert offset_a_day_ago is not None
    jump = offset_now - offset_a_day_ago
    for wall in (local, local - jump):
        named = wall.minute in minute_set and wall.hour in hour_set
        if named and wall.replace(tzinfo=tz).astimezone(dt.UTC) == tick:
            return True
    return False


@bounded
@given(zones, minutes, hours, starts)
def test_ticks_increase_strictly_inside_the_span(
    timezone: str, minute_set: set[int], hour_set: set[int], start: dt.datetime
) -> None:
    end = start + dt.timedelta(days=3)

    ticks = ticks_between(cron_of(minute_set, hour_set), timezone, start, end)

    assert ticks == sorted(set(ticks))
    assert all(start < tick <= end for tick in ticks)


@bounded
@given(zones, minutes, hours, starts)
def test_ticks_read_as_the_cron_minute_and_hour(
    timezone: str, minute_set: set[int], hour_set: set[int], start: dt.datetime
) -> None:
    end = start + dt.timedelta(days=3)

    ticks = ticks_between(cron_of(minute_set, hour_set), timezone, start, end)

    tz = ZoneInfo(timezone)
    assert all(reads_as_named_time(tick, tz, minute_set, hour_set) for tick in ticks)


@bounded
@given(minutes, hours, starts)
def test_utc_day_ticks_once_per_named_time(
    minute_set: set[int], hour_set: set[int], start: dt.datetime
) -> None:
    end = start + dt.timedelta(days=1)

    ticks = ticks_between(cron_of(minute_set, hour_set), "UTC", start, end)

    assert len(ticks) == len(minute_set) * len(hour_set)


@bounded
@given(zones, minutes, hours, starts)
def test_next_runs_are_the_first_ticks(
    timezone: str, minute_set: set[int], hour_set: set[int], start: dt.datetime
) -> None:
    # The cron names at least one time a day, so six days hold five ticks.
    cron = cron_of(minute_set, hour_set)
    ticks = ticks_between(cron, timezone, start, start + dt.timedelta(days=6))

    runs = next_runs(cron, timezone, start, count=5)

    assert runs == ticks[:5]


# Daylight-saving changes in zones whose clocks move by one whole hour.
# New York moves at 07:00 UTC in spring and 06:00 UTC in autumn, London at
# 01:00 UTC. Sao Paulo kept summer time until 2019 and moved at local midnight.
changes = st.sampled_from(
    [
        (NEW_YORK, utc(2026, 3, 8, 7)),
        (NEW_YORK, utc(2026, 11, 1, 6)),
        ("Europe/London", utc(2026, 3, 29, 1)),
        ("Europe/London", utc(2026, 10, 25, 1)),
        ("America/Sao_Paulo", utc(2018, 11, 4, 3)),
        ("America/Sao_Paulo", utc(2019, 2, 17, 2)),
    ]
)


def first_readings(
    minute_set: set[int],
    hour_set: set[int],
    tz: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> list[dt.datetime]:
    """Return, sorted, the first readings in (start, end] of every named wall time.

    Each local date near the span gives one wall time per minute and hour. A
    wall time with fold 0 reads as its first occurrence, and a skipped one
    reads with the offset from before the jump.
    """
    readings: set[dt.datetime] = set()
    day = (start - dt.timedelta(days=1)).astimezone(tz).date()
    last_day = (end + dt.timedelta(days=1)).astimezone(tz).date()
    while day <= last_day:
        for hour in hour_set:
            for minute in minute_set:
                wall = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
                reading = wall.astimezone(dt.UTC)
                if start < reading <= end:
                    readings.add(reading)
        day += dt.timedelta(days=1)
    return sorted(readings)


@bounded
@given(changes, minutes, hours, st.integers(0, 48 * 3600))
def test_ticks_near_a_change_are_the_first_readings(
    change: tuple[str, dt.datetime],
    minute_set: set[int],
    hour_set: set[int],
    seconds_before: int,
) -> None:
    timezone, moment = change
    start = moment - dt.timedelta(seconds=seconds_before)
    end = start + dt.timedelta(days=2)

    ticks = ticks_between(cron_of(minute_set, hour_set), timezone, start, end)

    expected = first_readings(minute_set, hour_set, ZoneInfo(timezone), start, end)
    assert ticks == expected
