from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

Client = TestClient[Any]


def test_config_starts_at_version_zero(client: Client) -> None:
    response = client.get("/api/dipfinder/config")

    assert response.status_code == 200
    assert response.headers["etag"] == '"0"'
    body = response.json()
    assert body["version"] == 0
    assert body["values"]["alert_good"] == 70.0
    assert body["knobs"]["alert_good"]["low"] == 50.0


def test_config_change_bumps_the_version(client: Client) -> None:
    response = client.put(
        "/api/dipfinder/config",
        json={"quality_gate": 55, "missing_quality": "skip"},
        headers={"If-Match": '"0"'},
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["values"]["quality_gate"] == 55.0
    assert response.json()["values"]["missing_quality"] == "skip"


def test_stale_if_match_is_refused(client: Client) -> None:
    client.put("/api/dipfinder/config", json={"quality_gate": 55})

    response = client.put(
        "/api/dipfinder/config", json={"quality_gate": 50}, headers={"If-Match": '"0"'}
    )

    assert response.status_code == 412
    assert response.json()["message"] == (
        "the settings are at version 1, not 0; reload them and apply the change again"
    )
    assert client.get("/api/dipfinder/config").json()["values"]["quality_gate"] == 55.0


def test_every_bad_knob_is_named(client: Client) -> None:
    response = client.put(
        "/api/dipfinder/config",
        json={"quality_gate": 150, "missing_quality": "maybe", "colour": 1},
    )

    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {
        "quality_gate": "quality_gate must be from 0 to 100, got 150",
        "missing_quality": "missing_quality must be block or skip, got 'maybe'",
        "colour": (
            "colour is not a setting; known settings: benchmark, min_dip_abs, "
            "min_persist_days, dip_percentile_threshold, dip_vs_typical_threshold, "
            "market_dip_threshold, excess_dip_market, excess_dip_stock_specific, "
            "history_years, quality_gate, stability_gate, alert_good, alert_strong, "
            "weight_dip, weight_quality, weight_stability, missing_quality, "
            "quality_anchors, stability_anchors"
        ),
    }
    assert client.get("/api/dipfinder/config").json()["version"] == 0


def test_unreadable_if_match_is_refused(client: Client) -> None:
    response = client.put(
        "/api/dipfinder/config", json={"quality_gate": 50}, headers={"If-Match": "abc"}
    )

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "If-Match"}
