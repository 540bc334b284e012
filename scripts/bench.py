"""Measure the demo import, the signal computation and the signal API on the sample.

Prints each figure beside a reference where one exists. The signal maths is set
beside a plain pandas computation of the same dips: a calendar-window rolling max
per ticker and window, and a loop for the 5-year percentile of every date. An API
request is set beside the in-process `build_signal` call that it wraps.

    make bench
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import platform
import statistics
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pandas as pd
from litestar.testing import TestClient

from stonkmarket.application.signals import build_signal, rules_for, thresholds_for
from stonkmarket.application.views import SettingsView
from stonkmarket.domain.dips import WINDOWS, PriceSeries, dip_series
from stonkmarket.domain.quality import QUALITY_WEIGHTS, quality_score
from stonkmarket.domain.settings import DEFAULTS, anchors_of
from stonkmarket.domain.signal_series import DipMeasurementSeries, measure_dip_series
from stonkmarket.domain.stability import (
    STABILITY_WEIGHTS,
    stability_inputs,
    stability_score,
)
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.cli.demo import load_sample
from stonkmarket.interfaces.http.app import create_app

SOURCE = SamplePriceSource()
TICKERS = [SOURCE.benchmark, *SOURCE.tickers()]
SETTINGS = SettingsView(values={**DEFAULTS, "benchmark": "^GSPC"}, version=0)
HISTORY_YEARS = int(SETTINGS.values["history_years"])

# The API request: a ticker, a window, and a past date so the signal is computed.
API_TICKER = "AAPL"
API_WINDOW = 365
API_AS_OF = dt.date(2020, 3, 23)
WARM_REQUESTS = 15

# Dips closer than this are ties up to rounding: `(peak - close) / peak` and
# `1 - close / peak` can split or join them, which moves a percentile rank.
NEAR_TIE = 1e-15

FloatArray = npt.NDArray[np.float64]
Measurements = dict[tuple[str, int], DipMeasurementSeries]
ReferenceDips = dict[tuple[str, int], tuple[FloatArray, FloatArray]]


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """Return the fastest of several runs, in seconds."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    """Run `work` once and return its result and the seconds it took."""
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def time_demo_import(data_dir: Path) -> float:
    """Import the sample into `data_dir` through the ordinary commands."""

    async def load() -> None:
        container = build(Config(data_dir=data_dir))
        await container.start()
        await load_sample(container, SOURCE)
        await container.close()

    started = time.perf_counter()
    asyncio.run(load())
    return time.perf_counter() - started


def all_series() -> dict[str, PriceSeries]:
    series = {}
    for ticker in TICKERS:
        batch = SOURCE.fetch(ticker)
        series[ticker] = PriceSeries.from_bars(batch.dates, batch.closes)
    return series


def latest_signals(series: dict[str, PriceSeries]) -> None:
    for ticker, stock in series.items():
        for window in WINDOWS:
            build_signal(
                ticker,
                window,
                stock,
                benchmark="^GSPC",
                benchmark_series=series["^GSPC"],
                as_of=None,
                settings=SETTINGS,
            )


def every_date_dips(series: dict[str, PriceSeries]) -> None:
    for stock in series.values():
        for window in WINDOWS:
            dip_series(stock, window)


def pandas_dips(frames: dict[str, pd.Series]) -> None:
    for closes in frames.values():
        for window in WINDOWS:
            peaks = closes.rolling(f"{window}D").max()
            _ = 1.0 - closes / peaks


def every_date_measurements(series: dict[str, PriceSeries]) -> Measurements:
    """Measure the dip of every date of every ticker and window, as signals do."""
    rules = rules_for(SETTINGS, thresholds_for(SETTINGS, None))
    return {
        (ticker, window): measure_dip_series(
            stock, window, benchmark=series["^GSPC"], rules=rules
        )
        for ticker, stock in series.items()
        for window in WINDOWS
    }


def score_stability(
    stock: PriceSeries,
    benchmark: PriceSeries,
    measurements: list[DipMeasurementSeries],
    bars: range,
) -> None:
    """Score stability as of each bar in `bars`, once per window's typical dip.

    Beta, volatility and drawdown do not depend on the window, so they are
    measured once per date and only the typical dip changes between windows.
    """
    anchors = anchors_of(SETTINGS.values, "stability_anchors")
    for bar in bars:
        inputs = stability_inputs(
            stock,
            benchmark,
            as_of=stock.dates[bar].item(),
            history_years=HISTORY_YEARS,
        )
        for measured in measurements:
            typical = float(measured.typical_dip[bar])
            with_typical = msgspec.structs.replace(
                inputs, typical_dip=None if np.isnan(typical) else typical
            )
            stability_score(with_typical, anchors, STABILITY_WEIGHTS)


def every_date_stability(
    series: dict[str, PriceSeries], measurements: Measurements
) -> None:
    for ticker, stock in series.items():
        windows = [measurements[ticker, window] for window in WINDOWS]
        score_stability(stock, series["^GSPC"], windows, range(len(stock)))


def quality_of_sample() -> None:
    # The sample has no fundamentals, so every quality score is null.
    anchors = anchors_of(SETTINGS.values, "quality_anchors")
    for _ in TICKERS:
        assert quality_score(None, anchors, QUALITY_WEIGHTS) is None


def pandas_reference(frames: dict[str, pd.Series]) -> ReferenceDips:
    """Compute every date's dip and its percentile among the prior 5 years of dips.

    The percentile counts ties half and ranks against every earlier dip in the
    range, without leaving out the current dip episode as the engine does.
    """
    results: ReferenceDips = {}
    for ticker, closes in frames.items():
        dates = pd.DatetimeIndex(closes.index)
        first_day_excluded = dates - pd.DateOffset(years=HISTORY_YEARS)
        starts = dates.searchsorted(first_day_excluded, side="right")
        for window in WINDOWS:
            peaks = closes.rolling(f"{window}D").max()
            dips = (1.0 - closes / peaks).to_numpy()
            results[ticker, window] = (dips, reference_percentiles(dips, starts))
    return results


def reference_percentiles(dips: FloatArray, starts: npt.NDArray[np.intp]) -> FloatArray:
    percentiles = np.full(len(dips), np.nan)
    for bar in range(len(dips)):
        prior = dips[starts[bar] : bar]
        if len(prior) == 0:
            continue
        below = np.count_nonzero(prior < dips[bar])
        equal = np.count_nonzero(prior == dips[bar])
        percentiles[bar] = 100.0 * (below + 0.5 * equal) / len(prior)
    return percentiles


class Agreement(msgspec.Struct, kw_only=True):
    """How far the engine's dips and percentiles are from the reference's."""

    max_dip_difference: float = 0.0
    max_percentile_difference: float = 0.0
    percentiles_compared: int = 0
    percentiles_different: int = 0
    percentiles_unexplained: int = 0


def compare(ours: Measurements, reference: ReferenceDips) -> Agreement:
    """Compare every dip, and the percentiles of bars outside a dip episode.

    Only outside an episode do both rank against the same earlier dips. There,
    a percentile that differs is explained when moving the dips within
    `NEAR_TIE` of the bar's dip between "below" and "equal" covers the gap.
    """
    agreement = Agreement()
    for key, measured in ours.items():
        dips, percentiles = reference[key]
        dip_difference = float(np.max(np.abs(measured.dip_stock - dips)))
        agreement.max_dip_difference = max(agreement.max_dip_difference, dip_difference)

        same_history = (measured.persist_days == 0) & ~np.isnan(measured.dip_pctl)
        differences = np.abs(measured.dip_pctl - percentiles)
        different = np.flatnonzero(same_history & (differences > 1e-9))
        agreement.percentiles_compared += int(np.count_nonzero(same_history))
        agreement.percentiles_different += len(different)
        agreement.percentiles_unexplained += sum(
            not near_tie_explains(measured, bar, percentiles[bar])
            for bar in different.tolist()
        )
        if len(different):
            agreement.max_percentile_difference = max(
                agreement.max_percentile_difference, float(differences[different].max())
            )
    return agreement


def near_tie_explains(
    measured: DipMeasurementSeries, bar: int, percentile: float
) -> bool:
    """Return whether `percentile` fits some tie-breaking of dips near the bar's."""
    start = bar - int(measured.history_count[bar])
    earlier = measured.dip_stock[start:bar]
    dip = measured.dip_stock[bar]
    near = np.abs(earlier - dip) <= NEAR_TIE
    surely_below = np.count_nonzero((earlier < dip) & ~near)
    lowest = 100.0 * surely_below / len(earlier)
    highest = 100.0 * (surely_below + np.count_nonzero(near)) / len(earlier)
    return bool(lowest - 1e-9 <= percentile <= highest + 1e-9)


