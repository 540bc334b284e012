from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from stonkmarket.application.views import SymbolView
from stonkmarket.domain.symbol import Symbol, symbol_id
from stonkmarket.infrastructure.security_config import DEFAULT_ADMIN_PASS
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.http.app import create_app
from tests.auth_support import ADMIN_USER, serving

Client = TestClient[Any]

ACME_BARS = [
    {"date": "2024-01-02", "close": 100.0},
    {"date": "2024-01-03", "close": 110.0},
    {"date": "2024-01-04", "close": 120.0},
    {"date": "2024-01-05", "close": 90.0},
    {"date": "2024-01-08", "close": 84.0},
]


def test_added_symbol_with_prices_appears_in_the_ranking(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "acme"})
    client.post("/api/symbols/ACME/prices", json={"bars": ACME_BARS})
    client.post("/api/symbols", json={"ticker": "BETA"})
    client.post(
        "/api/symbols/BETA/prices",
        json={
            "bars": [
                {"date": "2024-01-02", "close": 50},
                {"date": "2024-01-08", "close": 49},
            ]
        },
    )

    ranking = client.get("/api/dips/ranking", params={"window": 365}).json()

    assert [(row["rank"], row["ticker"]) for row in ranking] == [
        (1, "ACME"),
        (2, "BETA"),
    ]
    acme = ranking[0]
    # Peak 120 on 2024-01-04, close 84: 1 - 84/120 = 0.30, two days in the dip.
    assert acme["dip_stock"] == pytest.approx(1 - 84 / 120)
    assert (acme["peak_stock"], acme["peak_date"]) == (120.0, "2024-01-04")
    assert acme["persist_days"] == 2
    assert acme["dip_class"] is None  # no benchmark prices to compare with
    assert ranking[1]["dip_stock"] == pytest.approx(1 - 49 / 50)
    assert ranking[1]["dip_class"] == "NONE"


def test_post_is_visible_to_the_next_get(client: Client) -> None:
    created = client.post(
        "/api/symbols", json={"ticker": "brk.b", "min_dip_pct": 0.2, "min_days": 3}
    )

    listed = client.get("/api/symbols").json()

    assert created.status_code == 201
    assert created.json()["ticker"] == "BRK-B"
    assert [(s["ticker"], s["min_dip_pct"], s["min_days"]) for s in listed] == [
        ("BRK-B", 0.2, 3)
    ]


def test_updating_thresholds_changes_the_symbol(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})

    updated = client.put("/api/symbols/ko", json={"min_dip_pct": 0.05, "min_days": 1})

    assert updated.status_code == 200
    assert (updated.json()["min_dip_pct"], updated.json()["min_days"]) == (0.05, 1)


def test_removed_symbol_is_gone_and_can_be_added_again(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})

    removed = client.delete("/api/symbols/KO")
    after_removal = client.get("/api/symbols/KO")
    again = client.post("/api/symbols", json={"ticker": "KO"})

    assert removed.status_code == 204
    assert after_removal.status_code == 404
    assert again.status_code == 201


def test_adding_a_watched_ticker_again_is_a_conflict(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})

    response = client.post("/api/symbols", json={"ticker": "ko"})

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "CONFLICT"
    assert body["message"] == "KO is already on the watchlist"
    assert body["details"] == {"field": "ticker"}
    assert body["request_id"] == response.headers["x-request-id"]


