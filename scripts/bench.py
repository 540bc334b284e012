"""Measure the demo import and the signal computation over the bundled sample.

Prints each figure beside a reference: the import beside the raw size of the
data it stores, the signal maths beside a plain pandas computation of the same
dips (a calendar-window rolling max per ticker and window).

    make bench
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from stonkmarket.application.signals import build_signal
from stonkmarket.application.views import SettingsView
from stonkmarket.domain.dips import WINDOWS, PriceSeries, dip_series
from stonkmarket.domain.settings import DEFAULTS
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.cli.demo import load_sample

SOURCE = SamplePriceSource()
TICKERS = [SOURCE.benchmark, *SOURCE.tickers()]


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The fastest of several runs, in seconds."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def time_demo_import() -> float:
    async def load(data_dir: Path) -> None:
        container = build(Config(data_dir=data_dir))
        await container.start()
        await load_sample(container, SOURCE)
        await container.close()

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        asyncio.run(load(Path(folder)))
        return time.perf_counter() - started


def all_series() -> dict[str, PriceSeries]:
    series = {}
    for ticker in TICKERS:
        batch = SOURCE.fetch(ticker)
        series[ticker] = PriceSeries.from_bars(batch.dates, batch.closes)
    return series


def latest_signals(series: dict[str, PriceSeries]) -> None:
    settings = SettingsView(values={**DEFAULTS, "benchmark": "^GSPC"}, version=0)
    for ticker, stock in series.items():
        for window in WINDOWS:
            build_signal(
                ticker,
                window,
                stock,
                benchmark="^GSPC",
                benchmark_series=series["^GSPC"],
                as_of=None,
                settings=settings,
            )


def every_date_dips(series: dict[str, PriceSeries]) -> None:
    for stock in series.values():
        for window in WINDOWS:
            dip_series(stock, window)


def pandas_reference(frames: dict[str, pd.Series]) -> None:
    for closes in frames.values():
        for window in WINDOWS:
            peaks = closes.rolling(f"{window}D").max()
            _ = 1.0 - closes / peaks


def main() -> None:
    configure_logging(level=logging.WARNING)
    series = all_series()
    frames = {
        ticker: pd.Series(s.closes, index=pd.DatetimeIndex(s.dates))
        for ticker, s in series.items()
    }
    bars = sum(len(s.closes) for s in series.values())

    import_seconds = time_demo_import()
    ours_latest = best_of(5, lambda: latest_signals(series))
    ours_all = best_of(5, lambda: every_date_dips(series))
    reference = best_of(5, lambda: pandas_reference(frames))

    print(f"bundled sample: {len(series)} tickers, {bars:,} bars")
    print(f"{'measure':<58}{'stonkmarket':>12}{'reference':>12}")
    print(
        f"{'demo import (commands, events, projections), s':<58}"
        f"{import_seconds:>12.2f}{'-':>12}"
    )
    print(
        f"{'latest signal, 21 tickers x 4 windows, ms':<58}"
        f"{ours_latest * 1000:>12.1f}{'-':>12}"
    )
    print(
        f"{'dip of every date, 21 tickers x 4 windows, ms':<58}"
        f"{ours_all * 1000:>12.1f}{reference * 1000:>12.1f}"
    )
    print(f"reference: pandas rolling('<w>D').max(); ratio {reference / ours_all:.2f}x")


if __name__ == "__main__":
    main()
