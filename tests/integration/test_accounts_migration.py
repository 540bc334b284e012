"""Revision 0004 adds the accounts view without replaying the other views."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import insert, select

from stonkmarket.application.projections import all_projections
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.database import alembic_config, create_engine
from stonkmarket.infrastructure.tables import accounts, projection_tracking

# The projections that existed before revision 0004.
EARLIER_PROJECTIONS = [p.name for p in all_projections() if p.name != "accounts"]


def tracking(url: str, rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Insert `rows` into projection_tracking; return what it then holds."""

    async def write_and_read() -> list[tuple[str, int]]:
        engine = create_engine(url)
        async with engine.begin() as conn:
            if rows:
                await conn.execute(insert(projection_tracking), rows)
            result = await conn.execute(
                select(projection_tracking).order_by(projection_tracking.c.name)
            )
            found = [(row.name, row.position) for row in result]
        await engine.dispose()
        return found

    return asyncio.run(write_and_read())


def test_accounts_start_where_other_projections_are(config: Config) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(config.views_url), "0003")
    tracking(
        config.views_url, [{"name": n, "position": 42} for n in EARLIER_PROJECTIONS]
    )

    command.upgrade(alembic_config(config.views_url), "head")

    found = tracking(config.views_url, [])
    assert ("accounts", 42) in found
    assert len(found) == len(EARLIER_PROJECTIONS) + 1
    assert {position for _, position in found} == {42}


def test_new_database_gets_no_tracking_row(config: Config) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)

    command.upgrade(alembic_config(config.views_url), "head")

    assert tracking(config.views_url, []) == []


def test_downgrade_drops_accounts_and_its_row(config: Config) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(config.views_url), "0003")
    tracking(
        config.views_url, [{"name": n, "position": 7} for n in EARLIER_PROJECTIONS]
    )
    command.upgrade(alembic_config(config.views_url), "head")

    command.downgrade(alembic_config(config.views_url), "0003")

    found = tracking(config.views_url, [])
    assert [name for name, _ in found] == sorted(EARLIER_PROJECTIONS)
    assert accounts.name not in _table_names(config.views_url)


def _table_names(url: str) -> list[str]:
    async def names() -> list[str]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        await engine.dispose()
        return list(found)

    return asyncio.run(names())
