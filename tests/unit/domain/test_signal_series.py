from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.dips import (
    WINDOWS,
    DipClass,
    DipMeasurement,
    DipRules,
    PriceSeries,
    measure_dip,
)
from stonkmarket.domain.signal_series import (
    DIP_CLASS_CODES,
    NO_DIP_CLASS,
    measure_dip_series,
)
from stonkmarket.infrastructure.prices.sample import SamplePriceSource

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=150, deadline=None, database=None)

# From the 2003 starts a drawn series can reach February 29 of 2004, whose year
# of history starts after February 28 of 2003. The 1969 start crosses the epoch
# of datetime64, where date arithmetic in years is easy to get wrong.
STARTS = [
    np.datetime64("2003-01-10", "D"),
    np.datetime64("2003-02-20", "D"),
    np.datetime64("1969-10-01", "D"),
]

# A few fixed values make ties between dips common.
closes = st.one_of(
    st.sampled_from([10.0, 9.0, 8.0, 12.0]),
    st.floats(min_value=0.01, max_value=10_000.0, allow_nan=False),
)
daily_moves = st.sampled_from([0.97, 0.99, 1.0, 1.02])
windows = st.one_of(st.sampled_from(WINDOWS), st.integers(min_value=1, max_value=400))
rules = st.builds(
    DipRules,
    min_dip_abs=st.sampled_from([0.05, 0.1, 0.2, 0.5]),
    market_dip_threshold=st.sampled_from([0.0, 0.06, 0.2]),
    excess_dip_market=st.sampled_from([0.03, 0.1]),
    excess_dip_stock_specific=st.sampled_from([0.0, 0.04, 0.2]),
    # A year or two of history is shorter than most drawn series, and zero years
    # leaves only the bar itself.
    history_years=st.integers(min_value=0, max_value=2),
    min_history=st.integers(min_value=0, max_value=40),
)


@st.composite
def price_series(
    draw: st.DrawFn, min_size: int = 0, max_size: int = 200
) -> PriceSeries:
    """Draw a series with gaps of one to five calendar days between bars."""
    start = draw(st.sampled_from(STARTS))
    offset = draw(st.integers(min_value=0, max_value=60))
    gaps = draw(st.lists(st.integers(1, 5), min_size=min_size, max_size=max_size))
    if draw(st.booleans()):
        values = draw(st.lists(closes, min_size=len(gaps), max_size=len(gaps)))
    else:
        # A walk that drifts down makes dip episodes longer than the history.
        steps = st.lists(daily_moves, min_size=len(gaps), max_size=len(gaps))
        values = (100.0 * np.cumprod(draw(steps))).tolist()
    dates = start + offset + np.cumsum(gaps, dtype=np.int64).astype("timedelta64[D]")
    return PriceSeries(dates.astype("datetime64[D]"), np.array(values, dtype=float))


def assert_same_measurement(actual: DipMeasurement, expected: DipMeasurement) -> None:
    """Assert equal fields, floats to 1e-12 and a null float on both sides."""
    for field in DipMeasurement.__struct_fields__:
        got = getattr(actual, field)
        wanted = getattr(expected, field)
        if isinstance(wanted, float):
            assert got == pytest.approx(wanted, rel=0, abs=1e-12), field
        else:
            assert got == wanted, field


def assert_matches_measure_dip(
    stock: PriceSeries,
    window_days: int,
    benchmark: PriceSeries | None,
    dip_rules: DipRules,
    bars: list[int],
) -> None:
    series = measure_dip_series(
        stock, window_days, benchmark=benchmark, rules=dip_rules
    )

    assert len(series) == len(stock)
    for bar in bars:
        expected = measure_dip(
            stock,
            window_days,
            benchmark=benchmark,
            as_of=stock.dates[bar].item(),
            rules=dip_rules,
        )
        assert expected is not None
        assert_same_measurement(series.measurement_at(bar), expected)


@bounded
@given(
    stock=price_series(),
    benchmark=st.one_of(st.none(), price_series()),
    window_days=windows,
    dip_rules=rules,
)
def test_every_bar_equals_measure_dip(
    stock: PriceSeries,
    benchmark: PriceSeries | None,
    window_days: int,
    dip_rules: DipRules,
) -> None:
    assert_matches_measure_dip(
        stock, window_days, benchmark, dip_rules, list(range(len(stock)))
    )


def test_leap_days_match_measure_dip() -> None:
    days = np.arange(
        np.datetime64("2003-01-01"), np.datetime64("2005-06-30"), dtype="datetime64[D]"
    )
    waves = 100.0 + 30.0 * np.sin(np.arange(len(days)) / 17.0)
    stock = PriceSeries(days, waves)
    leap_day = int(np.flatnonzero(days == np.datetime64("2004-02-29"))[0])
    a_year_later = int(np.flatnonzero(days == np.datetime64("2005-02-28"))[0])

    assert_matches_measure_dip(
        stock,
        30,
        None,
        DipRules(history_years=1, min_history=1),
        [leap_day - 1, leap_day, leap_day + 1, a_year_later, a_year_later + 1],
    )


