"""Daily price series and the calendar windows over them.

A window of `w` days as of date `d` covers the bars dated in `(d - w days, d]`, so
the peak includes day `d`, and weekends, holidays and crypto's seven-day weeks need
no special case.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

DateArray = npt.NDArray[np.datetime64]
FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class PriceSeries(msgspec.Struct, frozen=True, eq=False):
    """Daily closes of one instrument, oldest first, one finite positive close a date.

    The arrays are shared with the caller, not copied, so treat them as read-only.
    Build a series from raw bars with `from_bars`.
    """

    dates: DateArray
    closes: FloatArray

    def __post_init__(self) -> None:
        _check_series(self.dates, self.closes)

    @classmethod
    def from_bars(
        cls,
        dates: Sequence[dt.date] | DateArray,
        closes: Sequence[float] | FloatArray,
    ) -> PriceSeries:
        """Build a series from raw bars, dropping missing closes and repeated dates.

        Zero, negative, NaN and infinite closes are missing values, so their bars
        are dropped before anything else, as are bars dated NaT. Bars are sorted by
        date, and of several bars on one date the last one given is kept.
        """
        raw_dates = _as_date_array(dates)
        raw_closes = np.asarray(closes, dtype=np.float64)
        _check_shapes(raw_dates, raw_closes)

        present = ~np.isnat(raw_dates) & np.isfinite(raw_closes) & (raw_closes > 0.0)
        raw_dates = raw_dates[present]
        raw_closes = raw_closes[present]

        # A stable sort keeps the bars of one date in input order, so the last bar
        # of each run of equal dates is the last one given.
        order = np.argsort(raw_dates, kind="stable")
        sorted_dates = raw_dates[order]
        last_of_date = np.ones(len(order), dtype=bool)
        last_of_date[:-1] = sorted_dates[1:] != sorted_dates[:-1]
        last_bars = order[last_of_date]

        series_dates = raw_dates[last_bars]
        series_closes = raw_closes[last_bars]
        series_dates.flags.writeable = False
        series_closes.flags.writeable = False
        return cls(series_dates, series_closes)

    def __len__(self) -> int:
        return len(self.dates)

    def up_to(self, as_of: dt.date) -> PriceSeries:
        """Return the bars dated on or before `as_of`."""
        end = count_through(self.dates, as_of)
        return PriceSeries(self.dates[:end], self.closes[:end])


def _as_date_array(dates: Sequence[dt.date] | DateArray) -> DateArray:
    if isinstance(dates, np.ndarray):
        return np.asarray(dates, dtype="datetime64[D]")
    # numpy 2.4 converts date objects about 25 times slower than this, which
    # would make building a series cost more than measuring all its dips.
    ordinals = np.fromiter((day.toordinal() for day in dates), np.int64, len(dates))
    return (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")


def check_window(window_days: int) -> None:
    """Raise ValueError unless the window is at least one day long."""
    if window_days < 1:
        raise ValueError(f"window_days must be at least 1, got {window_days}")


def count_through(dates: DateArray, day: dt.date | np.datetime64) -> int:
    """Return how many of the increasing `dates` are on or before `day`."""
    if isinstance(day, dt.date):
        day = np.datetime64(day, "D")
    return int(np.searchsorted(dates, day, side="right"))


def years_before(day: dt.date, years: int) -> dt.date:
    """Return the same calendar day `years` earlier; February 29 becomes February 28."""
    year = max(day.year - years, dt.MINYEAR)
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def rolling_peak(
    dates: DateArray, closes: FloatArray, window_days: int
) -> tuple[FloatArray, IndexArray]:
    """Return, for every bar, the max close over its window and that close's index.

    `dates` must be strictly increasing. When several bars share the max close, the
    most recent one is the peak.
    """
    check_window(window_days)
    if len(dates) == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.intp)

    earliest_excluded = dates - np.timedelta64(window_days, "D")
    starts = np.searchsorted(dates, earliest_excluded, side="right").astype(np.intp)
    ends = np.arange(len(dates), dtype=np.intp)
    peak_index = _latest_argmax(closes, starts, ends)
    return closes[peak_index], peak_index


def _latest_argmax(
    closes: FloatArray, starts: IndexArray, ends: IndexArray
) -> IndexArray:
    """Return the index of the latest max of `closes[start:end + 1]` for every range.

    A sparse table covers each range with two overlapping power-of-two blocks, so
    the cost is O(n log w) numpy work with no Python loop per bar.
    """
    lengths = ends - starts + 1
    table = _latest_argmax_table(closes, int(lengths.max()).bit_length())

    # frexp returns the binary exponent exactly, so no rounded logarithm can put a
    # length of 2**k - 1 on level k. The level is floor(log2(length)).
    levels = np.frexp(lengths)[1].astype(np.intp) - 1
    spans = np.left_shift(1, levels)
    first_block = table[levels, starts]
    last_block = table[levels, ends - spans + 1]
    # The last block ends where the range ends, so it wins ties and the peak is
    # the most recent bar at the max close.
    take_last = closes[last_block] >= closes[first_block]
    peak_index: IndexArray = np.where(take_last, last_block, first_block)
    return peak_index


def _latest_argmax_table(closes: FloatArray, level_count: int) -> IndexArray:
    """Return a table whose row k contains the latest argmax of `closes[j:j + 2**k]`.

    Entries whose block would run past the end of `closes` cover a shorter block;
    `_latest_argmax` never reads them.
    """
    size = len(closes)
    table = np.empty((level_count, size), dtype=np.intp)
    table[0] = np.arange(size)
    for level in range(1, level_count):
        half = 1 << (level - 1)
        previous = table[level - 1]
        left = previous[: size - half]
        right = previous[half:]
        take_right = closes[right] >= closes[left]
        table[level, : size - half] = np.where(take_right, right, left)
        table[level, size - half :] = previous[size - half :]
    return table


def _check_series(dates: DateArray, closes: FloatArray) -> None:
    """Raise unless the arrays form a valid series, as `from_bars` always builds."""
    if not isinstance(dates, np.ndarray) or dates.dtype != np.dtype("datetime64[D]"):
        raise TypeError(
            "dates must be a datetime64[D] array; use PriceSeries.from_bars"
        )
    if not isinstance(closes, np.ndarray) or closes.dtype != np.float64:
        raise TypeError("closes must be a float64 array; use PriceSeries.from_bars")
    _check_shapes(dates, closes)
    if np.any(dates[1:] <= dates[:-1]):
        raise ValueError(
            "dates must be strictly increasing; use PriceSeries.from_bars to sort "
            "them and drop repeated dates"
        )
    if not np.all(np.isfinite(closes) & (closes > 0.0)):
        raise ValueError(
            "closes must be finite and positive; use PriceSeries.from_bars to drop "
            "missing closes"
        )


def _check_shapes(dates: DateArray, closes: FloatArray) -> None:
    if dates.ndim != 1 or dates.shape != closes.shape:
        raise ValueError(
            "dates and closes must be 1-D arrays of equal length, got shapes "
            f"{dates.shape} and {closes.shape}"
        )
