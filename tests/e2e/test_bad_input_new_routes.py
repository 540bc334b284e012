from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

Client = TestClient[Any]


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/dipfinder/history/NOPE", {}, 404, "ticker"),
        ("/api/dipfinder/history/NOPE", {"window": 8}, 422, "window"),
        ("/api/dipfinder/history/NOPE", {"days": 0}, 422, "days"),
        ("/api/dipfinder/latest", {"window": 8}, 422, "window"),
        ("/api/dipfinder/latest", {"limit": 501}, 422, "limit"),
        ("/api/dipfinder/alerts", {"limit": 0}, 422, "limit"),
        ("/api/dips/NOPE/info", {}, 404, "ticker"),
        ("/api/dips/A$B/info", {}, 422, "ticker"),
        ("/api/audit", {"limit": 0}, 422, "limit"),
        ("/api/audit", {"cursor": "not-a-cursor"}, 400, "cursor"),
        ("/api/audit", {"cursor": "eyJiZWZvcmUiOjB9"}, 400, "cursor"),
        ("/api/audit", {"since": "yesterday"}, 400, "since"),
        ("/api/audit", {"until": "2026-13-01"}, 400, "until"),
        ("/api/dipfinder/signals/KO", {"benchmark": "S&P"}, 422, "benchmark"),
    ],
)
def test_bad_query_names_the_field(
    client: Client, path: str, params: dict[str, Any], status: int, field: str
) -> None:
    response = client.get(path, params=params)

    assert response.status_code == status
    assert response.json()["details"]["field"] == field


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_score": 101}, "min_score"),
        ({"only_alerts": "maybe"}, "only_alerts"),
        ({"settings_version": -1}, "settings_version"),
    ],
)
def test_undecodable_query_is_a_bad_request(
    client: Client, params: dict[str, Any], field: str
) -> None:
    path = (
        "/api/dipfinder/latest"
        if "settings_version" not in params
        else ("/api/dipfinder/signals/KO")
    )

    response = client.get(path, params=params)

    assert response.status_code == 400
    assert response.json()["details"]["fields"] == [field]


def test_bad_fundamentals_body_names_the_field(client: Client) -> None:
    response = client.post(
        "/api/symbols/KO/fundamentals", json={"as_of": "soon", "info": {}}
    )

    assert response.status_code == 400
    assert response.json()["details"]["fields"] == ["as_of"]


def test_bad_action_kind_names_the_field(client: Client) -> None:
    body = {
        "bars": [{"date": "2024-01-02", "close": 10}],
        "actions": [{"date": "2024-01-02", "kind": "merger", "value": 1}],
    }

    response = client.post("/api/symbols/KO/prices", json=body)

    assert response.status_code == 400
    assert "kind" in response.json()["message"]
