"""ETag, Cache-Control and 304 on the ranking, signals and charts.

Runs on each profile, and on PostgreSQL with the hot copies in Valkey.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.http.app import create_app
from tests.auth_support import log_in

Client = TestClient[Any]

BARS = [
    {"date": "2024-01-02", "close": 100.0},
    {"date": "2024-01-03", "close": 120.0},
    {"date": "2024-01-04", "close": 90.0},
]
LATER_BAR = [{"date": "2024-01-05", "close": 60.0}]

CACHED_PATHS = [
    "/api/dips/ranking",
    "/api/dips/ACME/chart",
    "/api/dipfinder/signals/ACME",
    "/api/dipfinder/signals?tickers=ACME",
    "/api/dips/ranking?as_of=2024-01-04",
]


@pytest.fixture(params=["embedded", "postgres", "postgres+valkey"])
def any_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    config = Config(data_dir=tmp_path)
    if request.param.startswith("postgres"):
        config = msgspec.structs.replace(
            config, database_url=request.getfixturevalue("postgres_url")
        )
    if request.param.endswith("valkey"):
        config = msgspec.structs.replace(
            config, valkey_url=request.getfixturevalue("valkey_url")
        )
    with TestClient(app=create_app(build(config))) as client:
        log_in(client)
        yield client


def _watch_acme(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "ACME"}).raise_for_status()
    client.post("/api/symbols/ACME/prices", json={"bars": BARS}).raise_for_status()


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_matching_if_none_match_gets_304(any_client: Client, path: str) -> None:
    _watch_acme(any_client)

    first = any_client.get(path)
    again = any_client.get(path, headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_new_prices_change_ranking_etag(any_client: Client) -> None:
    _watch_acme(any_client)
    before = any_client.get("/api/dips/ranking")

    any_client.post("/api/symbols/ACME/prices", json={"bars": LATER_BAR})
    after = any_client.get(
        "/api/dips/ranking", headers={"If-None-Match": before.headers["etag"]}
    )

    # Peak 120, close 90 then 60: dips of 0.25 and 0.5.
    assert before.json()[0]["dip_stock"] == pytest.approx(0.25)
    assert after.status_code == 200
    assert after.json()[0]["dip_stock"] == pytest.approx(0.5)
    assert after.headers["etag"] != before.headers["etag"]


def test_removed_symbol_leaves_hot_ranking(any_client: Client) -> None:
    _watch_acme(any_client)
    assert [row["ticker"] for row in any_client.get("/api/dips/ranking").json()] == [
        "ACME"
    ]

    any_client.delete("/api/symbols/ACME").raise_for_status()

    assert any_client.get("/api/dips/ranking").json() == []


def test_hot_signal_matches_computed_signal(
    any_client: Client,
) -> None:
    _watch_acme(any_client)

    hot = any_client.get("/api/dipfinder/signals/ACME").json()
    computed = any_client.get(
        "/api/dipfinder/signals/ACME", params={"as_of": "2024-01-04"}
    ).json()

    assert hot == computed


def test_refresh_stores_every_watched_signal_and_chart(tmp_path: Path) -> None:
    """After a refresh, reads find their copies without loading anything."""
    container = build(Config(data_dir=tmp_path))
    keys = ["ranking:365", "signal:ACME:30", "signal:ACME:365", "chart:ACME:365"]

    async def not_loaded() -> bytes:
        raise AssertionError("the copy should have been stored by the refresh")

    async def refresh_then_read() -> list[bytes]:
        await container.hot.refresh()
        return [await container.hot_store.read(key, not_loaded) for key in keys]

    with TestClient(app=create_app(container, run_projections=False)) as client:
        log_in(client)
        _watch_acme(client)
        ranking, signal_30, signal_365, chart = client.blocking_portal.call(
            refresh_then_read
        )

    assert msgspec.json.decode(ranking)[0]["ticker"] == "ACME"
    assert msgspec.json.decode(signal_30)["window"] == 30
    assert msgspec.json.decode(signal_365)["dip_stock"] == pytest.approx(0.25)
    assert len(msgspec.json.decode(chart)["points"]) == 3
