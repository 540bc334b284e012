"""The Valkey denylist on a real server: keys expire with the token; fails closed."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import valkey

from stonkmarket.application.tokens import DenylistUnavailableError
from stonkmarket.infrastructure.token_denylist import ValkeyTokenDenylist

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
EXPIRES = dt.datetime(2024, 5, 1, 13, 0, 0, tzinfo=dt.UTC)

T = TypeVar("T")


def _run(
    denylist: ValkeyTokenDenylist, act: Callable[[ValkeyTokenDenylist], Awaitable[T]]
) -> T:
    """Run `act` against the denylist in a fresh event loop, then close it."""

    async def run_and_close() -> T:
        try:
            return await act(denylist)
        finally:
            await denylist.close()

    return asyncio.run(run_and_close())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_denied_id_is_denied_and_others_are_not(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, clock=lambda: NOW)

    async def deny_and_ask(denylist: ValkeyTokenDenylist) -> tuple[bool, bool]:
        await denylist.deny("a", EXPIRES)
        return await denylist.is_denied("a"), await denylist.is_denied("b")

    assert _run(denylist, deny_and_ask) == (True, False)


def test_key_expires_at_expiry_plus_leeway(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, clock=lambda: NOW)
    _run(denylist, lambda denylist: denylist.deny("a", EXPIRES))
    client = valkey.Valkey.from_url(valkey_url)

    remaining_ms = client.pttl("stonkmarket:denied:a")
    value = client.get("stonkmarket:denied:a")
    client.close()

    # 60 min to expiry plus 10 s leeway is 3,610,000 ms, less the time since SET.
    assert 3_600_000 < remaining_ms <= 3_610_000
    assert value == b"1"


def test_earlier_deny_does_not_shorten(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, clock=lambda: NOW)

    async def deny_twice(denylist: ValkeyTokenDenylist) -> None:
        await denylist.deny("a", EXPIRES)
        await denylist.deny("a", NOW + dt.timedelta(minutes=1))

    _run(denylist, deny_twice)
    client = valkey.Valkey.from_url(valkey_url)
    remaining_ms = client.pttl("stonkmarket:denied:a")
    client.close()

    assert 3_600_000 < remaining_ms <= 3_610_000


def test_later_deny_extends(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, clock=lambda: NOW)

    async def deny_twice(denylist: ValkeyTokenDenylist) -> None:
        await denylist.deny("a", NOW + dt.timedelta(minutes=1))
        await denylist.deny("a", EXPIRES)

    _run(denylist, deny_twice)
    client = valkey.Valkey.from_url(valkey_url)
    remaining_ms = client.pttl("stonkmarket:denied:a")
    client.close()

    assert 3_600_000 < remaining_ms <= 3_610_000


def test_prefix_names_the_key(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, prefix="test:logout", clock=lambda: NOW)
    _run(denylist, lambda denylist: denylist.deny("a", EXPIRES))
    client = valkey.Valkey.from_url(valkey_url)

    keys = client.keys("*")
    client.close()

    assert keys == [b"test:logout:a"]


def test_denied_id_is_forgotten_when_its_key_expires(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, leeway=dt.timedelta(0))

    async def deny_then_wait(denylist: ValkeyTokenDenylist) -> list[bool]:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=300)
        await denylist.deny("a", expires)
        before = await denylist.is_denied("a")
        await asyncio.sleep(0.6)
        return [before, await denylist.is_denied("a")]

    assert _run(denylist, deny_then_wait) == [True, False]


def test_expired_token_is_not_stored(valkey_url: str) -> None:
    denylist = ValkeyTokenDenylist(valkey_url, clock=lambda: NOW)
    _run(denylist, lambda denylist: denylist.deny("a", NOW - dt.timedelta(seconds=10)))
    client = valkey.Valkey.from_url(valkey_url)

    keys = client.keys("*")
    client.close()

    assert keys == []


def test_is_denied_fails_closed_when_valkey_is_unreachable() -> None:
    denylist = ValkeyTokenDenylist(f"redis://127.0.0.1:{_free_port()}/0")
    started = time.monotonic()

    with pytest.raises(DenylistUnavailableError) as caught:
        _run(denylist, lambda denylist: denylist.is_denied("a"))

    assert caught.value.message == (
        "the token could not be checked because the token denylist"
        " is unavailable; try again shortly"
    )
    assert time.monotonic() - started < 2.0


def test_deny_reports_an_unreachable_valkey() -> None:
    url = f"redis://127.0.0.1:{_free_port()}/0"
    denylist = ValkeyTokenDenylist(url, clock=lambda: NOW)

    with pytest.raises(DenylistUnavailableError) as caught:
        _run(denylist, lambda denylist: denylist.deny("a", EXPIRES))

    assert caught.value.message == (
        "the logout could not be recorded because the token denylist"
        " is unavailable; try again shortly"
    )
