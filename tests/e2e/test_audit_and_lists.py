from __future__ import annotations

import datetime as dt
from typing import Any

from litestar.testing import TestClient

from stonkmarket.interfaces.bootstrap import Container

Client = TestClient[Any]


def _watch(client: Client, ticker: str, last_close: float) -> None:
    client.post("/api/symbols", json={"ticker": ticker})
    start = dt.date(2024, 1, 1)
    bars = [
        {"date": (start + dt.timedelta(days=i)).isoformat(), "close": 100.0}
        for i in range(60)
    ]
    bars.append({"date": "2024-03-01", "close": last_close})
    client.post(f"/api/symbols/{ticker}/prices", json={"bars": bars})


def test_settings_change_is_one_event_and_one_audit_row(
    client: Client, container: Container
) -> None:
    head = container.store.head()

    client.put(
        "/api/dipfinder/config",
        json={"quality_gate": 55},
        headers={"X-Request-ID": "req-42"},
    )
    page = client.get("/api/audit", params={"subject": "dipfinder_settings"}).json()
    rows = page["entries"]

    assert (
        container.store.head() == head + 2
    )  # the settings record starts, then changes
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["action"]) == ("admin", "settings_changed")
    assert (row["before"], row["after"]) == (
        {"quality_gate": 60.0},
        {"quality_gate": 55.0},
    )
    assert row["correlation_id"] == "req-42"


def test_second_settings_change_adds_one_event(
    client: Client, container: Container
) -> None:
    client.put("/api/dipfinder/config", json={"quality_gate": 55})
    head = container.store.head()

    client.put("/api/dipfinder/config", json={"quality_gate": 50})

    assert container.store.head() == head + 1
    assert client.get("/api/dipfinder/config").json()["version"] == 2


def test_symbol_changes_are_audited_with_before_and_after(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})
    client.put("/api/symbols/KO", json={"min_dip_pct": 0.2, "min_days": 3})
    client.delete("/api/symbols/KO")

    rows = client.get("/api/audit", params={"subject": "symbol:KO"}).json()["entries"]

    assert [(r["action"], r["before"], r["after"]) for r in rows] == [
        ("symbol_removed", {"min_dip_pct": 0.2, "min_days": 3}, None),
        (
            "thresholds_changed",
            {"min_dip_pct": None, "min_days": None},
            {"min_dip_pct": 0.2, "min_days": 3},
        ),
        ("symbol_added", None, {"min_dip_pct": None, "min_days": None}),
    ]


def test_audit_cursor_reaches_oldest_change(client: Client) -> None:
    for ticker in ("A", "B", "C", "D", "E"):
        client.post("/api/symbols", json={"ticker": ticker})

    pages = [client.get("/api/audit", params={"limit": 2}).json()]
    while pages[-1]["next_cursor"] is not None:
        cursor = pages[-1]["next_cursor"]
        pages.append(
            client.get("/api/audit", params={"limit": 2, "cursor": cursor}).json()
        )

    # The oldest change is the first admin's account, opened at start-up.
    assert [[r["subject"] for r in page["entries"]] for page in pages] == [
        ["symbol:E", "symbol:D"],
        ["symbol:C", "symbol:B"],
        ["symbol:A", "account:admin"],
    ]


def test_audit_full_last_page_has_no_cursor(client: Client) -> None:
    for ticker in ("A", "B"):
        client.post("/api/symbols", json={"ticker": ticker})

    # Two symbols and the first admin's account.
    page = client.get("/api/audit", params={"limit": 3}).json()

    assert len(page["entries"]) == 3
    assert page["next_cursor"] is None


def test_audit_filters_by_time_since_inclusive_until_exclusive(
    client: Client,
) -> None:
    for ticker in ("A", "B", "C"):
        client.post("/api/symbols", json={"ticker": ticker})
    entries = client.get("/api/audit").json()["entries"]
    times = {e["subject"]: e["at"] for e in entries}

    between = client.get(
        "/api/audit", params={"since": times["symbol:B"], "until": times["symbol:C"]}
    ).json()["entries"]
    after_all = client.get("/api/audit", params={"since": "2999-01-01"}).json()

    assert [e["subject"] for e in between] == ["symbol:B"]
    assert after_all == {"entries": [], "next_cursor": None}


def test_latest_lists_best_final_score_first(client: Client) -> None:
    _watch(client, "DEEP", 60.0)
    _watch(client, "FLAT", 99.0)

    latest = client.get("/api/dipfinder/latest", params={"window": 30}).json()

    assert [s["ticker"] for s in latest] == ["DEEP", "FLAT"]
    assert latest[0]["final_score"] > latest[1]["final_score"]


def test_alerts_lists_only_alerting_signals(client: Client) -> None:
    _watch(client, "DEEP", 60.0)

    alerts = client.get("/api/dipfinder/alerts", params={"window": 30}).json()

    assert alerts == []


def test_info_shows_thresholds_and_signals(client: Client) -> None:
    _watch(client, "DEEP", 60.0)
    client.put("/api/symbols/DEEP", json={"min_dip_pct": 0.25})

    info = client.get("/api/dips/DEEP/info").json()

    assert info["symbol"]["ticker"] == "DEEP"
    assert info["thresholds"] == {"min_dip_abs": 0.25, "min_persist_days": 2}
    assert info["fundamentals"] is None
    assert sorted(info["signals"], key=int) == ["7", "30", "100", "365"]
    assert info["signals"]["30"]["dip_stock"] == 0.4


def test_limit_outside_range_is_refused(client: Client) -> None:
    response = client.get("/api/dipfinder/latest", params={"limit": 0})

    assert response.status_code == 422
    assert response.json()["message"] == "limit must be from 1 to 500, got 0"
