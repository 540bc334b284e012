"""Dips: how far a close sits below the peak of its calendar window, and how rare.

`dip = 1 - close / peak`, where the peak is the max close over the bars dated in
`(d - window days, d]`. A measurement ranks today's dip against the same window's
dips over the last `history_years` calendar years and compares it with the
benchmark's dip on the same date.
"""

from __future__ import annotations

import datetime as dt
import enum

import msgspec
import numpy as np

from stonkmarket.domain.series import (
    FloatArray,
    PriceSeries,
    check_window,
    count_through,
    rolling_peak,
    years_before,
)

__all__ = [
    "DEFAULT_RULES",
    "WINDOWS",
    "DipClass",
    "DipMeasurement",
    "DipRules",
    "PriceSeries",
    "dip_series",
    "measure_dip",
    "rolling_peak",
]

WINDOWS: tuple[int, ...] = (7, 30, 100, 365)

# A history dip under 1 % is ordinary noise, so it does not count towards the
# typical dip.
TYPICAL_DIP_FLOOR = 0.01

_EPOCH = dt.date(1970, 1, 1)


class DipClass(enum.StrEnum):
    """Whether a dip is the market's, the stock's own, or both."""

    NONE = "NONE"
    MARKET_DIP = "MARKET_DIP"
    STOCK_SPECIFIC = "STOCK_SPECIFIC"
    MIXED = "MIXED"


