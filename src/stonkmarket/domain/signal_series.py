"""The dip measurement of every date of a series, in one pass.

`measure_dip_series(stock, w)` gives, for every bar `i`, the fields that
`measure_dip(stock, w, as_of=stock.dates[i])` returns, so history, percentiles
and "as of" cost the same as today. Peaks, dips, episode run lengths, history
ranges, the benchmark's dip and the classes are whole-array numpy work. The
percentile rank and the typical dip walk the dates once over a sorted window of
history dips whose two ends only move forward.
"""

from __future__ import annotations

import bisect
import datetime as dt

import msgspec
import numpy as np
import numpy.typing as npt

from stonkmarket.domain.dips import (
    DEFAULT_RULES,
    TYPICAL_DIP_FLOOR,
    DipClass,
    DipMeasurement,
    DipRules,
    dip_series,
)
from stonkmarket.domain.series import (
    DateArray,
    FloatArray,
    IndexArray,
    PriceSeries,
    check_window,
    rolling_peak,
)

__all__ = [
    "DIP_CLASS_CODES",
    "NO_DIP_CLASS",
    "DipMeasurementSeries",
    "measure_dip_series",
]

CodeArray = npt.NDArray[np.int8]

# A code in `DipMeasurementSeries.dip_class` is an index into this tuple, and
# NO_DIP_CLASS marks a null class.
DIP_CLASS_CODES: tuple[DipClass, ...] = (
    DipClass.NONE,
    DipClass.MARKET_DIP,
    DipClass.STOCK_SPECIFIC,
    DipClass.MIXED,
)
NO_DIP_CLASS = -1

_EPOCH = dt.date(1970, 1, 1)
# From a string, not an int: np.datetime64(1, "Y") is one year after 1970.
_FIRST_YEAR = np.datetime64(f"{dt.MINYEAR:04d}", "Y")


