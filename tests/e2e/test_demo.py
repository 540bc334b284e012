from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from stonkmarket.interfaces.cli.main import cli

SAMPLE_STOCKS = {
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
}


@pytest.mark.slow
def test_the_demo_loads_once_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DATA_DIR": str(tmp_path)}

    first = runner.invoke(cli, ["demo"], env=env)
    second = runner.invoke(cli, ["demo"], env=env)
    ranking = runner.invoke(cli, ["rank", "--json"], env=env)

    assert first.exit_code == 0, first.output
    assert "(42 changes stored;" in first.stdout
    assert "(0 changes stored;" in second.stdout
    rows = msgspec.json.decode(ranking.stdout.splitlines()[-1])
    assert {row["ticker"] for row in rows} == SAMPLE_STOCKS
    assert {row["as_of_date"] for row in rows} == {"2022-12-28"}
    dips = [row["dip_stock"] for row in rows]
    assert dips == sorted(dips, reverse=True)
