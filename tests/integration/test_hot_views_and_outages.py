"""Hot copies in Valkey on the real servers: one load per burst, safe when down."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
import pytest
import valkey
from litestar.testing import AsyncTestClient, TestClient
from sqlalchemy import event

from stonkmarket.application.commands import AddSymbol, RecordPrices
from stonkmarket.application.handlers import add_symbol, record_prices
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.hot_store import ValkeyHotStore
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.http.app import create_app
from tests.auth_support import anonymously, log_in
from tests.conftest import ADMIN_URL, TEST_SECURITY, OwnValkey

TICKERS = ("KO", "PG", "JNJ")
PAUSE_MS = 4000


def _load_sample(container: Container) -> None:
    source = SamplePriceSource()
    for ticker in TICKERS:
        add_symbol(container.store, AddSymbol(ticker=ticker))
        batch = source.fetch(ticker, start=dt.date(2019, 1, 1))
        record_prices(container.store, RecordPrices(batch=batch))


async def _load_and_project(container: Container) -> None:
    await container.start()
    _load_sample(container)
    await container.runner.catch_up()
    await container.close()


class StatementCount:
    """Counts the SQL statements an engine sends to the database."""

    def __init__(self, container: Container) -> None:
        self.statements: list[str] = []
        event.listen(container.engine.sync_engine, "before_cursor_execute", self._on)

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)


def test_cold_ranking_burst_makes_one_query(
    postgres_url: str, valkey_url: str, tmp_path: Path
) -> None:
    config = Config(
        data_dir=tmp_path,
        database_url=postgres_url,
        valkey_url=valkey_url,
        security=TEST_SECURITY,
    )
    asyncio.run(_load_and_project(build(config)))
    # The API projects nothing in the background, so every statement counted
    # below comes from a request. No hot copy of the ranking exists yet.
    container = build(config)

    async def burst() -> tuple[list[Any], list[str]]:
        app = create_app(container, run_projections=False)
        async with AsyncTestClient(app=app) as client:
            count = StatementCount(container)
            responses = await asyncio.gather(
                *(client.get("/api/dips/ranking") for _ in range(200))
            )
            return responses, count.statements

    responses, statements = asyncio.run(burst())

    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert [row["ticker"] for row in responses[0].json()] != []
    assert len(statements) == 1, statements
    assert "dip_states" in statements[0]


def test_two_processes_load_missing_key_once(valkey_url: str) -> None:
    """Each of the two stores models one API process with its own in-process wait."""
    calls = 0

    async def slow_load() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return b'["ranked"]'

    async def burst() -> list[bytes]:
        first, second = ValkeyHotStore(valkey_url), ValkeyHotStore(valkey_url)
        try:
            reads = [
                store.read("ranking:365", slow_load)
                for _ in range(100)
                for store in (first, second)
            ]
            return await asyncio.gather(*reads)
        finally:
            await first.close()
            await second.close()

    bodies = asyncio.run(burst())

    assert calls == 1
    assert bodies == [b'["ranked"]'] * 200


def test_expired_lock_not_released_by_old_owner(
    valkey_url: str,
) -> None:
    """When a load outlasts its lock, a second loader takes the lock, and the
    first loader must not delete the second loader's lock when it finishes."""

    async def race() -> tuple[int, bytes | None]:
        store = ValkeyHotStore(valkey_url, lock_seconds=0.1)
        other = ValkeyHotStore(valkey_url, lock_seconds=5.0)
        calls = 0

        async def slow() -> bytes:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.3)
            return b"slow"

        first = asyncio.create_task(store.read("k", slow))
        await asyncio.sleep(0.15)  # the first lock has expired
        second = asyncio.create_task(other.read("k", slow))
        await first
        lock_after_first_finished = await other.client.get("stonkmarket:hot:k:lock:0")
        await second
        await store.close()
        await other.close()
        return calls, lock_after_first_finished

    calls, lock = asyncio.run(race())
    assert calls == 2
    assert lock is not None  # still the second loader's