def time_api(data_dir: Path) -> tuple[float, list[float], list[float]]:
    """Time the computed signal cold and warm and the stored signal, in seconds."""
    path = f"/api/dipfinder/signals/{API_TICKER}"
    computed = {"window": API_WINDOW, "as_of": API_AS_OF.isoformat()}
    stored = {"window": API_WINDOW}
    # Litestar 2.25's default logging config sets the root logger to INFO, so the
    # request lines of httpx and the migration lines of alembic would fill the
    # output.
    for name in ("httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    app = create_app(build(Config(data_dir=data_dir)))
    with TestClient(app=app) as client:
        cold = timed_request(client, path, computed)
        computed_again = [
            timed_request(client, path, computed) for _ in range(WARM_REQUESTS)
        ]
        stored_times = [
            timed_request(client, path, stored) for _ in range(WARM_REQUESTS)
        ]
    return cold, computed_again, stored_times


def timed_request(client: TestClient[Any], path: str, params: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(
            f"GET {path} {params} returned {response.status_code}: {response.text}"
        )
    return elapsed


def in_process_signal(series: dict[str, PriceSeries]) -> None:
    build_signal(
        API_TICKER,
        API_WINDOW,
        series[API_TICKER].up_to(API_AS_OF),
        benchmark="^GSPC",
        benchmark_series=series["^GSPC"].up_to(API_AS_OF),
        as_of=API_AS_OF,
        settings=SETTINGS,
    )


def print_row(label: str, ours: float, reference: float | None = None) -> None:
    """Print one measure: ours, the reference, and the reference's time over ours."""
    if reference is None:
        print(f"{label:<62}{ours:>12.1f}{'-':>12}{'-':>8}")
    else:
        ratio = f"{reference / ours:.2g}x"
        print(f"{label:<62}{ours:>12.1f}{reference:>12.1f}{ratio:>8}")


def print_note(text: str) -> None:
    print(textwrap.fill(text, width=94, initial_indent="  ", subsequent_indent="  "))


def print_header(series: dict[str, PriceSeries]) -> None:
    bars = sum(len(s) for s in series.values())
    print(
        f"machine: {len(os.sched_getaffinity(0))} CPUs (nproc), "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}"
    )
    print(f"bundled sample: {len(series)} tickers, {bars:,} bars")
    print(
        "times are the best of several runs unless marked 'one run'; "
        "ratio is the reference's time over stonkmarket's"
    )
    print(f"{'measure':<62}{'stonkmarket':>12}{'reference':>12}{'ratio':>8}")


def main() -> None:
    configure_logging(level=logging.WARNING)
    series = all_series()
    frames = {
        ticker: pd.Series(s.closes, index=pd.DatetimeIndex(s.dates))
        for ticker, s in series.items()
    }
    with tempfile.TemporaryDirectory() as folder:
        import_seconds = time_demo_import(Path(folder))
        print_header(series)
        print_row(
            "demo import (commands, events, projections; one run), s",
            import_seconds,
        )
        print_row(
            "latest signal, 21 tickers x 4 windows, ms",
            best_of(5, lambda: latest_signals(series)) * 1000,
        )
        print_row(
            "dip of every date, 21 tickers x 4 windows, ms",
            best_of(5, lambda: every_date_dips(series)) * 1000,
            best_of(5, lambda: pandas_dips(frames)) * 1000,
        )
        print_note("reference: pandas rolling('<w>D').max()")
        print_signal_set(series, frames)
        print_api(Path(folder), series)


def print_signal_set(
    series: dict[str, PriceSeries], frames: dict[str, pd.Series]
) -> None:
    measure_seconds = best_of(3, lambda: every_date_measurements(series))
    measurements = every_date_measurements(series)
    reference, reference_seconds = timed(lambda: pandas_reference(frames))
    _, stability_seconds = timed(lambda: every_date_stability(series, measurements))
    quality_seconds = best_of(3, quality_of_sample)
    total = measure_seconds + stability_seconds + quality_seconds

    print("signal set: 21 tickers x 4 windows x every date")
    print_row(
        "  dip measurements (measure_dip_series; reference one run), s",
        measure_seconds,
        reference_seconds,
    )
    print_row("  stability, every date x 4 windows (one run), s", stability_seconds)
    print_row("  dips + stability + quality, s", total)
    print_notes(compare(measurements, reference))


def print_notes(agreement: Agreement) -> None:
    print_note(
        "covers: every field of measure_dip (percentile and typical dip among the"
        " 5 years before the current dip episode, persist days, the ^GSPC dip,"
        " class), and stability_inputs + stability_score as of every date for each"
        " window's typical dip. Quality is null for every signal because the sample"
        " has no fundamentals. dip_score, final score, alert and reason are not"
        " computed."
    )
    print_note(
        "reference: pandas rolling('<w>D').max(), dip = 1 - close / peak, and a loop"
        " ranking each dip among all dips of the prior 5 years (ties half). It"
        " computes no typical dip, persist days, market dip, class or stability."
    )
    print_note(
        f"agreement: dips differ by at most {agreement.max_dip_difference:.1e}."
        f" Of {agreement.percentiles_compared:,} percentiles of dates outside a dip"
        f" episode, {agreement.percentiles_different:,} differ, by at most"
        f" {agreement.max_percentile_difference:.2f} points, and"
        f" {agreement.percentiles_unexplained} of those are not explained by dips"
        f" within {NEAR_TIE:g} of each other, which tie under one dip formula only."
        " Inside an episode the engine leaves the episode out of the ranking and the"
        " reference does not, so those dates are not compared."
    )


def print_api(data_dir: Path, series: dict[str, PriceSeries]) -> None:
    cold, computed, stored = time_api(data_dir)
    reference = best_of(5, lambda: in_process_signal(series))
    request = f"GET /api/dipfinder/signals/{API_TICKER}?window={API_WINDOW}"

    print(f"{request} through TestClient over the imported store")
    print_row(
        f"  as_of={API_AS_OF}, first request after start, ms",
        cold * 1000,
        reference * 1000,
    )
    print_row(
        f"  as_of={API_AS_OF}, median of {WARM_REQUESTS} more, ms",
        statistics.median(computed) * 1000,
        reference * 1000,
    )
    print_row(
        f"  latest (stored signal), median of {WARM_REQUESTS}, ms",
        statistics.median(stored) * 1000,
    )
    print_note(
        "reference: the same build_signal call in process, on series already in"
        " memory, so the gap is reading the read model and serving HTTP."
    )


if __name__ == "__main__":
    main()
