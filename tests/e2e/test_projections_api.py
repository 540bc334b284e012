from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from litestar.testing import TestClient

from stonkmarket.interfaces.cli.main import cli

Client = TestClient[Any]


def test_status_shows_no_lag_after_a_write(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})

    statuses = client.get("/api/projections").json()

    assert {s["name"] for s in statuses} == {
        "audit_log",
        "symbols",
        "price_bars",
        "fundamentals",
        "dipfinder_settings",
        "dipfinder_signals",
        "dip_history",
        "accounts",
        "jobs",
    }
    # Four events open the first admin (account, username claim, admin roster
    # started and the admin added), five register the jobs, then the symbol.
    assert {(s["position"], s["head"], s["lag"]) for s in statuses} == {(10, 10, 0)}


def test_rebuild_replays_every_event(client: Client) -> None:
    client.post("/api/symbols", json={"ticker": "KO"})
    client.put("/api/symbols/KO", json={"min_dip_pct": 0.2})
    before = client.get("/api/audit").json()

    response = client.post("/api/projections/all/rebuild")

    assert response.status_code == 201
    # Four events of the first admin, five jobs, two of KO; a login stores no
    # event.
    assert response.json() == {"events_replayed": 11}
    assert client.get("/api/audit").json() == before


def test_rebuild_of_unknown_projection_is_not_found(client: Client) -> None:
    response = client.post("/api/projections/nothing/rebuild")

    assert response.status_code == 404
    assert response.json()["message"].startswith("no projection is named 'nothing'")


def test_cli_status_and_rebuild(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DATA_DIR": str(tmp_path)}

    rebuilt = runner.invoke(cli, ["projections", "rebuild"], env=env)
    status = runner.invoke(cli, ["projections", "status"], env=env)
    unknown = runner.invoke(cli, ["projections", "rebuild", "nope"], env=env)

    assert rebuilt.stdout.strip() == "Rebuilt every view from 0 events."
    assert "symbols" in status.stdout
    assert unknown.exit_code == 1
    assert "no projection is named 'nope'" in unknown.stderr