@pytest.mark.slow
@pytest.mark.parametrize("window_days", WINDOWS)
def test_sample_dates_match_measure_dip(window_days: int) -> None:
    source = SamplePriceSource()
    apple = source.fetch("AAPL")
    index = source.fetch("^GSPC")
    stock = PriceSeries.from_bars(apple.dates, apple.closes)
    benchmark = PriceSeries.from_bars(index.dates, index.closes)
    bars = np.random.default_rng(20240601).choice(len(stock), 50, replace=False)

    assert_matches_measure_dip(
        stock, window_days, benchmark, DipRules(), sorted(bars.tolist())
    )


def test_hand_computed_episode_and_rank() -> None:
    # Peaks stay 100, so the dips are 0, 0.05, 0, 0.1, 0.2 and 0.05.
    days = np.datetime64("2024-01-01") + np.arange(6).astype("timedelta64[D]")
    stock = PriceSeries(days, np.array([100.0, 95.0, 100.0, 90.0, 80.0, 95.0]))
    dip_rules = DipRules(min_dip_abs=0.1, min_history=1)

    series = measure_dip_series(stock, 30, rules=dip_rules)

    assert series.dip_stock.tolist() == [0.0, 0.05, 0.0, 0.1, 0.2, 0.05]
    assert series.persist_days.tolist() == [0, 0, 0, 1, 2, 0]
    # The episode of bars 3 and 4 is ranked against bars 0 to 2 only.
    assert series.history_count.tolist() == [0, 1, 2, 3, 3, 5]
    assert series.dip_pctl[4] == 100.0
    # Bar 5 (0.05) among 0, 0.05, 0, 0.1, 0.2: 2 below and 1 tie of 5.
    assert series.dip_pctl[5] == 50.0
    assert series.typical_dip[5] == pytest.approx(0.1)


def test_typical_dip_is_mean_of_two_middle_dips() -> None:
    # Dips 0.1, 0.2, 0.3, 0.4 of history before a last bar with no dip.
    days = np.datetime64("2024-01-01") + np.arange(9).astype("timedelta64[D]")
    prices = [100.0, 90.0, 100.0, 80.0, 100.0, 70.0, 100.0, 60.0, 100.0]
    stock = PriceSeries(days, np.array(prices))

    series = measure_dip_series(stock, 30, rules=DipRules(min_history=1))

    assert series.typical_dip[-1] == pytest.approx(0.25, abs=1e-12)
    assert series.dip_vs_typical[-1] == 0.0


def test_no_benchmark_leaves_market_fields_null() -> None:
    days = np.datetime64("2024-01-01") + np.arange(3).astype("timedelta64[D]")
    stock = PriceSeries(days, np.array([100.0, 80.0, 100.0]))

    series = measure_dip_series(stock, 30)

    assert np.isnan(series.dip_mkt).all()
    assert np.isnan(series.excess_dip).all()
    assert series.dip_class.tolist() == [0, NO_DIP_CLASS, 0]
    assert DIP_CLASS_CODES[0] is DipClass.NONE


def test_benchmark_dip_is_null_before_its_first_bar() -> None:
    days = np.datetime64("2024-01-01") + np.arange(4).astype("timedelta64[D]")
    stock = PriceSeries(days, np.array([100.0, 80.0, 80.0, 80.0]))
    benchmark = PriceSeries(days[2:], np.array([50.0, 40.0]))

    series = measure_dip_series(stock, 30, benchmark=benchmark)

    assert np.isnan(series.dip_mkt[:2]).all()
    assert series.dip_mkt[2:].tolist() == [0.0, 0.2]
    assert series.measurement_at(1).dip_class is None
    assert series.measurement_at(2).dip_class is DipClass.STOCK_SPECIFIC
    assert series.measurement_at(3).dip_class is DipClass.MARKET_DIP


def test_empty_series_gives_empty_arrays() -> None:
    empty = PriceSeries(
        np.empty(0, dtype="datetime64[D]"), np.empty(0, dtype=np.float64)
    )

    series = measure_dip_series(empty, 7, benchmark=empty)

    assert len(series) == 0
    assert series.dip_pctl.shape == (0,)
    assert series.dip_class.shape == (0,)


def test_window_below_one_day_is_rejected() -> None:
    days = np.array(["2024-01-01"], dtype="datetime64[D]")

    with pytest.raises(ValueError, match=r"^window_days must be at least 1, got 0$"):
        measure_dip_series(PriceSeries(days, np.array([1.0])), 0)


def test_measurement_at_returns_dates_as_dates() -> None:
    days = np.array(["2024-02-28", "2024-02-29"], dtype="datetime64[D]")
    stock = PriceSeries(days, np.array([100.0, 90.0]))

    measurement = measure_dip_series(stock, 7).measurement_at(1)

    assert measurement.as_of_date == dt.date(2024, 2, 29)
    assert measurement.peak_date == dt.date(2024, 2, 28)
    assert math.isclose(measurement.dip_stock, 0.1)
