"""Cron schedules read in a named timezone, so a job keeps its local hour
across daylight-saving changes.

The cron arithmetic comes from croniter, a pure calculation with no clock or
I/O; every time here is given by the caller.

A local time skipped by a daylight-saving change runs at the same clock
reading after the jump, one hour later. A local time that happens twice runs
once, the first time.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from stonkmarket.domain.errors import InvalidCronError, InvalidTimezoneError

CRON_FIELDS = "minute hour day-of-month month day-of-week"
CRON_EXAMPLE = "30 17 * * 1-5"
MAX_CRON_LENGTH = 120
_RANGE = re.compile(r"(\d+)-(\d+)")
MAX_TIMEZONE_LENGTH = 64
# Longer than any daylight-saving jump in the timezone database (2 hours).
JUMP_BOUND = dt.timedelta(hours=3)
# Digits, `*`, `,`, `/`, `-`, and month or weekday names. croniter's random
# `R` and hashed `H` fields are rejected, because every scheduler must read the
# same times.
_FIELD = re.compile(
    r"(?:[0-9*,/-]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
    r"|SUN|MON|TUE|WED|THU|FRI|SAT)+",
    re.IGNORECASE,
)
# Names in the database that are not places: they follow the machine or nothing.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


def check_cron(cron: str) -> None:
    """Raise InvalidCronError unless `cron` has five valid fields and ever fires."""
    if len(cron) > MAX_CRON_LENGTH:
        raise InvalidCronError(
            f"cron must be at most {MAX_CRON_LENGTH} characters, got {len(cron)}; "
            "use ranges and steps, such as '*/5' or '1-5'",
            field="cron",
        )
    fields = cron.split()
    if len(fields) != len(CRON_FIELDS.split()):
        raise InvalidCronError(
            f"cron must have five fields ({CRON_FIELDS}), such as "
            f"{CRON_EXAMPLE!r}; got {cron[:MAX_CRON_LENGTH]!r}",
            field="cron",
        )
    if not all(_FIELD.fullmatch(f) for f in fields) or not croniter.is_valid(cron):
        raise InvalidCronError(
            f"cron {cron!r} has a field out of range or unreadable; "
            f"use {CRON_FIELDS}, such as {CRON_EXAMPLE!r}",
            field="cron",
        )
    for start, end in _RANGE.findall(cron):
        if int(start) > int(end):
            raise InvalidCronError(
                f"cron {cron!r} has the range {start}-{end}, which runs backwards; "
                f"write it as {end}-{start}",
                field="cron",
            )
    try:
        # Four years reach every 29 February, the rarest date a cron can name.
        croniter(cron, dt.datetime(2024, 1, 1)).get_next(dt.datetime)
    except (CroniterBadDateError, CroniterBadCronError) as exc:
        raise InvalidCronError(
            f"cron {cron!r} never fires (no calendar date matches it)",
            field="cron",
        ) from exc


def zone(name: str) -> ZoneInfo:
    """Return the IANA timezone `name`, or raise InvalidTimezoneError."""
    if name in _NOT_PLACES or name not in _timezone_names():
        raise _unknown_zone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise _unknown_zone(name) from exc


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _unknown_zone(name: str) -> InvalidTimezoneError:
    return InvalidTimezoneError(
        f"timezone {name[:MAX_TIMEZONE_LENGTH]!r} is not an IANA timezone; "
        "use a name such as 'America/New_York' or 'UTC'",
        field="timezone",
    )


def check_schedule(cron: str, timezone: str) -> None:
    """Raise the first broken rule of a schedule: the cron, then the timezone."""
    check_cron(cron)
    zone(timezone)


def _fire_times(cron: str, timezone: str, after: dt.datetime) -> Iterator[dt.datetime]:
    """Yield the instants (UTC) the schedule fires strictly after `after`, in order.

    Local times in a DST gap are moved past the jump, so they can come after
    later local times. A heap keeps each instant until no earlier one can
    follow, because no jump is longer than JUMP_BOUND.
    """
    tz = zone(timezone)
    local_start = after.astimezone(tz).replace(tzinfo=None)
    ticks = croniter(cron, local_start - JUMP_BOUND)
    pending: list[dt.datetime] = []
    last: dt.datetime | None = None
    while True:
        local: dt.datetime = ticks.get_next(dt.datetime)
        instant = local.replace(tzinfo=tz).astimezone(dt.UTC)
        heapq.heappush(pending, instant)
        while pending and pending[0] < instant - JUMP_BOUND:
            ready = heapq.heappop(pending)
            if ready > after and ready != last:
                last = ready
                yield ready


def next_runs(
    cron: str, timezone: str, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """Return the next `count` instants (UTC) the schedule fires after `after`."""
    runs: list[dt.datetime] = []
    if count <= 0:
        return runs
    for instant in _fire_times(cron, timezone, after):
        if len(runs) == count:
            break
        runs.append(instant)
    return runs


def ticks_between(
    cron: str, timezone: str, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """Return the instants (UTC) the schedule fires in (start, end]."""
    ticks: list[dt.datetime] = []
    for instant in _fire_times(cron, timezone, start):
        if instant > end:
            break
        ticks.append(instant)
    return ticks