def test_valkey_outage_falls_back_to_postgres(
    postgres_url: str,
    tmp_path: Path,
    own_valkey: OwnValkey,
) -> None:
    """Reads and writes fall back to PostgreSQL, reads return the new writes, and
    health reports degraded."""
    url = own_valkey.url
    config = Config(
        data_dir=tmp_path,
        database_url=postgres_url,
        valkey_url=url,
        security=TEST_SECURITY,
    )
    container = build(config)
    with TestClient(app=create_app(container)) as client:
        log_in(client)
        client.post("/api/symbols", json={"ticker": "ACME"}).raise_for_status()
        bars = [
            {"date": "2024-01-02", "close": 100.0},
            {"date": "2024-01-03", "close": 80.0},
        ]
        client.post("/api/symbols/ACME/prices", json={"bars": bars})
        assert client.get("/api/health").json()["status"] == "ok"
        before = client.get("/api/dips/ranking").json()

        own_valkey.stop()
        later = [{"date": "2024-01-04", "close": 60.0}]
        written = client.post("/api/symbols/ACME/prices", json={"bars": later})
        during = _read_until(client, lambda rows: rows[0]["dip_stock"] > 0.3)
        health = client.get("/api/health")
        ready = client.get("/api/health/ready")

    assert before[0]["dip_stock"] == pytest.approx(0.2)
    assert written.status_code == 201
    assert during[0]["dip_stock"] == pytest.approx(0.4)
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["cache"] == "unavailable"
    assert ready.status_code == 200


def _record_elsewhere(
    container: Container, ticker: str, day: dt.date, close: float
) -> None:
    batch = PriceBatch(ticker=ticker, dates=(day,), closes=(close,), source="test")
    record_prices(container.store, RecordPrices(batch=batch))


def _read_until(client: TestClient[Any], done: Any) -> Any:
    """Read the ranking until `done(rows)`, for at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        response = client.get("/api/dips/ranking")
        assert response.status_code == 200, response.text
        rows = response.json()
        if done(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_change_during_valkey_pause_is_visible(
    postgres_url: str, valkey_url: str, tmp_path: Path
) -> None:
    """Valkey keeps its copies through a pause, so reads during and after the
    pause must still return the write made in it, which is stored in PostgreSQL."""
    config = Config(
        data_dir=tmp_path,
        database_url=postgres_url,
        valkey_url=valkey_url,
        security=TEST_SECURITY,
    )
    admin = valkey.Valkey.from_url(valkey_url)
    container = build(config)
    with TestClient(app=create_app(container)) as client:
        log_in(client)
        client.post("/api/symbols", json={"ticker": "ACME"}).raise_for_status()
        bars = [
            {"date": "2024-01-02", "close": 100.0},
            {"date": "2024-01-03", "close": 80.0},
        ]
        client.post("/api/symbols/ACME/prices", json={"bars": bars})
        before = client.get("/api/dips/ranking").json()

        paused_at = time.monotonic()
        admin.execute_command("CLIENT", "PAUSE", str(PAUSE_MS), "ALL")
        _record_elsewhere(container, "ACME", dt.date(2024, 1, 4), 60.0)
        with anonymously(client):
            during = _read_until(client, lambda rows: rows[0]["dip_stock"] > 0.3)
        seen_after = time.monotonic() - paused_at
        # The pause ends, and the store tries Valkey again after a second.
        time.sleep(PAUSE_MS / 1000 - seen_after + 1.5)
        after = client.get("/api/dips/ranking").json()
    admin.close()

    assert seen_after < PAUSE_MS / 1000  # the change was projected in the pause
    assert [r[0]["dip_stock"] for r in (before, during, after)] == pytest.approx(
        [0.2, 0.4, 0.4]
    )


def test_database_outage_returns_503(
    postgres_url: str, valkey_url: str, tmp_path: Path
) -> None:
    config = Config(
        data_dir=tmp_path,
        database_url=postgres_url,
        valkey_url=valkey_url,
        security=TEST_SECURITY,
    )
    database = postgres_url.rsplit("/", 1)[1]
    with TestClient(app=create_app(build(config))) as client:
        log_in(client)
        assert client.get("/api/health").status_code == 200
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                psycopg.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                    psycopg.sql.Identifier(database)
                )
            )
        health = client.get("/api/health")
        ready = client.get("/api/health/ready")
        symbols = client.get("/api/symbols")

    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.json()["database"] == "unavailable"
    assert ready.status_code == 503
    assert symbols.status_code == 503
