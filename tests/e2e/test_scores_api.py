from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from litestar.testing import TestClient

Client = TestClient[Any]

APPLE_LIKE_INFO = {
    "profitMargins": 0.25,
    "operatingMargins": 0.30,
    "returnOnEquity": 1.5,
    "returnOnAssets": 0.20,
    "debtToEquity": 150.0,
    "currentRatio": 1.0,
    "freeCashflow": 1.0e11,
    "operatingCashflow": 1.1e11,
    "totalRevenue": 3.8e11,
    "revenueGrowth": 0.05,
    "earningsGrowth": 0.10,
    "marketCap": 3.0e12,
    "averageVolume": 5.0e7,
    "currentPrice": 190.0,
}


def _bars(start: dt.date, closes: list[float]) -> list[dict[str, Any]]:
    return [
        {"date": (start + dt.timedelta(days=i)).isoformat(), "close": close}
        for i, close in enumerate(closes)
    ]


def _watch_with_prices(client: Client, ticker: str) -> None:
    client.post("/api/symbols", json={"ticker": ticker})
    closes = [100.0 + i * 0.1 for i in range(90)] + [80.0, 79.0, 78.0]
    client.post(
        f"/api/symbols/{ticker}/prices",
        json={"bars": _bars(dt.date(2024, 1, 1), closes)},
    )


def test_signal_without_fundamentals_has_no_quality(client: Client) -> None:
    _watch_with_prices(client, "ACME")

    signal = client.get("/api/dipfinder/signals/ACME", params={"window": 30}).json()

    assert signal["quality_score"] is None
    assert signal["quality_factors"] is None
    assert signal["should_alert"] is False
    assert "fundamentals are missing" in signal["reason"]


def test_recorded_fundamentals_give_a_quality_score(client: Client) -> None:
    _watch_with_prices(client, "ACME")

    recorded = client.post(
        "/api/symbols/ACME/fundamentals",
        json={"as_of": "2024-01-02", "info": APPLE_LIKE_INFO, "source": "test"},
    )
    signal = client.get("/api/dipfinder/signals/ACME", params={"window": 30}).json()

    assert recorded.status_code == 201
    assert signal["quality_score"] is not None
    factors = {f["name"]: f for f in signal["quality_factors"]}
    assert factors["debt_to_equity"]["value"] == 1.5
    assert factors["debt_to_equity"]["sub_score"] == pytest.approx(50.0)
    assert sum(f["weight"] for f in factors.values()) == pytest.approx(1.0)


def test_fundamentals_fetched_later_are_not_used_before(client: Client) -> None:
    _watch_with_prices(client, "ACME")
    client.post(
        "/api/symbols/ACME/fundamentals",
        json={"as_of": "2024-03-01", "info": APPLE_LIKE_INFO},
    )

    before = client.get(
        "/api/dipfinder/signals/ACME", params={"window": 30, "as_of": "2024-02-15"}
    ).json()

    assert before["quality_score"] is None


def test_older_settings_version_is_reproduced(client: Client) -> None:
    _watch_with_prices(client, "ACME")
    first = client.get("/api/dipfinder/signals/ACME", params={"window": 30}).json()

    client.put("/api/dipfinder/config", json={"min_dip_abs": 0.3})
    newest = client.get("/api/dipfinder/signals/ACME", params={"window": 30}).json()
    replayed = client.get(
        "/api/dipfinder/signals/ACME",
        params={"window": 30, "settings_version": 0, "as_of": first["as_of_date"]},
    ).json()

    assert first["settings_version"] == 0
    assert newest["settings_version"] == 1
    assert newest["dip_class"] == "NONE"
    assert replayed == first


def test_unknown_settings_version_is_not_found(client: Client) -> None:
    _watch_with_prices(client, "ACME")

    response = client.get(
        "/api/dipfinder/signals/ACME", params={"window": 30, "settings_version": 9}
    )

    assert response.status_code == 404
    assert response.json()["message"] == "settings version 9 does not exist"


def test_batch_reports_tickers_without_signals(client: Client) -> None:
    _watch_with_prices(client, "ACME")

    batch = client.get(
        "/api/dipfinder/signals", params={"tickers": "ACME,NOPE,acme,a$b", "window": 30}
    ).json()

    assert [s["ticker"] for s in batch["signals"]] == ["ACME"]
    assert batch["errors"] == [
        {
            "ticker": "NOPE",
            "error": "NOT_FOUND",
            "message": "no prices recorded for NOPE",
        },
        {
            "ticker": "A$B",
            "error": "INVALID_TICKER",
            "message": (
                "ticker 'A$B' is not a Yahoo symbol: use 1 to 15 characters from "
                "A-Z, 0-9 and . - ^ =, at least one a letter or digit"
            ),
        },
    ]


def test_more_than_fifty_tickers_are_refused(client: Client) -> None:
    tickers = ",".join(f"T{i}" for i in range(51))

    response = client.get("/api/dipfinder/signals", params={"tickers": tickers})

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "tickers"}


def test_bar_dated_in_the_future_is_refused(client: Client) -> None:
    response = client.post(
        "/api/symbols/ACME/prices", json={"bars": [{"date": "9999-12-31", "close": 1}]}
    )

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "bars"}


def test_deeply_nested_body_is_a_bad_request(client: Client) -> None:
    body = b'{"ticker":' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = client.post(
        "/api/symbols", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "the request body is nested too deeply to read; flatten it"
    )


def test_unknown_route_gets_a_request_id(client: Client) -> None:
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.headers["x-request-id"] == response.json()["request_id"]
    assert response.json()["request_id"] != "-"


def test_missing_field_is_named(client: Client) -> None:
    response = client.post("/api/symbols", json={"min_dip_pct": 0.1})

    assert response.status_code == 400
    assert response.json()["details"] == {"fields": ["ticker"]}
    assert (
        response.json()["message"] == "ticker: Object missing required field `ticker`"
    )
