"""The in-process denylist: a token id stays denied until its expiry plus leeway."""

from __future__ import annotations

import asyncio
import datetime as dt

from stonkmarket.infrastructure.token_denylist import InProcessTokenDenylist

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
EXPIRES = dt.datetime(2024, 5, 1, 13, 0, 0, tzinfo=dt.UTC)


class Clock:
    """A clock that stays where a test puts it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _denied_at(
    denylist: InProcessTokenDenylist, clock: Clock, times: list[dt.datetime]
) -> list[bool]:
    """Ask whether token "a" is denied at each time, in order."""

    async def ask() -> list[bool]:
        answers = []
        for time in times:
            clock.now = time
            answers.append(await denylist.is_denied("a"))
        return answers

    return asyncio.run(ask())


def test_denied_until_expiry_plus_leeway() -> None:
    clock = Clock(NOW)
    denylist = InProcessTokenDenylist(clock=clock)
    asyncio.run(denylist.deny("a", EXPIRES))

    answers = _denied_at(
        denylist,
        clock,
        [
            NOW,
            EXPIRES,
            dt.datetime(2024, 5, 1, 13, 0, 9, 999_999, tzinfo=dt.UTC),
            dt.datetime(2024, 5, 1, 13, 0, 10, tzinfo=dt.UTC),
        ],
    )

    assert answers == [True, True, True, False]


def test_token_never_denied_is_not_denied() -> None:
    denylist = InProcessTokenDenylist(clock=Clock(NOW))
    asyncio.run(denylist.deny("a", EXPIRES))

    assert asyncio.run(denylist.is_denied("b")) is False


def test_zero_leeway_forgets_at_expiry() -> None:
    clock = Clock(NOW)
    denylist = InProcessTokenDenylist(leeway=dt.timedelta(0), clock=clock)
    asyncio.run(denylist.deny("a", EXPIRES))

    answers = _denied_at(
        denylist, clock, [EXPIRES - dt.timedelta(microseconds=1), EXPIRES]
    )

    assert answers == [True, False]


def test_expired_token_is_not_stored() -> None:
    clock = Clock(NOW)
    denylist = InProcessTokenDenylist(clock=clock)

    asyncio.run(denylist.deny("a", NOW - dt.timedelta(seconds=10)))

    assert _denied_at(denylist, clock, [NOW - dt.timedelta(seconds=1)]) == [False]


def test_later_deny_of_the_same_id_extends_it() -> None:
    clock = Clock(NOW)
    denylist = InProcessTokenDenylist(clock=clock)
    asyncio.run(denylist.deny("a", EXPIRES))
    asyncio.run(denylist.deny("a", EXPIRES + dt.timedelta(hours=1)))

    answers = _denied_at(
        denylist,
        clock,
        [
            dt.datetime(2024, 5, 1, 13, 0, 10, tzinfo=dt.UTC),
            dt.datetime(2024, 5, 1, 14, 0, 9, tzinfo=dt.UTC),
            dt.datetime(2024, 5, 1, 14, 0, 10, tzinfo=dt.UTC),
        ],
    )

    assert answers == [True, True, False]


def test_earlier_deny_does_not_shorten() -> None:
    clock = Clock(NOW)
    denylist = InProcessTokenDenylist(clock=clock)
    asyncio.run(denylist.deny("a", EXPIRES))
    asyncio.run(denylist.deny("a", NOW + dt.timedelta(minutes=1)))

    answers = _denied_at(
        denylist,
        clock,
        [
            dt.datetime(2024, 5, 1, 12, 1, 10, tzinfo=dt.UTC),
            dt.datetime(2024, 5, 1, 13, 0, 9, tzinfo=dt.UTC),
            dt.datetime(2024, 5, 1, 13, 0, 10, tzinfo=dt.UTC),
        ],
    )

    assert answers == [True, True, False]


def test_ids_expire_on_their_own_schedules() -> None:
    clock = Clock(NOW)
    denylist = InProcessTokenDenylist(leeway=dt.timedelta(0), clock=clock)
    asyncio.run(denylist.deny("late", EXPIRES))
    asyncio.run(denylist.deny("early", NOW + dt.timedelta(minutes=5)))
    clock.now = NOW + dt.timedelta(minutes=30)

    early = asyncio.run(denylist.is_denied("early"))
    late = asyncio.run(denylist.is_denied("late"))

    assert early is False
    assert late is True


def test_close_forgets_every_id() -> None:
    denylist = InProcessTokenDenylist(clock=Clock(NOW))
    asyncio.run(denylist.deny("a", EXPIRES))

    asyncio.run(denylist.close())

    assert asyncio.run(denylist.is_denied("a")) is False
