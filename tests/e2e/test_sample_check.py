"""An independent check on the shipped data, through the CLI and the API.

As of 2009-03-09 the S&P 500 closed at 676.53; the highest close of the year
before, in (2008-03-09, 2009-03-09], was 1426.63 on 2008-05-19 (read off the
sample file by hand), so the 365-day dip is 1 - 676.53 / 1426.63.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from stonkmarket.application.commands import RecordPrices
from stonkmarket.application.handlers import record_prices
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.cli.main import cli
from stonkmarket.interfaces.http.app import create_app

EXPECTED_DIP = 1 - 676.53 / 1426.63


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A store holding only the sample's ^GSPC closes."""

    async def record() -> None:
        container = build(Config(data_dir=tmp_path))
        await container.start()
        batch = SamplePriceSource().fetch("^GSPC")
        await container.execute(record_prices, RecordPrices(batch=batch))
        await container.close()

    asyncio.run(record())
    return tmp_path


def test_cli_reports_the_2009_dip_of_the_sp500(data_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["signal", "^GSPC", "--window", "365", "--as-of", "2009-03-09", "--json"],
        env={"DATA_DIR": str(data_dir)},
    )

    assert result.exit_code == 0, result.output
    signal = msgspec.json.decode(result.stdout.splitlines()[-1])
    assert signal["dip_stock"] == pytest.approx(EXPECTED_DIP, abs=1e-12)
    assert (signal["peak_stock"], signal["peak_date"]) == (1426.63, "2008-05-19")
    assert (signal["current_price"], signal["as_of_date"]) == (676.53, "2009-03-09")


def test_api_reports_the_2009_dip_of_the_sp500(data_dir: Path) -> None:
    app = create_app(build(Config(data_dir=data_dir)))
    with TestClient(app=app) as client:
        response = client.get(
            "/api/dipfinder/signals/%5EGSPC",
            params={"window": 365, "as_of": "2009-03-09"},
        )

    signal: dict[str, Any] = response.json()
    assert response.status_code == 200
    assert signal["dip_stock"] == pytest.approx(EXPECTED_DIP, abs=1e-12)
    assert (signal["peak_stock"], signal["peak_date"]) == (1426.63, "2008-05-19")
