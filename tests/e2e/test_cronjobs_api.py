from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.interfaces.bootstrap import Container
from tests.auth_support import log_in

Client = TestClient[Any]

NEW_YORK = ZoneInfo("America/New_York")
ENDED = frozenset({"succeeded", "partial", "failed", "skipped"})
WAIT_SECONDS = 5.0
VIEWER = "cron-viewer"
VIEWER_PASS = "a viewer reads prices only"
# The five jobs with their cron, timezone, on-demand flag and description.
DEFAULT_JOBS = {
    "cleanup": (
        "0 3 * * *",
        "UTC",
        False,
        "expire signals older than 7 days and forget expired logouts",
    ),
    "dipfinder_run": (
        None,
        None,
        True,
        "recompute the signals of given tickers and windows",
    ),
    "ingest_prices": (
        "30 17 * * 1-5",
        "America/New_York",
        False,
        "fetch new daily bars of every watched ticker and the benchmark",
    ),
    "rebuild_projections": (
        None,
        None,
        True,
        "empty the read models and replay every event",
    ),
    "refresh_fundamentals": (
        "0 6 * * 6",
        "America/New_York",
        False,
        "fetch a fundamentals snapshot of every watched ticker",
    ),
}
JOB_NAMES = (
    "ingest_prices, refresh_fundamentals, cleanup, dipfinder_run, rebuild_projections"
)
CRON_FORM = "minute hour day-of-month month day-of-week"