class DipMeasurementSeries(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    """One window's dip measurement as of every bar of a stock, one array a field.

    Entry `i` of each array is the field of `measure_dip` as of `dates[i]`.
    A null float is NaN. `dip_class` contains int8 codes into `DIP_CLASS_CODES`, and
    `NO_DIP_CLASS` (-1) where the class is null. `persist_days` and
    `history_count` count bars. `dates` and `current_price` are the stock's own
    arrays, not copies, so treat every array as read-only.
    """

    window: int
    dates: DateArray
    current_price: FloatArray
    peak_stock: FloatArray
    peak_date: DateArray
    dip_stock: FloatArray
    dip_pctl: FloatArray
    typical_dip: FloatArray
    dip_vs_typical: FloatArray
    persist_days: IndexArray
    dip_mkt: FloatArray
    excess_dip: FloatArray
    dip_class: CodeArray
    history_count: IndexArray

    def __len__(self) -> int:
        return len(self.dates)

    def measurement_at(self, index: int) -> DipMeasurement:
        """Return entry `index` as the `DipMeasurement` that `measure_dip` builds."""
        code = int(self.dip_class[index])
        return DipMeasurement(
            window=self.window,
            as_of_date=_to_date(self.dates[index]),
            current_price=float(self.current_price[index]),
            peak_stock=float(self.peak_stock[index]),
            peak_date=_to_date(self.peak_date[index]),
            dip_stock=float(self.dip_stock[index]),
            dip_pctl=_optional(self.dip_pctl[index]),
            typical_dip=_optional(self.typical_dip[index]),
            dip_vs_typical=_optional(self.dip_vs_typical[index]),
            persist_days=int(self.persist_days[index]),
            dip_mkt=_optional(self.dip_mkt[index]),
            excess_dip=_optional(self.excess_dip[index]),
            dip_class=None if code == NO_DIP_CLASS else DIP_CLASS_CODES[code],
            history_count=int(self.history_count[index]),
        )


def measure_dip_series(
    stock: PriceSeries,
    window_days: int,
    *,
    benchmark: PriceSeries | None = None,
    rules: DipRules = DEFAULT_RULES,
) -> DipMeasurementSeries:
    """Measure the stock's dip as of each of its bars, as `measure_dip` would.

    Raises ValueError when `window_days` is below 1.
    """
    check_window(window_days)
    peaks, peak_index = rolling_peak(stock.dates, stock.closes, window_days)
    # The same form as the dip engine's, so every dip is the same float.
    dips = (peaks - stock.closes) / peaks

    history_start = _history_starts(stock.dates, rules.history_years)
    persist_days = _persist_days(dips, history_start, rules.min_dip_abs)
    # History before the episode: today is left out even when it is no dip.
    earlier_end = np.arange(1, len(dips) + 1) - np.maximum(persist_days, 1)
    below, equal, typical_dip = _rank_in_history(dips, history_start, earlier_end)
    history_count = earlier_end - history_start

    dip_mkt = _benchmark_dips(stock.dates, benchmark, window_days)
    excess_dip = dips - dip_mkt
    return DipMeasurementSeries(
        window=window_days,
        dates=stock.dates,
        current_price=stock.closes,
        peak_stock=peaks,
        peak_date=stock.dates[peak_index],
        dip_stock=dips,
        dip_pctl=_percentile_ranks(below, equal, history_count, rules.min_history),
        typical_dip=typical_dip,
        dip_vs_typical=dips / typical_dip,
        persist_days=persist_days,
        dip_mkt=dip_mkt,
        excess_dip=excess_dip,
        dip_class=_classify(dips, dip_mkt, excess_dip, rules),
        history_count=history_count,
    )


def _history_starts(dates: DateArray, history_years: int) -> IndexArray:
    """Return, per bar, the first bar dated after the same day `history_years` ago.

    The start is never past the bar itself, as in `measure_dip`.
    """
    first_day_excluded = _years_before(dates, history_years)
    starts = np.searchsorted(dates, first_day_excluded, side="right")
    limited: IndexArray = np.minimum(starts, np.arange(len(dates))).astype(np.intp)
    return limited


def _years_before(dates: DateArray, years: int) -> DateArray:
    """Apply `series.years_before` to every date: February 29 becomes February 28."""
    year_starts = dates.astype("datetime64[Y]")
    month_starts = dates.astype("datetime64[M]")
    months_into_year = month_starts - year_starts.astype("datetime64[M]")
    days_into_month = dates - month_starts.astype("datetime64[D]")

    earlier_years = np.maximum(year_starts - np.timedelta64(years, "Y"), _FIRST_YEAR)
    earlier_months = earlier_years.astype("datetime64[M]") + months_into_year
    last_days = (earlier_months + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    shifted: DateArray = np.minimum(
        earlier_months.astype("datetime64[D]") + days_into_month, last_days
    )
    return shifted


def _persist_days(
    dips: FloatArray, history_start: IndexArray, min_dip_abs: float
) -> IndexArray:
    """Return the run of dips at or above `min_dip_abs` ending at each bar.

    The run is cut at the bar's history start, as `measure_dip` cuts it.
    """
    bars = np.arange(len(dips))
    last_outside = np.maximum.accumulate(np.where(dips < min_dip_abs, bars, -1))
    runs = bars - last_outside
    persist: IndexArray = np.minimum(runs, bars + 1 - history_start)
    return persist


def _rank_in_history(
    dips: FloatArray, starts: IndexArray, ends: IndexArray
) -> tuple[IndexArray, IndexArray, FloatArray]:
    """Rank each bar's dip among `dips[starts[i]:ends[i]]`, and take their median.

    Returns per bar the count of history dips below the bar's dip, the count
    equal to it, and the median of the history dips of at least 1 % (NaN when
    there are none). Both `starts` and `ends` never decrease: the history start
    follows the date, and the episode start only moves when an episode ends or
    the history start passes it. So each dip is inserted into and deleted from
    the sorted window once, and each bar then costs three binary searches.
    """
    values = dips.tolist()
    below = np.zeros(len(values), dtype=np.intp)
    equal = np.zeros(len(values), dtype=np.intp)
    typical = np.full(len(values), np.nan)
    window: list[float] = []
    first = last = 0
    for bar, (start, end) in enumerate(
        zip(starts.tolist(), ends.tolist(), strict=True)
    ):
        for value in values[last:end]:
            bisect.insort(window, value)
        for value in values[first:start]:
            del window[bisect.bisect_left(window, value)]
        first, last = start, end

        lower = bisect.bisect_left(window, values[bar])
        below[bar] = lower
        equal[bar] = bisect.bisect_right(window, values[bar], lo=lower) - lower
        real_dips = bisect.bisect_left(window, TYPICAL_DIP_FLOOR)
        count = len(window) - real_dips
        if count > 0:
            middle = real_dips + (count - 1) // 2
            # np.median averages the two middle values, and a + a is exact.
            typical[bar] = (window[middle] + window[real_dips + count // 2]) / 2
    return below, equal, typical


def _percentile_ranks(
    below: IndexArray, equal: IndexArray, counts: IndexArray, min_history: int
) -> FloatArray:
    """Return the ties-half percentile ranks, NaN below `min_history` dips."""
    enough = (counts > 0) & (counts >= min_history)
    safe_counts = np.where(enough, counts, 1)
    ranks: FloatArray = np.where(
        enough, 100.0 * (below + 0.5 * equal) / safe_counts, np.nan
    )
    return ranks


def _benchmark_dips(
    dates: DateArray, benchmark: PriceSeries | None, window_days: int
) -> FloatArray:
    """Return the benchmark's dip at its last bar on or before each date, else NaN."""
    if benchmark is None or len(benchmark) == 0:
        return np.full(len(dates), np.nan)

    benchmark_dips = dip_series(benchmark, window_days)
    bars_through = np.searchsorted(benchmark.dates, dates, side="right")
    known = bars_through > 0
    latest = np.where(known, bars_through - 1, 0)
    dip_mkt: FloatArray = np.where(known, benchmark_dips[latest], np.nan)
    return dip_mkt


def _classify(
    dips: FloatArray, dip_mkt: FloatArray, excess: FloatArray, rules: DipRules
) -> CodeArray:
    """Return the `DIP_CLASS_CODES` code of each bar's class, as `measure_dip` decides.

    The conditions are tried in order, so a bar gets the first that holds.
    """
    conditions = [
        dips < rules.min_dip_abs,
        np.isnan(dip_mkt),
        (dip_mkt >= rules.market_dip_threshold) & (excess < rules.excess_dip_market),
        excess >= rules.excess_dip_stock_specific,
    ]
    codes = [
        DIP_CLASS_CODES.index(DipClass.NONE),
        NO_DIP_CLASS,
        DIP_CLASS_CODES.index(DipClass.MARKET_DIP),
        DIP_CLASS_CODES.index(DipClass.STOCK_SPECIFIC),
    ]
    mixed = DIP_CLASS_CODES.index(DipClass.MIXED)
    classes: CodeArray = np.select(conditions, codes, default=mixed).astype(np.int8)
    return classes


def _optional(value: np.float64) -> float | None:
    return None if np.isnan(value) else float(value)


def _to_date(day: np.datetime64) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day.astype(np.int64)))
