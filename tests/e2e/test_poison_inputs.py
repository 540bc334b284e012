"""Inputs that once stored events the projections could not apply."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

Client = TestClient[Any]

BARS = [
    {"date": "2022-05-31", "close": 92.5},
    {"date": "2022-06-01", "close": 92.0},
]


def test_log_equal_anchor_is_refused(client: Client) -> None:
    response = client.put(
        "/api/dipfinder/config",
        json={"quality_anchors": {"market_cap": [1e300, 1.0000000000000002e300]}},
    )

    assert response.status_code == 422
    assert response.json()["details"]["field"] == "quality_anchors"
    assert client.get("/api/dipfinder/config").json()["version"] == 0


def test_dividend_above_the_close_stores_nothing(client: Client) -> None:
    body = {
        "bars": BARS,
        "actions": [{"date": "2022-06-01", "kind": "dividend", "value": 500}],
    }

    refused = client.post("/api/symbols/XYZ/prices", json=body)
    later = client.post("/api/symbols", json={"ticker": "QQQ"})

    assert refused.status_code == 422
    assert refused.json()["message"] == (
        "the dividend of 500 on 2022-06-01 is not below the close of 92.5 before "
        "it; send the cash dividend per share, in the quote currency"
    )
    assert later.status_code == 201
    assert client.get("/api/health").json()["lag"] == 0


def test_restating_below_a_dividend_is_refused(client: Client) -> None:
    client.post(
        "/api/symbols/XYZ/prices",
        json={
            "bars": BARS,
            "actions": [{"date": "2022-06-01", "kind": "dividend", "value": 5}],
        },
    )

    response = client.post(
        "/api/symbols/XYZ/prices",
        json={"bars": [{"date": "2022-05-31", "close": 4}], "reason": "restated"},
    )

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "actions"}


def test_action_in_the_future_is_refused(client: Client) -> None:
    body = {
        "bars": BARS,
        "actions": [{"date": "2099-01-01", "kind": "split", "value": 2}],
    }

    response = client.post("/api/symbols/XYZ/prices", json=body)

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "actions"}


def test_same_action_twice_in_a_batch_is_refused(client: Client) -> None:
    dividend = {"date": "2022-06-01", "kind": "dividend", "value": 1}
    body = {"bars": BARS, "actions": [dividend, {**dividend, "value": 2}]}

    response = client.post("/api/symbols/XYZ/prices", json=body)

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "actions"}


def test_huge_whole_numbers_are_refused(client: Client) -> None:
    config = client.put(
        "/api/dipfinder/config",
        content=b'{"min_dip_abs": 1' + b"0" * 400 + b"}",
        headers={"content-type": "application/json"},
    )
    version = client.get(
        "/api/dipfinder/signals/AAPL", params={"settings_version": 10**20}
    )
    audit = client.get("/api/audit", params={"limit": 10**20})

    assert config.status_code in (400, 422)
    assert version.status_code == 400
    assert audit.status_code == 422
    assert audit.json()["details"]["field"] == "limit"


def test_newer_snapshot_after_last_bar_keeps_quality(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})
    client.post("/api/symbols/KO/prices", json={"bars": BARS})
    info = {"marketCap": 2.5e11, "profitMargins": 0.25}
    client.post(
        "/api/symbols/KO/fundamentals", json={"as_of": "2022-05-01", "info": info}
    )

    client.post(
        "/api/symbols/KO/fundamentals", json={"as_of": "2022-06-02", "info": info}
    )
    signal = client.get("/api/dipfinder/signals/KO", params={"window": 30}).json()

    assert signal["quality_score"] is not None
