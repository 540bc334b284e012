from __future__ import annotations

import datetime as dt
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.dips import (
    WINDOWS,
    DipRules,
    PriceSeries,
    dip_series,
    measure_dip,
    rolling_peak,
)
from stonkmarket.domain.series import years_before

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=60, deadline=None, database=None)

START = np.datetime64("2000-01-03", "D")

# Prices span six orders of magnitude, and a few fixed values make ties common.
closes = st.one_of(
    st.sampled_from([10.0, 20.0, 30.0]),
    st.floats(min_value=0.01, max_value=10_000.0, allow_nan=False),
)
windows = st.one_of(st.sampled_from(WINDOWS), st.integers(min_value=1, max_value=400))


@st.composite
def price_series(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 150
) -> PriceSeries:
    """Draw a series with gaps of one to five calendar days between bars."""
    gaps = draw(st.lists(st.integers(1, 5), min_size=min_size, max_size=max_size))
    values = draw(st.lists(closes, min_size=len(gaps), max_size=len(gaps)))
    dates = START + np.cumsum(gaps).astype("timedelta64[D]")
    return PriceSeries(dates, np.array(values))


def brute_force_peaks(series: PriceSeries, window_days: int) -> list[tuple[float, int]]:
    """Return each bar's max close and latest index of it, found bar by bar."""
    window = np.timedelta64(window_days, "D")
    peaks = []
    for today in range(len(series)):
        inside = [
            bar
            for bar in range(today + 1)
            if series.dates[bar] > series.dates[today] - window
        ]
        peak = max(float(series.closes[bar]) for bar in inside)
        latest = max(bar for bar in inside if series.closes[bar] == peak)
        peaks.append((peak, latest))
    return peaks


@bounded
@given(series=price_series(), window_days=windows)
def test_dip_is_at_least_zero_and_below_one(
    series: PriceSeries, window_days: int
) -> None:
    dips = dip_series(series, window_days)

    assert np.all(dips >= 0.0)
    assert np.all(dips < 1.0)


@bounded
@given(series=price_series(), window_days=windows)
def test_peak_is_at_least_close(series: PriceSeries, window_days: int) -> None:
    peaks, _ = rolling_peak(series.dates, series.closes, window_days)

    assert np.all(peaks >= series.closes)


@bounded
@given(series=price_series(), window_days=windows)
def test_peak_matches_brute_force_over_calendar_window(
    series: PriceSeries, window_days: int
) -> None:
    expected = brute_force_peaks(series, window_days)

    peaks, peak_index = rolling_peak(series.dates, series.closes, window_days)

    assert peaks.tolist() == [peak for peak, _ in expected]
    assert peak_index.tolist() == [index for _, index in expected]


@bounded
@given(
    series=price_series(min_size=100, max_size=300),
    window_days=windows,
    min_dip_abs=st.floats(min_value=0.01, max_value=0.5),
    as_of_offset=st.integers(min_value=0, max_value=1300),
)
def test_history_matches_bar_by_bar_reference(
    series: PriceSeries, window_days: int, min_dip_abs: float, as_of_offset: int
) -> None:
    # One year of history, so the drawn series often reaches past its start.
    rules = DipRules(min_dip_abs=min_dip_abs, history_years=1, min_history=1)
    as_of = (START + np.timedelta64(as_of_offset, "D")).item()
    truncated = series.up_to(as_of)
    if len(truncated) == 0:
        assert measure_dip(series, window_days, as_of=as_of, rules=rules) is None
        return
    dips = dip_series(truncated, window_days).tolist()
    history_start = years_before(truncated.dates[-1].item(), 1)
    history = [
        dip
        for dip, date in zip(dips, truncated.dates.tolist(), strict=True)
        if date > history_start
    ]
    persist_days = 0
    while persist_days < len(history) and history[-1 - persist_days] >= min_dip_abs:
        persist_days += 1
    earlier = history[: len(history) - max(persist_days, 1)]
    below = sum(1 for dip in earlier if dip < history[-1])
    equal = sum(1 for dip in earlier if dip == history[-1])
    typical = [dip for dip in earlier if dip >= 0.01]

    measurement = measure_dip(series, window_days, as_of=as_of, rules=rules)

    assert measurement is not None
    assert measurement.persist_days == persist_days
    assert measurement.history_count == len(earlier)
    if earlier:
        expected_pctl = 100.0 * (below + 0.5 * equal) / len(earlier)
        assert measurement.dip_pctl == pytest.approx(expected_pctl)
    if typical:
        assert measurement.typical_dip == pytest.approx(statistics.median(typical))
    else:
        assert measurement.typical_dip is None


def as_of_date(series: PriceSeries) -> dt.date:
    return dt.date.fromisoformat(str(series.dates[-1])) if len(series) else dt.date.min


@bounded
@given(
    series=price_series(),
    window_days=windows,
    min_dip_abs=st.floats(min_value=0.01, max_value=0.5),
    as_of_offset=st.integers(min_value=0, max_value=800),
)
def test_percentile_is_between_0_and_100(
    series: PriceSeries, window_days: int, min_dip_abs: float, as_of_offset: int
) -> None:
    rules = DipRules(min_dip_abs=min_dip_abs, min_history=1)
    as_of = (START + np.timedelta64(as_of_offset, "D")).item()

    measurement = measure_dip(series, window_days, as_of=as_of, rules=rules)

    if measurement is not None and measurement.dip_pctl is not None:
        assert 0.0 <= measurement.dip_pctl <= 100.0


@bounded
@given(series=price_series(), window_days=windows, as_of_offset=st.integers(0, 800))
def test_as_of_equals_measuring_truncated_series(
    series: PriceSeries, window_days: int, as_of_offset: int
) -> None:
    as_of = (START + np.timedelta64(as_of_offset, "D")).item()
    rules = DipRules(min_history=1)

    measured_as_of = measure_dip(series, window_days, as_of=as_of, rules=rules)

    assert measured_as_of == measure_dip(series.up_to(as_of), window_days, rules=rules)


@bounded
@given(
    series=price_series(max_size=250),
    benchmark=price_series(),
    older=st.lists(st.tuples(st.integers(1, 30), closes), min_size=1, max_size=40),
    window_days=st.sampled_from(WINDOWS),
)
def test_bars_older_than_history_and_window_change_nothing(
    series: PriceSeries,
    benchmark: PriceSeries,
    older: list[tuple[int, float]],
    window_days: int,
) -> None:
    # One year of history keeps the drawn series longer than its history range.
    rules = DipRules(history_years=1, min_history=1)
    today = series.dates[-1].item()
    unused_from = years_before(today, rules.history_years) - dt.timedelta(
        days=window_days
    )
    newest_older = min(unused_from, series.dates[0].item() - dt.timedelta(days=1))
    gaps = np.cumsum([gap for gap, _ in older]) - older[0][0]
    older_dates = np.datetime64(newest_older, "D") - gaps.astype("timedelta64[D]")
    extended = PriceSeries.from_bars(
        np.concatenate([older_dates, series.dates]),
        np.concatenate([[close for _, close in older], series.closes]),
    )

    measured = measure_dip(series, window_days, benchmark=benchmark, rules=rules)

    assert measured == measure_dip(
        extended, window_days, benchmark=benchmark, rules=rules
    )
