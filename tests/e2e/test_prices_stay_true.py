"""Splits, glitches and real crashes through the API, on Apple's raw closes.

The closes are Apple's as traded (not adjusted) from the bokeh_sampledata
package (public domain, from Quandl's WIKI prices): a 2:1 split on
2000-06-21 took the close from 101.25 to 55.63.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
from typing import Any

import pandas as pd
import pytest
from litestar.testing import TestClient

Client = TestClient[Any]
SPLIT = {"date": "2000-06-21", "kind": "split", "value": 2.0}


def _apple_bars(first: str, last: str) -> list[dict[str, Any]]:
    resource = importlib.resources.files("bokeh_sampledata") / "_data"
    with importlib.resources.as_file(resource / "stocks.csv.gz") as path:
        frame = pd.read_csv(path)
    rows = frame[(frame["Ticker"] == "AAPL") & frame["Date"].between(first, last)]
    return [
        {"date": d, "close": c, "adjusted_close": a}
        for d, c, a in zip(rows["Date"], rows["Close"], rows["Adj Close"], strict=True)
    ]


def _signal(client: Client, as_of: str) -> dict[str, Any]:
    response = client.get(
        "/api/dipfinder/signals/AAPL", params={"window": 30, "as_of": as_of}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_recorded_split_makes_no_dip(client: Client) -> None:
    bars = [
        {"date": b["date"], "close": b["close"]}
        for b in _apple_bars("2000-03-01", "2000-06-30")
    ]
    client.post("/api/symbols/AAPL/prices", json={"bars": bars, "actions": [SPLIT]})

    signal = _signal(client, "2000-06-28")

    assert signal["dip_stock"] < 0.10
    assert signal["data_quality"] == []


def test_unrecorded_split_is_flagged_not_scored(client: Client) -> None:
    client.post(
        "/api/symbols/AAPL/prices",
        json={"bars": _apple_bars("2000-03-01", "2000-06-30")},
    )

    signal = _signal(client, "2000-06-28")

    assert [f["kind"] for f in signal["data_quality"]] == ["unrecorded_action"]
    assert signal["data_quality"][0]["date"] == "2000-06-21"
    assert signal["should_alert"] is False
    assert "price data flagged: unrecorded action on 2000-06-21" in signal["reason"]
    # History restarts on the new basis, so the split is no 45 % dip.
    assert signal["dip_stock"] < 0.10


def test_real_crash_stays_a_dip(client: Client) -> None:
    client.post(
        "/api/symbols/AAPL/prices",
        json={"bars": _apple_bars("2000-07-01", "2000-10-06"), "actions": [SPLIT]},
    )

    signal = _signal(client, "2000-09-29")

    # 30-day peak 63.44 on 2000-09-01, close 25.75 on 2000-09-29.
    assert signal["dip_stock"] == pytest.approx(1 - 25.75 / 63.44)
    assert signal["data_quality"] == []


def test_hundredfold_glitch_is_flagged_and_excluded(client: Client) -> None:
    start = dt.date(2024, 1, 1)
    closes = [100.0] * 20 + [10_000.0] + [100.0] * 5
    bars = [
        {"date": (start + dt.timedelta(days=i)).isoformat(), "close": close}
        for i, close in enumerate(closes)
    ]
    client.post("/api/symbols/GLCH/prices", json={"bars": bars})

    signal = client.get("/api/dipfinder/signals/GLCH", params={"window": 30}).json()

    assert [f["kind"] for f in signal["data_quality"]] == ["spike"]
    assert signal["data_quality"][0]["date"] == "2024-01-21"
    assert signal["peak_stock"] == 100.0
    assert signal["dip_stock"] == 0.0
    assert signal["should_alert"] is False
