"""Two projection runners on one PostgreSQL database, as two API processes have."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from stonkmarket.application.commands import AddSymbol, ChangeSettings, RecordPrices
from stonkmarket.application.handlers import add_symbol, change_settings, record_prices
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.infrastructure.tables import VIEW_TABLES, projection_tracking
from stonkmarket.interfaces.bootstrap import Container, build


async def _dump(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    async with container.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in await conn.execute(select(table)))
            for table in (*VIEW_TABLES, projection_tracking)
        }


def _write_history(container: Container) -> None:
    """Store events without projecting them, as another process would."""
    source = SamplePriceSource()
    store = container.store
    change_settings(store, ChangeSettings(changes={"benchmark": "^GSPC"}))
    change_settings(store, ChangeSettings(changes={"min_dip_abs": 0.12}))
    for ticker in ("^GSPC", "KO", "PG"):
        if ticker != "^GSPC":
            add_symbol(store, AddSymbol(ticker=ticker))
        batch = source.fetch(ticker, start=dt.date(2018, 1, 1))
        record_prices(store, RecordPrices(batch=batch))


def test_two_runners_apply_each_event_once(postgres_url: str, tmp_path: Path) -> None:
    first = build(Config(data_dir=tmp_path / "a", database_url=postgres_url))
    second = build(Config(data_dir=tmp_path / "b", database_url=postgres_url))

    async def race() -> tuple[dict[str, Any], dict[str, Any], int]:
        await first.start()
        await second.start()
        _write_history(first)
        for runner in (first.runner, second.runner):
            runner.batch_size = 2
        await asyncio.gather(first.runner.catch_up(), second.runner.catch_up())
        raced = await _dump(first)
        await first.runner.rebuild()
        clean = await _dump(first)
        settings = await first.queries.settings()
        await first.close()
        await second.close()
        return raced, clean, settings.version

    raced, clean, version = asyncio.run(race())

    assert version == 2
    assert raced == clean


def test_rebuild_keeps_old_views_until_commit(
    postgres_url: str, tmp_path: Path
) -> None:
    container = build(Config(data_dir=tmp_path / "a", database_url=postgres_url))

    async def read_during_rebuild() -> tuple[int, list[int], int]:
        await container.start()
        _write_history(container)
        await container.runner.catch_up()
        watched = len(await container.queries.ranking(365))
        rebuild = asyncio.create_task(container.runner.rebuild())
        seen = []
        while not rebuild.done():
            seen.append(len(await container.queries.ranking(365)))
            seen.append(len(await container.queries.symbols()))
            await asyncio.sleep(0.005)
        replayed = await rebuild
        await container.close()
        return watched, seen, replayed

    watched, seen, replayed = asyncio.run(read_during_rebuild())

    assert watched == 2  # KO and PG
    assert replayed > 0
    assert len(seen) >= 4  # the reads overlapped the rebuild
    assert set(seen) == {2}