def test_two_concurrent_adds_give_one_created_and_one_conflict(
    container: Container,
) -> None:
    async def add_twice(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base) as client:
            login = await client.post(
                "/api/auth/login",
                json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            responses = await asyncio.gather(
                client.post("/api/symbols", json={"ticker": "NVDA"}),
                client.post("/api/symbols", json={"ticker": "NVDA"}),
            )
        return sorted(r.status_code for r in responses)

    # A real server, so the two requests overlap.
    with serving(create_app(container)) as base:
        statuses = asyncio.run(add_twice(base))

    reopened = build(container.config)
    assert statuses == [201, 409]
    symbol = reopened.store.get(symbol_id("NVDA"), Symbol)
    assert symbol is not None and symbol.version == 1
    reopened.store.close()


def test_out_of_range_threshold_names_the_field(client: Client) -> None:
    response = client.post("/api/symbols", json={"ticker": "KO", "min_dip_pct": 1.5})

    assert response.status_code == 400
    assert response.json()["details"]["fields"] == ["min_dip_pct"]
    assert client.get("/api/symbols").json() == []


def test_ticker_outside_yahoo_form_is_refused(client: Client) -> None:
    response = client.post("/api/symbols", json={"ticker": "AA$"})

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_TICKER"
    assert response.json()["details"] == {"field": "ticker"}


def test_malformed_json_is_a_bad_request(client: Client) -> None:
    response = client.post(
        "/api/symbols",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_REQUEST"


def test_unknown_field_is_refused(client: Client) -> None:
    response = client.post("/api/symbols", json={"ticker": "KO", "colour": "red"})

    assert response.status_code == 400
    assert "colour" in response.json()["message"]


def test_unknown_symbol_is_not_found(client: Client) -> None:
    response = client.get("/api/symbols/NOPE")

    assert response.status_code == 404
    assert response.json()["message"] == "NOPE is not on the watchlist"


def test_window_the_finder_does_not_measure_is_refused(client: Client) -> None:
    response = client.get("/api/dips/ranking", params={"window": 8})

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "window"}
    assert (
        response.json()["message"]
        == "window must be one of 7, 30, 100, 365 days, got 8"
    )


def test_unreadable_as_of_date_names_the_parameter(client: Client) -> None:
    response = client.get("/api/dips/ranking", params={"as_of": "yesterday"})

    assert response.status_code == 400
    assert response.json()["details"]["fields"] == ["as_of"]


def test_signal_for_a_ticker_without_prices_is_not_found(client: Client) -> None:
    response = client.get("/api/dipfinder/signals/ZZZZ")

    assert response.status_code == 404
    assert response.json()["message"] == "no prices recorded for ZZZZ"


def test_changed_close_without_reason_is_a_conflict(client: Client) -> None:
    client.post("/api/symbols/ACME/prices", json={"bars": ACME_BARS})
    changed = [{"date": "2024-01-08", "close": 85.0}]

    refused = client.post("/api/symbols/ACME/prices", json={"bars": changed})
    restated = client.post(
        "/api/symbols/ACME/prices", json={"bars": changed, "reason": "vendor fix"}
    )

    assert refused.status_code == 409
    assert refused.json()["details"] == {"field": "reason"}
    assert restated.status_code == 201
    chart = client.get("/api/dips/ACME/chart", params={"days": 7}).json()
    assert chart["points"][-1] == {"date": "2024-01-08", "close": 85.0}


def test_chart_holds_the_last_days_of_closes(client: Client) -> None:
    client.post("/api/symbols/ACME/prices", json={"bars": ACME_BARS})

    chart = client.get("/api/dips/ACME/chart", params={"days": 5}).json()

    # Five calendar days back from 2024-01-08 reach 2024-01-04 (exclusive of 01-03).
    assert [p["date"] for p in chart["points"]] == [
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
    ]


def test_unknown_route_answers_in_the_error_body(client: Client) -> None:
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert set(response.json()) == {"error", "message", "status", "request_id"}


def test_openapi_document_lists_the_routes(client: Client) -> None:
    document = client.get("/api/openapi.json").json()

    assert {"/api/symbols", "/api/dips/ranking", "/api/dipfinder/signals"} <= set(
        document["paths"]
    )


def test_health_reports_no_lag_once_caught_up(
    client: Client, container: Container
) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})
    # The first admin's account, username claim and admin roster (started,
    # then the admin added), the five jobs, then the symbol.
    assert container.store.head() == 10

    health = client.get("/api/health").json()

    assert health == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "cache_kind": "in-process",
        "position": 10,
        "head": 10,
        "lag": 0,
    }
    assert client.get("/api/health/ready").json() == {
        "status": "ready",
        "database": "ok",
        "cache": "ok",
        "cache_kind": "in-process",
    }
    assert client.get("/api/health/live").json() == {"status": "alive"}


def test_symbol_view_matches_the_response_fields() -> None:
    assert set(SymbolView.__struct_fields__) == {
        "ticker",
        "min_dip_pct",
        "min_days",
        "added_at",
        "updated_at",
    }
