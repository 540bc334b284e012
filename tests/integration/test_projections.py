from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from typing import Any

import msgspec
import pytest
from sqlalchemy import select

from stonkmarket.application.accounts import (
    change_credentials,
    change_role,
    register_account,
    revoke_tokens,
)
from stonkmarket.application.commands import (
    AddSymbol,
    ChangeCredentials,
    ChangeRole,
    ChangeSettings,
    RecordPrices,
    RegisterAccount,
    RemoveSymbol,
    RevokeTokens,
    UpdateSymbol,
)
from stonkmarket.application.handlers import (
    add_symbol,
    change_settings,
    record_prices,
    remove_symbol,
    update_symbol,
)
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.infrastructure.tables import VIEW_TABLES, projection_tracking
from stonkmarket.interfaces.bootstrap import Container, build

SOURCE = SamplePriceSource()
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "tulip canal morning"
START = dt.date(2017, 1, 1)
LAST_DAYS = 5


async def _history(container: Container) -> None:
    """The sample's last years, edited the way users and jobs edit them."""
    run = container.execute
    await run(change_settings, ChangeSettings(changes={"benchmark": "^GSPC"}))
    for ticker in ("AAPL", "MSFT", "KO"):
        await run(add_symbol, AddSymbol(ticker=ticker))
    for ticker in ("^GSPC", "AAPL", "MSFT", "KO"):
        batch = SOURCE.fetch(ticker, start=START)
        # Everything but the last days at once, then one day at a time, as the
        # nightly job records them.
        await run(record_prices, RecordPrices(batch=_slice(batch, 0, -LAST_DAYS)))
        for day in range(-LAST_DAYS, 0):
            await run(record_prices, RecordPrices(batch=_slice(batch, day, day + 1)))
    await run(update_symbol, UpdateSymbol(ticker="KO", min_dip_pct=0.02, min_days=1))
    await run(remove_symbol, RemoveSymbol(ticker="MSFT"))
    restated = PriceBatch(
        ticker="AAPL", dates=(dt.date(2022, 12, 28),), closes=(120.0,), source="fix"
    )
    await run(record_prices, RecordPrices(batch=restated, reason="vendor correction"))
    await run(change_settings, ChangeSettings(changes={"min_dip_abs": 0.05}))
    await _account_history(container)


async def _account_history(container: Container) -> None:
    """Accounts registered, promoted, renamed, signed out, and a name reused."""
    run = container.execute
    register = partial(register_account, hasher=HASHER)
    for username in ("root", "alice"):
        await run(register, RegisterAccount(username=username, password=PASSWORD))
    await run(change_role, ChangeRole(username="alice", role="admin", actor="root"))
    rename = ChangeCredentials(
        username="alice",
        current_password=PASSWORD,
        new_username="alicia",
        new_password="harbour lantern quietly",
    )
    await run(partial(change_credentials, hasher=HASHER), rename)
    await run(revoke_tokens, RevokeTokens(username="root"))
    await run(register, RegisterAccount(username="alice", password=PASSWORD))


def _slice(batch: PriceBatch, start: int, stop: int) -> PriceBatch:
    stop_or_end = None if stop == 0 else stop
    return msgspec.structs.replace(
        batch,
        dates=batch.dates[start:stop_or_end],
        closes=batch.closes[start:stop_or_end],
    )


async def _dump(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    async with container.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in await conn.execute(select(table)))
            for table in (*VIEW_TABLES, projection_tracking)
        }


@pytest.fixture
def container(config: Config) -> Container:
    return build(config)


def test_rebuild_gives_back_every_view_row_for_row(container: Container) -> None:
    async def live_then_rebuilt() -> tuple[dict[str, Any], dict[str, Any], int, int]:
        await container.start()
        await _history(container)
        live = await _dump(container)
        replayed = await container.runner.rebuild()
        rebuilt = await _dump(container)
        head = container.store.head()
        await container.close()
        return live, rebuilt, replayed, head

    live, rebuilt, replayed, head = asyncio.run(live_then_rebuilt())

    assert replayed == head
    assert len(live["dipfinder_signals"]) > 4 * 3
    assert len(live["accounts"]) == 3
    assert rebuilt == live


def test_stored_signal_equals_the_one_computed_for_its_date(
    container: Container,
) -> None:
    async def stored_and_computed() -> tuple[Any, Any]:
        await container.start()
        await _history(container)
        stored = await container.queries.signal("KO", 30)
        computed = await container.queries.signal("KO", 30, as_of=stored.as_of_date)
        await container.close()
        return stored, computed

    stored, computed = asyncio.run(stored_and_computed())

    assert stored.as_of_date == dt.date(2022, 12, 28)
    assert stored == computed


def test_views_follow_the_edits(container: Container) -> None:
    async def watched_and_settings() -> tuple[list[str], Any]:
        await container.start()
        await _history(container)
        watched = [s.ticker for s in await container.queries.symbols()]
        settings = await container.queries.settings()
        await container.close()
        return watched, settings

    watched, settings = asyncio.run(watched_and_settings())

    assert watched == ["AAPL", "KO"]
    assert settings.version == 2
    assert (settings.values["benchmark"], settings.values["min_dip_abs"]) == (
        "^GSPC",
        0.05,
    )