@pytest.fixture
def config(config: Config) -> Config:
    """Each profile with the bundled sample as price source, so no run calls Yahoo."""
    return msgspec.structs.replace(config, price_source="sample")


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _request_run(client: Client, path: str, body: Any = None) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def _ended_run(client: Client, run_id: str) -> dict[str, Any]:
    """Poll the run until it has ended, and fail the test after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        body: dict[str, Any] = client.get(f"/api/cronjobs/runs/{run_id}").json()
        if body["run"]["status"] in ENDED:
            return body
        if time.monotonic() > deadline:
            pytest.fail(
                f"run {run_id} is still {body['run']['status']} after {WAIT_SECONDS} s"
            )
        time.sleep(0.05)


def _cleanup_run(client: Client) -> str:
    """Request a cleanup run and wait for its end, so runs never share the lock."""
    run_id = _request_run(client, "/api/cronjobs/cleanup/run")
    _ended_run(client, run_id)
    return run_id


def _job_audit(client: Client, job: str) -> list[dict[str, Any]]:
    page = client.get("/api/audit", params={"subject": f"job:{job}"}).json()
    entries: list[dict[str, Any]] = page["entries"]
    return entries


def _new_york_closes(after: dt.datetime, count: int) -> list[dt.datetime]:
    """Return the next `count` weekday 17:30 New York times after `after`, in UTC."""
    day = after.astimezone(NEW_YORK).date()
    closes: list[dt.datetime] = []
    while len(closes) < count:
        if day.weekday() < 5:
            local = dt.datetime.combine(day, dt.time(17, 30), tzinfo=NEW_YORK)
            if local > after:
                closes.append(local.astimezone(dt.UTC))
        day += dt.timedelta(days=1)
    return closes


def _log_in_viewer(client: Client) -> None:
    registered = client.post(
        "/api/users",
        json={"username": VIEWER, "password": VIEWER_PASS, "role": "viewer"},
    )
    assert registered.status_code == 201, registered.text
    log_in(client, VIEWER, VIEWER_PASS)


# Listing jobs


def test_job_list_shows_five_jobs(client: Client) -> None:
    response = client.get("/api/cronjobs")

    assert response.status_code == 200
    jobs = response.json()
    assert [job["name"] for job in jobs] == sorted(DEFAULT_JOBS)
    for job in jobs:
        cron, timezone, on_demand, description = DEFAULT_JOBS[job["name"]]
        assert job["cron"] == cron
        assert job["timezone"] == timezone
        assert job["enabled"] is True
        assert job["on_demand"] is on_demand
        assert job["description"] == description
        assert job["last_run"] is None


@pytest.mark.parametrize("name", ["dipfinder_run", "rebuild_projections"])
def test_on_demand_job_has_no_schedule(client: Client, name: str) -> None:
    jobs = {job["name"]: job for job in client.get("/api/cronjobs").json()}

    job = jobs[name]

    assert job["on_demand"] is True
    assert job["cron"] is None
    assert job["timezone"] is None
    assert job["next_runs"] == []


def test_ingest_prices_runs_after_new_york_close(client: Client) -> None:
    before = dt.datetime.now(dt.UTC)

    job = client.get("/api/cronjobs/ingest_prices").json()

    after = dt.datetime.now(dt.UTC)
    runs = [_instant(text) for text in job["next_runs"]]
    assert len(runs) == 5
    for run in runs:
        assert run.weekday() < 5, run
        assert (run.hour, run.minute, run.second) in {(21, 30, 0), (22, 30, 0)}, run
        local = dt.datetime.combine(
            run.astimezone(NEW_YORK).date(), dt.time(17, 30), tzinfo=NEW_YORK
        )
        assert run == local.astimezone(dt.UTC)
    # The request may straddle 17:30 in New York, so either list is right.
    assert runs in (_new_york_closes(before, 5), _new_york_closes(after, 5))


def test_cleanup_runs_daily_at_three_utc(client: Client) -> None:
    before = dt.datetime.now(dt.UTC)

    job = client.get("/api/cronjobs/cleanup").json()

    first = dt.datetime.combine(before.date(), dt.time(3), tzinfo=dt.UTC)
    if first <= before:
        first += dt.timedelta(days=1)
    expected = [first + dt.timedelta(days=n) for n in range(5)]
    assert [_instant(text) for text in job["next_runs"]] == expected


def test_viewer_cannot_list_jobs(client: Client) -> None:
    _log_in_viewer(client)

    response = client.get("/api/cronjobs")

    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "FORBIDDEN"
    assert body["message"] == f"{VIEWER} is a viewer; only an admin may do this"


def test_viewer_cannot_start_run(client: Client, container: Container) -> None:
    _log_in_viewer(client)
    head = container.store.head()

    response = client.post("/api/cronjobs/cleanup/run")

    assert response.status_code == 403
    assert response.json()["error"] == "FORBIDDEN"
    assert container.store.head() == head


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/cronjobs"),
        ("GET", "/api/cronjobs/cleanup"),
        ("PUT", "/api/cronjobs/cleanup"),
        ("POST", "/api/cronjobs/cleanup/run"),
        ("GET", "/api/cronjobs/cleanup/logs"),
        ("POST", "/api/dipfinder/run"),
        ("POST", "/api/dipfinder/admin/cleanup"),
    ],
)
def test_anonymous_caller_must_log_in(
    anonymous_client: Client, method: str, path: str
) -> None:
    body = {"enabled": False} if method == "PUT" else None

    response = anonymous_client.request(method, path, json=body)

    assert response.status_code == 401
    assert response.json()["error"] == "NOT_AUTHENTICATED"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="stonkmarket"'


# Changing a schedule


def test_cron_change_returns_new_cron(client: Client) -> None:
    response = client.put("/api/cronjobs/cleanup", json={"cron": "15 4 * * *"})

    assert response.status_code == 200
    job = response.json()
    assert (job["name"], job["cron"], job["timezone"]) == (
        "cleanup",
        "15 4 * * *",
        "UTC",
    )
    assert client.get("/api/cronjobs/cleanup").json()["cron"] == "15 4 * * *"


def test_cron_change_moves_next_runs(client: Client) -> None:
    before = dt.datetime.now(dt.UTC)

    job = client.put("/api/cronjobs/cleanup", json={"cron": "15 4 * * *"}).json()

    first = dt.datetime.combine(before.date(), dt.time(4, 15), tzinfo=dt.UTC)
    if first <= before:
        first += dt.timedelta(days=1)
    expected = [first + dt.timedelta(days=n) for n in range(5)]
    assert [_instant(text) for text in job["next_runs"]] == expected


def test_cron_change_audits_before_and_after(client: Client) -> None:
    response = client.put("/api/cronjobs/cleanup", json={"cron": "15 4 * * *"})

    entries = _job_audit(client, "cleanup")

    assert len(entries) == 1
    entry = entries[0]
    assert (entry["actor"], entry["action"]) == ("admin", "schedule_changed")
    assert entry["before"] == {"cron": "0 3 * * *", "timezone": "UTC"}
    assert entry["after"] == {"cron": "15 4 * * *", "timezone": "UTC"}
    assert entry["correlation_id"] == response.headers["X-Request-ID"]


def test_schedule_audit_survives_rebuild(client: Client) -> None:
    client.put("/api/cronjobs/cleanup", json={"cron": "15 4 * * *"})
    client.put("/api/cronjobs/cleanup", json={"timezone": "Europe/Berlin"})
    before = _job_audit(client, "cleanup")

    client.post("/api/projections/all/rebuild")

    assert _job_audit(client, "cleanup") == before
    assert [(e["before"], e["after"]) for e in before] == [
        (
            {"cron": "15 4 * * *", "timezone": "UTC"},
            {"cron": "15 4 * * *", "timezone": "Europe/Berlin"},
        ),
        (
            {"cron": "0 3 * * *", "timezone": "UTC"},
            {"cron": "15 4 * * *", "timezone": "UTC"},
        ),
    ]


def test_timezone_change_keeps_cron(client: Client) -> None:
    job = client.put(
        "/api/cronjobs/cleanup", json={"timezone": "America/New_York"}
    ).json()

    assert (job["cron"], job["timezone"]) == ("0 3 * * *", "America/New_York")
    for text in job["next_runs"]:
        local = _instant(text).astimezone(NEW_YORK)
        assert (local.hour, local.minute) == (3, 0)


def test_unchanged_schedule_records_nothing(
    client: Client, container: Container
) -> None:
    head = container.store.head()

    response = client.put(
        "/api/cronjobs/cleanup", json={"cron": "0 3 * * *", "enabled": True}
    )

    assert response.status_code == 200
    assert container.store.head() == head
    assert _job_audit(client, "cleanup") == []


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        (
            "61 * * * *",
            "cron '61 * * * *' has a field out of range or unreadable; "
            f"use {CRON_FORM}, such as '30 17 * * 1-5'",
        ),
        (
            "* * *",
            f"cron must have five fields ({CRON_FORM}), such as '30 17 * * 1-5'; "
            "got '* * *'",
        ),
        (
            "0 0 30 2 *",
            "cron '0 0 30 2 *' never fires (no calendar date matches it)",
        ),
    ],
)
def test_invalid_cron_is_rejected(client: Client, cron: str, message: str) -> None:
    response = client.put("/api/cronjobs/cleanup", json={"cron": cron})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "INVALID_CRON"
    assert body["details"] == {"field": "cron"}
    assert body["message"] == message


def test_overlong_cron_names_length_limit(client: Client) -> None:
    # Five fields with every minute listed: 10 one-digit and 50 two-digit
    # minutes, 59 commas and " * * * *" make 177 characters.
    cron = ",".join(str(minute) for minute in range(60)) + " * * * *"

    response = client.put("/api/cronjobs/cleanup", json={"cron": cron})

    assert response.status_code == 422
    assert response.json()["details"] == {"field": "cron"}
    assert "120" in response.json()["message"]


def test_unknown_timezone_is_rejected(client: Client) -> None:
    response = client.put("/api/cronjobs/cleanup", json={"timezone": "Mars/Olympus"})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "INVALID_TIMEZONE"
    assert body["details"] == {"field": "timezone"}
    assert body["message"] == (
        "timezone 'Mars/Olympus' is not an IANA timezone; "
        "use a name such as 'America/New_York' or 'UTC'"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"cron": "61 * * * *"},
        {"cron": "* * *"},
        {"timezone": "Mars/Olympus"},
        {"cron": "61 * * * *", "enabled": False},
        {"cron": "15 4 * * *", "timezone": "Mars/Olympus", "enabled": False},
    ],
)
def test_rejected_schedule_records_nothing(
    client: Client, container: Container, change: dict[str, Any]
) -> None:
    head = container.store.head()
    audit = client.get("/api/audit").json()

    response = client.put("/api/cronjobs/cleanup", json=change)

    assert response.status_code == 422
    assert container.store.head() == head
    assert client.get("/api/audit").json() == audit
    job = client.get("/api/cronjobs/cleanup").json()
    assert (job["cron"], job["timezone"], job["enabled"]) == ("0 3 * * *", "UTC", True)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"cron": "0 3 * * *"}, "cron"), ({"timezone": "UTC"}, "timezone")],
)
def test_on_demand_job_rejects_schedule(
    client: Client, container: Container, change: dict[str, str], field: str
) -> None:
    head = container.store.head()

    response = client.put("/api/cronjobs/dipfinder_run", json=change)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ON_DEMAND_JOB"
    assert body["details"] == {"field": field}
    assert body["message"] == (
        "dipfinder_run runs only on demand and takes no schedule; "
        "start it with POST /api/cronjobs/dipfinder_run/run"
    )
    assert container.store.head() == head


def test_schedule_unknown_field_rejected(client: Client) -> None:
    response = client.put(
        "/api/cronjobs/cleanup", json={"cron": "15 4 * * *", "colour": "red"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "INVALID_REQUEST"
    assert body["details"] == {"fields": ["colour"]}
    assert body["message"] == "colour: Object contains unknown field `colour`"
    assert client.get("/api/cronjobs/cleanup").json()["cron"] == "0 3 * * *"


def test_run_unknown_field_rejected(client: Client, container: Container) -> None:
    head = container.store.head()

    response = client.post("/api/cronjobs/dipfinder_run/run", json={"ticker": "KO"})

    assert response.status_code == 400
    assert response.json()["details"] == {"fields": ["ticker"]}
    assert container.store.head() == head


def test_disabled_job_has_no_next_runs(client: Client) -> None:
    response = client.put("/api/cronjobs/ingest_prices", json={"enabled": False})

    job = response.json()
    assert response.status_code == 200
    assert job["enabled"] is False
    assert job["next_runs"] == []
    assert client.get("/api/cronjobs/ingest_prices").json()["next_runs"] == []


def test_disabling_job_is_audited(client: Client) -> None:
    client.put("/api/cronjobs/ingest_prices", json={"enabled": False})

    entries = _job_audit(client, "ingest_prices")

    assert [(e["actor"], e["action"], e["before"], e["after"]) for e in entries] == [
        ("admin", "job_disabled", {"enabled": True}, {"enabled": False})
    ]


def test_enabled_job_regains_next_runs(client: Client) -> None:
    client.put("/api/cronjobs/cleanup", json={"enabled": False})

    job = client.put("/api/cronjobs/cleanup", json={"enabled": True}).json()

    assert job["enabled"] is True
    assert len(job["next_runs"]) == 5
    assert [e["action"] for e in _job_audit(client, "cleanup")] == [
        "job_enabled",
        "job_disabled",
    ]


# Unknown jobs and runs


def test_unknown_job_read_is_not_found(client: Client) -> None:
    response = client.get("/api/cronjobs/nope")

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "UNKNOWN_JOB"
    assert body["details"] == {"field": "name"}
    assert body["message"] == (
        "there is no job 'nope'; the jobs are ingest_prices, refresh_fundamentals, "
        "cleanup, dipfinder_run, rebuild_projections"
    )


def test_unknown_job_logs_are_not_found(client: Client) -> None:
    response = client.get("/api/cronjobs/nope/logs")

    assert response.status_code == 404
    assert response.json()["details"] == {"field": "name"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/cronjobs/nope", {"enabled": False}),
        ("POST", "/api/cronjobs/nope/run", None),
    ],
)
def test_unknown_job_change_not_found(
    client: Client,
    container: Container,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    head = container.store.head()

    response = client.request(method, path, json=body)

    assert response.status_code == 404
    answer = response.json()
    assert answer["error"] == "UNKNOWN_JOB"
    assert answer["details"] == {"field": "name"}
    assert answer["message"] == f"there is no job 'nope'; the jobs are {JOB_NAMES}"
    assert container.store.head() == head


def test_unknown_run_is_not_found(client: Client) -> None:
    run_id = uuid.uuid4()

    response = client.get(f"/api/cronjobs/runs/{run_id}")

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "NOT_FOUND"
    assert body["details"] == {"field": "run_id"}
    assert body["message"] == f"there is no job run {run_id}"


def test_run_path_without_uuid_is_not_found(client: Client) -> None:
    response = client.get("/api/cronjobs/runs/not-a-uuid")

    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


# Manual runs


def test_manual_run_accepted_as_requested(client: Client) -> None:
    response = client.post("/api/cronjobs/cleanup/run")

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"run_id", "job", "status"}
    assert uuid.UUID(body["run_id"]).version == 4
    assert (body["job"], body["status"]) == ("cleanup", "requested")
    _ended_run(client, body["run_id"])


def test_cleanup_run_succeeds_first_attempt(client: Client) -> None:
    run_id = _request_run(client, "/api/cronjobs/cleanup/run")

    run = _ended_run(client, run_id)["run"]

    assert run["run_id"] == run_id
    assert (run["job"], run["trigger"], run["tick"]) == ("cleanup", "manual", None)
    assert (run["status"], run["attempt"], run["error"]) == ("succeeded", 1, None)
    assert run["actor"] == "admin"
    assert run["params"] == {}
    assert run["worker"] == f"{socket.gethostname()}:{os.getpid()}"


def test_cleanup_run_log_in_order(client: Client) -> None:
    run_id = _request_run(client, "/api/cronjobs/cleanup/run")

    body = _ended_run(client, run_id)

    expired_before = body["run"]["summary"]["expired_before"]
    worker = f"{socket.gethostname()}:{os.getpid()}"
    assert [(line["level"], line["message"]) for line in body["log"]] == [
        ("info", "requested manually by admin"),
        ("info", f"attempt 1 started on {worker}"),
        ("info", f"expired signals and logouts dated before {expired_before}"),
        ("info", "succeeded"),
    ]
    positions = [line["position"] for line in body["log"]]
    assert positions == sorted(positions)


def test_cleanup_expires_week_old_signals(client: Client) -> None:
    run_id = _request_run(client, "/api/cronjobs/cleanup/run")

    run = _ended_run(client, run_id)["run"]

    expired_before = _instant(run["summary"]["expired_before"])
    week = dt.timedelta(days=7)
    assert _instant(run["started_at"]) - week <= expired_before
    assert expired_before <= _instant(run["finished_at"]) - week


def test_disabled_job_still_runs_on_demand(client: Client) -> None:
    client.put("/api/cronjobs/cleanup", json={"enabled": False})

    run_id = _request_run(client, "/api/cronjobs/cleanup/run")

    assert _ended_run(client, run_id)["run"]["status"] == "succeeded"


def test_manual_run_is_audited(client: Client) -> None:
    run_id = _request_run(client, "/api/cronjobs/cleanup/run")
    _ended_run(client, run_id)

    entries = _job_audit(client, "cleanup")

    assert [(e["actor"], e["action"], e["before"], e["after"]) for e in entries] == [
        ("admin", "run_requested", None, {"run_id": run_id, "params": {}})
    ]


def test_last_run_shows_ended_run(client: Client) -> None:
    run_id = _cleanup_run(client)

    job = client.get("/api/cronjobs/cleanup").json()

    assert job["last_run"]["run_id"] == run_id
    assert job["last_run"]["status"] == "succeeded"
    assert job["last_run"]["duration_ms"] >= 0


def test_run_log_survives_rebuild(client: Client) -> None:
    run_id = _cleanup_run(client)
    before = client.get(f"/api/cronjobs/runs/{run_id}").json()

    rebuilt = client.post("/api/projections/all/rebuild")

    assert rebuilt.status_code == 201
    assert client.get(f"/api/cronjobs/runs/{run_id}").json() == before


def test_job_without_params_rejects_tickers(
    client: Client, container: Container
) -> None:
    head = container.store.head()

    response = client.post("/api/cronjobs/cleanup/run", json={"tickers": ["KO"]})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "INVALID_PARAMS"
    assert body["details"] == {"field": "tickers"}
    assert body["message"] == "cleanup takes no parameter 'tickers'; it accepts: none"
    assert container.store.head() == head


# Run logs, page by page


def test_first_logs_page_has_newest_runs(client: Client) -> None:
    first, second, third = (_cleanup_run(client) for _ in range(3))

    page = client.get("/api/cronjobs/cleanup/logs", params={"limit": 2}).json()

    assert [entry["run"]["run_id"] for entry in page["runs"]] == [third, second]
    assert first not in {entry["run"]["run_id"] for entry in page["runs"]}
    assert page["next_cursor"] is not None
    assert [len(entry["log"]) for entry in page["runs"]] == [4, 4]


def test_last_logs_page_has_no_cursor(client: Client) -> None:
    first = _cleanup_run(client)
    _cleanup_run(client)
    _cleanup_run(client)
    cursor = client.get("/api/cronjobs/cleanup/logs", params={"limit": 2}).json()[
        "next_cursor"
    ]

    page = client.get(
        "/api/cronjobs/cleanup/logs", params={"limit": 2, "cursor": cursor}
    ).json()

    assert [entry["run"]["run_id"] for entry in page["runs"]] == [first]
    assert page["runs"][0]["log"][0]["message"] == "requested manually by admin"
    assert page["next_cursor"] is None


def test_logs_without_runs_are_empty(client: Client) -> None:
    page = client.get("/api/cronjobs/cleanup/logs").json()

    assert page == {"runs": [], "next_cursor": None}


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "eyJiZWZvcmUiOjB9"])
def test_garbage_logs_cursor_rejected(client: Client, cursor: str) -> None:
    response = client.get("/api/cronjobs/cleanup/logs", params={"cursor": cursor})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "INVALID_QUERY"
    assert body["details"] == {"field": "cursor"}


def test_logs_cursor_past_int64_rejected(client: Client) -> None:
    # The cursor encodes {"before": 9223372036854775808}, one past the largest
    # 64-bit integer, which neither SQLite nor PostgreSQL binds as an integer.
    cursor = "eyJiZWZvcmUiOjkyMjMzNzIwMzY4NTQ3NzU4MDh9"

    response = client.get("/api/cronjobs/cleanup/logs", params={"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["details"] == {"field": "cursor"}


def test_full_last_logs_page_has_no_cursor(client: Client) -> None:
    _cleanup_run(client)
    _cleanup_run(client)

    page = client.get("/api/cronjobs/cleanup/logs", params={"limit": 2}).json()

    assert len(page["runs"]) == 2
    assert page["next_cursor"] is None


@pytest.mark.parametrize("limit", [0, 201])
def test_logs_limit_out_of_range_rejected(client: Client, limit: int) -> None:
    response = client.get("/api/cronjobs/cleanup/logs", params={"limit": limit})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "INVALID_QUERY"
    assert body["details"] == {"field": "limit"}
    assert body["message"] == f"limit must be from 1 to 200, got {limit}"


# The finder's job routes


def test_finder_run_records_canonical_params(client: Client) -> None:
    run_id = _request_run(
        client, "/api/dipfinder/run", {"tickers": ["brk.b"], "windows": [30]}
    )

    run = _ended_run(client, run_id)["run"]

    assert run["job"] == "dipfinder_run"
    assert run["params"] == {"tickers": ["BRK-B"], "windows": [30]}


def test_finder_run_rejects_unknown_window(
    client: Client, container: Container
) -> None:
    head = container.store.head()

    response = client.post("/api/dipfinder/run", json={"windows": [8]})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "INVALID_PARAMS"
    assert body["details"] == {"field": "windows"}
    assert body["message"] == (
        "windows must be a list of window lengths from 7, 30, 100 and 365"
    )
    assert container.store.head() == head


def test_finder_run_rejects_empty_ticker_list(client: Client) -> None:
    response = client.post("/api/dipfinder/run", json={"tickers": []})

    assert response.status_code == 422
    body = response.json()
    assert body["details"] == {"field": "tickers"}
    assert body["message"] == (
        'tickers must be a list of 1 to 500 tickers, such as ["AAPL", "MSFT"]'
    )


def test_finder_run_without_prices_fails(client: Client) -> None:
    run_id = _request_run(
        client, "/api/dipfinder/run", {"tickers": ["brk.b"], "windows": [30]}
    )

    body = _ended_run(client, run_id)

    error = "dipfinder_run failed for 1 of 1 tickers: BRK-B"
    assert body["run"]["status"] == "failed"
    assert body["run"]["error"] == error
    assert [(line["level"], line["message"]) for line in body["log"][-2:]] == [
        ("error", "BRK-B: no prices recorded for BRK-B"),
        ("error", f"failed: {error}"),
    ]


@pytest.mark.parametrize(
    ("path", "job"),
    [
        ("/api/dipfinder/admin/cleanup", "cleanup"),
        ("/api/dipfinder/admin/refresh-all", "ingest_prices"),
    ],
)
def test_finder_admin_route_requests_its_job(
    client: Client, path: str, job: str
) -> None:
    response = client.post(path)

    assert response.status_code == 202
    body = response.json()
    assert (body["job"], body["status"]) == (job, "requested")
    assert _ended_run(client, body["run_id"])["run"]["job"] == job


def test_fundamentals_from_the_sample_fail_offline(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})

    run_id = _request_run(client, "/api/cronjobs/refresh_fundamentals/run")
    ended = _ended_run(client, run_id)

    assert ended["run"]["status"] == "failed"
    assert ended["run"]["error"] == "refresh_fundamentals failed for 1 of 1 tickers: KO"
    assert ended["run"]["summary"] == {
        "tickers": {
            "KO": "failed: the bundled sample has no fundamentals for KO; "
            "set PRICE_SOURCE=yfinance to fetch them from Yahoo"
        }
    }