class DipRules(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds that decide when a drop is a dip and how it is classified."""

    min_dip_abs: float = 0.10
    min_persist_days: int = 2
    market_dip_threshold: float = 0.06
    excess_dip_market: float = 0.03
    excess_dip_stock_specific: float = 0.04
    history_years: int = 5
    min_history: int = 60


DEFAULT_RULES = DipRules()


class DipMeasurement(msgspec.Struct, frozen=True, kw_only=True):
    """One window's dip as of one date, with its rarity and the market's dip.

    Dips are fractions (0.15 is 15 % below the peak), `dip_pctl` is 0 to 100, and
    `persist_days` and `history_count` count bars, not calendar days.
    """

    window: int
    as_of_date: dt.date
    current_price: float
    peak_stock: float
    peak_date: dt.date
    dip_stock: float
    dip_pctl: float | None
    typical_dip: float | None
    dip_vs_typical: float | None
    persist_days: int
    dip_mkt: float | None
    excess_dip: float | None
    dip_class: DipClass | None
    history_count: int


def dip_series(series: PriceSeries, window_days: int) -> FloatArray:
    """Return every bar's dip, `1 - close / peak`, over a window of `window_days`."""
    peaks, _ = rolling_peak(series.dates, series.closes, window_days)
    return _dips(series.closes, peaks)


def measure_dip(
    stock: PriceSeries,
    window_days: int,
    *,
    benchmark: PriceSeries | None = None,
    as_of: dt.date | None = None,
    rules: DipRules = DEFAULT_RULES,
) -> DipMeasurement | None:
    """Measure the stock's dip as of its last bar on or before `as_of`.

    Returns None when the stock has no bar on or before `as_of`. Without `as_of`
    the measurement is as of the last bar.
    """
    check_window(window_days)
    end = len(stock) if as_of is None else count_through(stock.dates, as_of)
    if end == 0:
        return None

    today = _to_date(stock.dates[end - 1])
    history_start = count_through(stock.dates, years_before(today, rules.history_years))
    history_start = min(history_start, end - 1)
    # Only bars inside the first history bar's window feed a history peak, so the
    # older bars are cut off before any work is done on them.
    first_window_day = stock.dates[history_start] - np.timedelta64(window_days, "D")
    lead_in_start = count_through(stock.dates, first_window_day)
    dates = stock.dates[lead_in_start:end]
    closes = stock.closes[lead_in_start:end]

    peaks, peak_index = rolling_peak(dates, closes, window_days)
    history = _dips(closes, peaks)[-(end - history_start) :]
    return _measurement(
        window_days,
        today=today,
        current_price=float(closes[-1]),
        peak_stock=float(peaks[-1]),
        peak_date=_to_date(dates[peak_index[-1]]),
        history=history,
        dip_mkt=_benchmark_dip(benchmark, today, window_days),
        rules=rules,
    )


def _measurement(
    window_days: int,
    *,
    today: dt.date,
    current_price: float,
    peak_stock: float,
    peak_date: dt.date,
    history: FloatArray,
    dip_mkt: float | None,
    rules: DipRules,
) -> DipMeasurement:
    """Rank today's dip, the last of `history`, against the dips before its episode."""
    dip_stock = float(history[-1])
    episode_start = _episode_start(history, rules.min_dip_abs)
    # Without an episode today still has to be left out of its own ranking.
    earlier = history[: min(episode_start, len(history) - 1)]

    typical_dip = _typical_dip(earlier)
    return DipMeasurement(
        window=window_days,
        as_of_date=today,
        current_price=current_price,
        peak_stock=peak_stock,
        peak_date=peak_date,
        dip_stock=dip_stock,
        dip_pctl=_percentile_rank(dip_stock, earlier, rules.min_history),
        typical_dip=typical_dip,
        dip_vs_typical=None if typical_dip is None else dip_stock / typical_dip,
        persist_days=len(history) - episode_start,
        dip_mkt=dip_mkt,
        excess_dip=None if dip_mkt is None else dip_stock - dip_mkt,
        dip_class=_classify(dip_stock, dip_mkt, rules),
        history_count=len(earlier),
    )


def _dips(closes: FloatArray, peaks: FloatArray) -> FloatArray:
    # This equals 1 - close / peak, but peak - close is exact while the close is at
    # least half the peak (Sterbenz lemma), so 90 under a peak of 100 is a dip of
    # exactly 0.1. The plain form gives 0.09999999999999998 and misses 10 %.
    return (peaks - closes) / peaks


def _episode_start(history: FloatArray, min_dip_abs: float) -> int:
    """Return where the run of dips at or above `min_dip_abs` ending today starts.

    Returns `len(history)` when today is not in a dip. The run is cut at the start
    of `history`, so a dip older than the history range is not counted.
    """
    outside = np.flatnonzero(history < min_dip_abs)
    if outside.size == 0:
        return 0
    return int(outside[-1]) + 1


def _percentile_rank(dip: float, earlier: FloatArray, min_history: int) -> float | None:
    """Return the share of `earlier` below `dip`, ties counted half, in percent."""
    if len(earlier) == 0 or len(earlier) < min_history:
        return None
    below = int(np.count_nonzero(earlier < dip))
    equal = int(np.count_nonzero(earlier == dip))
    return 100.0 * (below + 0.5 * equal) / len(earlier)


def _typical_dip(earlier: FloatArray) -> float | None:
    """Return the median of the dips of at least 1 %, or None when there are none."""
    real_dips = earlier[earlier >= TYPICAL_DIP_FLOOR]
    if real_dips.size == 0:
        return None
    return float(np.median(real_dips))


def _benchmark_dip(
    benchmark: PriceSeries | None, today: dt.date, window_days: int
) -> float | None:
    """Return the benchmark's dip at its last bar on or before `today`, by date.

    NOTE: that bar may be of any age. A benchmark whose prices stopped weeks ago
    still gives a dip here, and nothing flags it as stale.
    """
    if benchmark is None:
        return None
    end = count_through(benchmark.dates, today)
    if end == 0:
        return None

    start = count_through(
        benchmark.dates, benchmark.dates[end - 1] - np.timedelta64(window_days, "D")
    )
    closes = benchmark.closes[start:end]
    return float(_dips(closes[-1:], closes.max(keepdims=True))[0])


def _classify(
    dip_stock: float, dip_mkt: float | None, rules: DipRules
) -> DipClass | None:
    if dip_stock < rules.min_dip_abs:
        return DipClass.NONE
    if dip_mkt is None:
        return None

    excess = dip_stock - dip_mkt
    if dip_mkt >= rules.market_dip_threshold and excess < rules.excess_dip_market:
        return DipClass.MARKET_DIP
    if excess >= rules.excess_dip_stock_specific:
        return DipClass.STOCK_SPECIFIC
    return DipClass.MIXED


def _to_date(day: np.datetime64) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day.astype(np.int64)))
