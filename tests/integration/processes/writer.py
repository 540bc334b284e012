"""A writer process for the concurrency tests, which runs many small commands.

It builds the container, creates
the `--ready` file and waits for the test to create the `--go` file, so that
every writer starts at the same moment. Then it runs its commands on the
event store, the way the API's command threads do, and writes what it stored
to the `--result` file as JSON:
`{"tickers": [...], "bars": {ticker: count}, "positions": [...]}`, where
`positions` are the notification ids its commands returned.

Modes:
- `prices`: add each ticker, then record its sample closes from `--start`
  on, `--chunk` bars per command, taking the tickers in turn.
- `thresholds`: add the one ticker, then change its `min_days` `--changes`
  times, between 1 and 2, so each command stores one event. Each command
  starts at the next multiple of `--tick` seconds of the wall clock, so the
  commands of writers given the same tick are stored at nearly the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import msgspec

from stonkmarket.application.commands import AddSymbol, RecordPrices, UpdateSymbol
from stonkmarket.application.handlers import add_symbol, record_prices, update_symbol
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.config import load_config
from stonkmarket.infrastructure.event_store import EventsourcingStore
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import build

GO_TIMEOUT_SECONDS = 120.0


def wait_for_file(path: Path, timeout_seconds: float) -> None:
    """Return once `path` exists, or raise TimeoutError after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout_seconds} s waiting for {path} to be created"
            )
        time.sleep(0.001)


def write_prices(
    store: EventsourcingStore, tickers: list[str], start: dt.date, chunk: int
) -> dict[str, Any]:
    source = SamplePriceSource()
    batches = {ticker: source.fetch(ticker, start=start) for ticker in tickers}
    positions = [
        add_symbol(store, AddSymbol(ticker=ticker, actor="writer")).position
        for ticker in tickers
    ]
    longest = max(len(batch) for batch in batches.values())
    for first in range(0, longest, chunk):
        for batch in batches.values():
            part = _slice(batch, first, first + chunk)
            if len(part):
                command = RecordPrices(batch=part, actor="writer")
                positions.append(record_prices(store, command).position)
    bars = {ticker: len(batch) for ticker, batch in batches.items()}
    return {"tickers": tickers, "bars": bars, "positions": positions}


def change_thresholds(
    store: EventsourcingStore, ticker: str, changes: int, tick_seconds: float
) -> dict[str, Any]:
    positions = [add_symbol(store, AddSymbol(ticker=ticker, actor="writer")).position]
    for index in range(changes):
        time.sleep(tick_seconds - time.time() % tick_seconds)
        command = UpdateSymbol(ticker=ticker, min_days=1 + index % 2, actor="writer")
        positions.append(update_symbol(store, command).position)
    return {"tickers": [ticker], "bars": {}, "positions": positions}


def _slice(batch: PriceBatch, start: int, stop: int) -> PriceBatch:
    return msgspec.structs.replace(
        batch, dates=batch.dates[start:stop], closes=batch.closes[start:stop]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["prices", "thresholds"])
    parser.add_argument("--tickers", required=True, help="comma-separated")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--chunk", type=int, default=10, help="bars per command")
    parser.add_argument("--changes", type=int, default=0)
    parser.add_argument("--tick", type=float, default=0.05, help="seconds")
    parser.add_argument("--go", type=Path, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    arguments = parser.parse_args()
    configure_logging(load_config().log_format)
    container = build(load_config())
    tickers = arguments.tickers.split(",")
    try:
        arguments.ready.touch()
        wait_for_file(arguments.go, GO_TIMEOUT_SECONDS)
        if arguments.mode == "prices":
            result = write_prices(
                container.store, tickers, arguments.start, arguments.chunk
            )
        else:
            result = change_thresholds(
                container.store, tickers[0], arguments.changes, arguments.tick
            )
    finally:
        asyncio.run(container.close())
    arguments.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
