from __future__ import annotations

import datetime as dt
import itertools
import math

import msgspec
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.series import PriceSeries
from stonkmarket.domain.stability import (
    STABILITY_ANCHORS,
    STABILITY_WEIGHTS,
    StabilityInputs,
    stability_inputs,
    stability_score,
)
from stonkmarket.infrastructure.prices.sample import SamplePriceSource

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=60, deadline=None, database=None)

MONDAY = dt.date(2024, 1, 1)

# Returns with no pattern in sign or size, so a misaligned pairing of them has a
# slope well away from the aligned one.
UNEVEN_RETURNS = [0.02, -0.01, 0.03, -0.025, 0.01, -0.015, 0.005, 0.02, -0.03, 0.012]


def day(offset: int) -> dt.date:
    return MONDAY + dt.timedelta(days=offset)


def daily(closes: list[float], start: dt.date = MONDAY) -> PriceSeries:
    """Build a series with one bar every calendar day from `start`."""
    dates = [start + dt.timedelta(days=offset) for offset in range(len(closes))]
    return PriceSeries.from_bars(dates, closes)


def compound(returns: list[float], first: float = 100.0) -> list[float]:
    """Return the closes that start at `first` and move by `returns` bar by bar."""
    closes = [first]
    for daily_return in returns:
        closes.append(closes[-1] * (1.0 + daily_return))
    return closes


def inputs_with(**changes: float | None) -> StabilityInputs:
    baseline = StabilityInputs(
        beta=None,
        correlation=None,
        volatility=None,
        max_drawdown=None,
        typical_dip=None,
        returns_used=0,
    )
    return msgspec.structs.replace(baseline, **changes)


def test_volatility_of_alternating_returns() -> None:
    stock = daily([100.0, 110.0, 99.0, 108.9, 98.01])
    # Returns +10 %, -10 %, +10 %, -10 % have mean 0 and sample variance
    # 4 * 0.1**2 / 3, so the annual volatility is sqrt(0.04 / 3 * 252) = 0.2 * sqrt(84).
    expected = 0.2 * math.sqrt(84)

    inputs = stability_inputs(stock, None, min_returns=4)

    assert inputs.volatility == pytest.approx(expected, rel=1e-12)


def test_doubled_returns_give_beta_two() -> None:
    benchmark = daily(compound(UNEVEN_RETURNS))
    stock = daily(compound([2.0 * r for r in UNEVEN_RETURNS]))

    inputs = stability_inputs(stock, benchmark, min_returns=5)

    assert inputs.beta == pytest.approx(2.0, rel=1e-9)
    assert inputs.correlation == pytest.approx(1.0, rel=1e-9)
    assert inputs.returns_used == len(UNEVEN_RETURNS)


def test_independent_stock_has_zero_beta() -> None:
    # Two Walsh patterns: +-+- and ++--. Over every block of four days their
    # products sum to zero and each has mean zero, so the covariance is zero.
    benchmark_returns = [0.01, -0.01, 0.01, -0.01] * 16
    stock_returns = [0.02, 0.02, -0.02, -0.02] * 16
    benchmark = daily(compound(benchmark_returns))
    stock = daily(compound(stock_returns))

    inputs = stability_inputs(stock, benchmark)

    assert inputs.beta == pytest.approx(0.0, abs=1e-9)
    assert inputs.correlation == pytest.approx(0.0, abs=1e-9)
    assert inputs.returns_used == 64


@pytest.mark.parametrize(
    "missing_from", ["benchmark", "stock"], ids=["benchmark_holiday", "stock_holiday"]
)
def test_holiday_pairs_returns_by_date(missing_from: str) -> None:
    # Both series have the same close on every date they share, so date-aligned
    # returns are equal and beta is exactly 1. Day 4 is missing from one series.
    closes = compound(UNEVEN_RETURNS)
    full = daily(closes)
    holiday = 4
    open_days = [offset for offset in range(len(closes)) if offset != holiday]
    gapped = PriceSeries.from_bars(
        [day(i) for i in open_days], [closes[i] for i in open_days]
    )
    stock, benchmark = (full, gapped) if missing_from == "benchmark" else (gapped, full)
    # Pairing by row position shifts one series by a day after the holiday, which
    # gives a very different slope. This checks that the case can tell them apart.
    stock_by_row = np.diff(stock.closes) / stock.closes[:-1]
    benchmark_by_row = np.diff(benchmark.closes) / benchmark.closes[:-1]
    rows = min(len(stock_by_row), len(benchmark_by_row))
    by_row = np.polyfit(benchmark_by_row[:rows], stock_by_row[:rows], 1)[0]
    assert abs(by_row - 1.0) > 0.5

    inputs = stability_inputs(stock, benchmark, min_returns=5)

    assert inputs.beta == pytest.approx(1.0, rel=1e-12)
    assert inputs.correlation == pytest.approx(1.0, rel=1e-12)
    assert inputs.returns_used == len(closes) - 2


def test_max_drawdown_of_hand_made_series() -> None:
    stock = daily([100.0, 120.0, 90.0, 110.0, 60.0, 130.0])

    inputs = stability_inputs(stock, None, min_returns=5)

    # The worst fall is from the peak of 120 to 60, half the peak.
    assert inputs.max_drawdown == 0.5


def test_drawdown_peak_starts_inside_range() -> None:
    # The 200 close is two years old, outside a one-year range, so the running peak
    # starts at 100 and the worst fall is 100 to 80.
    old = PriceSeries.from_bars([dt.date(2022, 1, 3)], [200.0])
    recent = daily([100.0, 90.0, 80.0, 95.0])
    stock = PriceSeries.from_bars(
        np.concatenate([old.dates, recent.dates]),
        np.concatenate([old.closes, recent.closes]),
    )

    inputs = stability_inputs(stock, None, history_years=1, min_returns=3)

    assert inputs.max_drawdown == pytest.approx(0.2, rel=1e-12)


def test_short_history_gives_no_measures() -> None:
    closes = compound(UNEVEN_RETURNS)

    inputs = stability_inputs(daily(closes), daily(closes))

    assert inputs.beta is None
    assert inputs.correlation is None
    assert inputs.volatility is None
    assert inputs.max_drawdown is None
    assert inputs.returns_used == len(UNEVEN_RETURNS)


def test_no_benchmark_gives_no_beta() -> None:
    stock = daily(compound(UNEVEN_RETURNS))

    inputs = stability_inputs(stock, None, min_returns=5)

    assert inputs.beta is None
    assert inputs.correlation is None
    assert inputs.returns_used == 0
    assert inputs.volatility is not None


@pytest.mark.parametrize(
    "benchmark_returns",
    [[0.0] * 10, [0.01] * 10],
    ids=["constant_close", "steady_one_percent_growth"],
)
def test_flat_benchmark_gives_no_beta(benchmark_returns: list[float]) -> None:
    stock = daily(compound(UNEVEN_RETURNS))
    benchmark = daily(compound(benchmark_returns))

    inputs = stability_inputs(stock, benchmark, min_returns=5)

    assert inputs.beta is None
    assert inputs.correlation is None
    assert inputs.returns_used == 10


def test_flat_stock_has_zero_beta() -> None:
    stock = daily([50.0] * 11)
    benchmark = daily(compound(UNEVEN_RETURNS))

    inputs = stability_inputs(stock, benchmark, min_returns=5)

    assert inputs.beta == 0.0
    assert inputs.correlation is None
    assert inputs.volatility == 0.0


def test_as_of_ignores_later_bars() -> None:
    closes = compound(UNEVEN_RETURNS * 8)
    crash = [closes[-1] * 0.5, closes[-1] * 0.3, closes[-1] * 0.6]
    benchmark_closes = compound(list(reversed(UNEVEN_RETURNS)) * 8)
    benchmark_crash = [100.0, 20.0, 300.0]
    as_of = day(len(closes) - 1)

    extended = stability_inputs(
        daily(closes + crash),
        daily(benchmark_closes + benchmark_crash),
        as_of=as_of,
        typical_dip=0.05,
    )

    expected = stability_inputs(
        daily(closes), daily(benchmark_closes), typical_dip=0.05
    )
    assert extended == expected
    assert extended.beta is not None


def test_as_of_between_bars_uses_earlier_bar() -> None:
    # Bars every second day, so day 21 has no bar and day 20 is the last one.
    dates = [day(2 * offset) for offset in range(80)]
    stock = PriceSeries.from_bars(dates, compound(UNEVEN_RETURNS * 8)[:80])

    between = stability_inputs(stock, None, as_of=day(21), min_returns=5)

    assert between == stability_inputs(stock, None, as_of=day(20), min_returns=5)


def test_as_of_before_first_bar_gives_nothing() -> None:
    stock = daily(compound(UNEVEN_RETURNS))

    inputs = stability_inputs(
        stock, stock, as_of=day(-1), typical_dip=0.04, min_returns=5
    )

    assert inputs == inputs_with(typical_dip=0.04)


def test_bars_before_range_are_ignored() -> None:
    # A one-year range as of 2024-12-31 starts after 2023-12-31, so the wild 2023
    # bars of both series are outside it.
    recent_stock = daily(compound(UNEVEN_RETURNS * 40)[:366])
    recent_benchmark = daily(compound(list(reversed(UNEVEN_RETURNS)) * 40)[:366])
    assert recent_stock.dates[-1] == np.datetime64("2024-12-31")
    old_dates = [dt.date(2023, 6, 1) + dt.timedelta(days=i) for i in range(5)]
    old_closes = [500.0, 5.0, 900.0, 1.0, 700.0]

    with_old = stability_inputs(
        PriceSeries.from_bars(
            old_dates + recent_stock.dates.tolist(),
            old_closes + recent_stock.closes.tolist(),
        ),
        PriceSeries.from_bars(
            old_dates + recent_benchmark.dates.tolist(),
            list(reversed(old_closes)) + recent_benchmark.closes.tolist(),
        ),
        history_years=1,
    )

    assert with_old == stability_inputs(recent_stock, recent_benchmark, history_years=1)


def test_typical_dip_is_passed_through() -> None:
    stock = daily(compound(UNEVEN_RETURNS))

    inputs = stability_inputs(stock, None, typical_dip=0.07, min_returns=5)

    assert inputs.typical_dip == 0.07


def test_history_below_one_year_is_rejected() -> None:
    stock = daily(compound(UNEVEN_RETURNS))

    with pytest.raises(ValueError, match=r"^history_years must be at least 1, got 0$"):
        stability_inputs(stock, None, history_years=0)


def test_min_returns_below_two_is_rejected() -> None:
    stock = daily(compound(UNEVEN_RETURNS))

    with pytest.raises(ValueError, match=r"^min_returns must be at least 2, got 1$"):
        stability_inputs(stock, None, min_returns=1)


def test_default_anchors_and_weights() -> None:
    anchors = {
        name: (anchor.poor, anchor.excellent)
        for name, anchor in STABILITY_ANCHORS.items()
    }

    assert anchors == {
        "beta": (2.0, 0.6),
        "volatility": (0.60, 0.15),
        "max_drawdown": (0.60, 0.15),
        "typical_dip": (0.15, 0.03),
    }
    assert STABILITY_WEIGHTS == {
        "beta": 0.20,
        "volatility": 0.35,
        "max_drawdown": 0.25,
        "typical_dip": 0.20,
        "correlation": 0.0,
    }


def test_score_of_hand_picked_inputs() -> None:
    # Sub-scores: beta 0.6 is at its excellent anchor (100), volatility 0.6 at its
    # poor anchor (0), drawdown 0.375 and typical dip 0.09 halfway (50 each).
    # 0.20 * 100 + 0.35 * 0 + 0.25 * 50 + 0.20 * 50 = 42.5.
    inputs = inputs_with(beta=0.6, volatility=0.6, max_drawdown=0.375, typical_dip=0.09)

    score = stability_score(inputs)

    assert score.score == pytest.approx(42.5, rel=1e-12)
    assert score.coverage == pytest.approx(1.0, rel=1e-12)


def test_missing_inputs_renormalise_weights() -> None:
    # Only volatility (sub-score 100) and drawdown (sub-score 0) have data, so their
    # weights 0.35 and 0.25 become 0.35 / 0.6 and 0.25 / 0.6 of the score.
    inputs = inputs_with(volatility=0.15, max_drawdown=0.6)

    score = stability_score(inputs)

    assert score.score == pytest.approx(100.0 * 0.35 / 0.6, rel=1e-12)
    assert score.coverage == pytest.approx(0.6, rel=1e-12)
    weights = {factor.name: factor.weight for factor in score.factors}
    assert weights["volatility"] == pytest.approx(0.35 / 0.6, rel=1e-12)
    assert weights["beta"] == 0.0


def test_beta_below_anchor_scores_full() -> None:
    low_beta = stability_score(inputs_with(beta=0.05))

    assert low_beta.score == 100.0


def test_correlation_is_reported_unweighted() -> None:
    inputs = inputs_with(beta=1.0, correlation=0.8)

    score = stability_score(inputs)

    correlation = next(f for f in score.factors if f.name == "correlation")
    assert correlation.value == 0.8
    assert correlation.sub_score is None
    assert correlation.weight == 0.0
    assert score.coverage == pytest.approx(0.20, rel=1e-12)


def test_no_inputs_give_null_score() -> None:
    score = stability_score(inputs_with(correlation=0.5))

    assert score.score is None
    assert score.coverage == 0.0


def test_excellent_inputs_score_at_most_hundred() -> None:
    weights = {"beta": 0.35, "volatility": 0.1, "max_drawdown": 0.2}
    inputs = inputs_with(beta=0.5, volatility=0.1, max_drawdown=0.1)

    score = stability_score(inputs, weights=weights)

    assert score.score is not None
    assert score.score <= 100.0


def test_weight_without_anchor_is_rejected() -> None:
    weights = {**STABILITY_WEIGHTS, "correlation": 0.1}

    with pytest.raises(
        ValueError,
        match=r"^no anchor for weighted stability input\(s\) correlation; ",
    ):
        stability_score(inputs_with(correlation=0.5), weights=weights)


measures = st.one_of(
    st.none(), st.floats(min_value=-1.0, max_value=5.0, allow_nan=False)
)
stability_inputs_drawn = st.builds(
    StabilityInputs,
    beta=measures,
    correlation=st.one_of(st.none(), st.floats(min_value=-1.0, max_value=1.0)),
    volatility=measures,
    max_drawdown=measures,
    typical_dip=measures,
    returns_used=st.integers(min_value=0, max_value=2_000),
)
SCORED = ("beta", "volatility", "max_drawdown", "typical_dip")


@bounded
@given(inputs=stability_inputs_drawn)
def test_score_stays_within_zero_and_hundred(inputs: StabilityInputs) -> None:
    score = stability_score(inputs)

    if score.score is not None:
        assert 0.0 <= score.score <= 100.0


@bounded
@given(
    inputs=stability_inputs_drawn,
    name=st.sampled_from(SCORED),
    value=st.floats(min_value=-1.0, max_value=5.0),
    improvement=st.floats(min_value=0.0, max_value=3.0),
)
def test_more_stable_input_never_lowers_score(
    inputs: StabilityInputs, name: str, value: float, improvement: float
) -> None:
    before = msgspec.structs.replace(inputs, **{name: value})
    after = msgspec.structs.replace(inputs, **{name: value - improvement})

    score_before = stability_score(before).score
    score_after = stability_score(after).score

    assert score_before is not None
    assert score_after is not None
    assert score_after >= score_before


@st.composite
def overlapping_series(draw: st.DrawFn) -> tuple[PriceSeries, PriceSeries]:
    """Draw a stock and a benchmark on one calendar, each missing some of its days."""
    gaps = draw(st.lists(st.integers(1, 4), min_size=3, max_size=80))
    dates = np.datetime64("2020-01-01", "D") + np.cumsum(gaps).astype("timedelta64[D]")
    # Whole-dollar closes keep every nonzero return at 0.1 % or more, so no benchmark is
    # flat to within rounding, where beta would be a ratio of rounding errors.
    prices = st.integers(min_value=1, max_value=1_000).map(float)
    stock_closes = draw(st.lists(prices, min_size=len(gaps), max_size=len(gaps)))
    benchmark_closes = draw(st.lists(prices, min_size=len(gaps), max_size=len(gaps)))
    stock_has_bar = np.array(
        draw(st.lists(st.booleans(), min_size=len(gaps), max_size=len(gaps)))
    )
    benchmark_has_bar = np.array(
        draw(st.lists(st.booleans(), min_size=len(gaps), max_size=len(gaps)))
    )
    stock = PriceSeries(dates[stock_has_bar], np.array(stock_closes)[stock_has_bar])
    benchmark = PriceSeries(
        dates[benchmark_has_bar], np.array(benchmark_closes)[benchmark_has_bar]
    )
    return stock, benchmark


def aligned_returns(
    stock: PriceSeries, benchmark: PriceSeries
) -> tuple[list[float], list[float]]:
    """Return both series' returns between consecutive dates that both have a bar."""
    benchmark_by_date = dict(
        zip(benchmark.dates.tolist(), benchmark.closes.tolist(), strict=True)
    )
    pairs = [
        (close, benchmark_by_date[date])
        for date, close in zip(stock.dates.tolist(), stock.closes.tolist(), strict=True)
        if date in benchmark_by_date
    ]
    stock_returns = [b[0] / a[0] - 1.0 for a, b in itertools.pairwise(pairs)]
    benchmark_returns = [b[1] / a[1] - 1.0 for a, b in itertools.pairwise(pairs)]
    return stock_returns, benchmark_returns


@bounded
@given(series=overlapping_series())
def test_beta_is_least_squares_slope(series: tuple[PriceSeries, PriceSeries]) -> None:
    stock, benchmark = series
    stock_returns, benchmark_returns = aligned_returns(stock, benchmark)

    inputs = stability_inputs(stock, benchmark, history_years=100, min_returns=2)

    assert inputs.returns_used == len(stock_returns)
    if len(stock_returns) < 2 or np.std(benchmark_returns) < 1e-9:
        assert inputs.beta is None
        return
    slope = np.polyfit(benchmark_returns, stock_returns, 1)[0]
    assert inputs.beta == pytest.approx(slope, rel=1e-7, abs=1e-9)


@bounded
@given(series=overlapping_series())
def test_max_drawdown_is_worst_later_fall(
    series: tuple[PriceSeries, PriceSeries],
) -> None:
    stock, _ = series
    closes = stock.closes.tolist()
    falls = [
        (closes[peak] - closes[later]) / closes[peak]
        for peak in range(len(closes))
        for later in range(peak, len(closes))
    ]

    inputs = stability_inputs(stock, None, history_years=100, min_returns=2)

    if len(closes) < 3:
        assert inputs.max_drawdown is None
    else:
        assert inputs.max_drawdown == pytest.approx(max(falls), rel=1e-12)


@pytest.fixture(scope="module")
def sample_ko_and_sp500() -> tuple[PriceSeries, PriceSeries]:
    source = SamplePriceSource()
    ko = source.fetch("KO")
    sp500 = source.fetch("^GSPC")
    return (
        PriceSeries.from_bars(ko.dates, ko.closes),
        PriceSeries.from_bars(sp500.dates, sp500.closes),
    )


SAMPLE_AS_OF = dt.date(2022, 12, 28)


@pytest.mark.slow
def test_sample_ko_is_a_defensive_stock(
    sample_ko_and_sp500: tuple[PriceSeries, PriceSeries],
) -> None:
    ko, sp500 = sample_ko_and_sp500

    inputs = stability_inputs(ko, sp500, as_of=SAMPLE_AS_OF)

    # Consumer-staples stocks such as Coca-Cola typically move less than the market,
    # though the range includes the 2020 crash, which lifts KO's volatility.
    assert inputs.beta is not None
    assert 0.3 < inputs.beta < 1.0
    assert inputs.volatility is not None
    assert 0.1 < inputs.volatility < 0.35
    # KO is one of the 500 members of the index, so it moves with the index but
    # not in lockstep.
    assert inputs.correlation is not None
    assert 0.0 < inputs.correlation < 1.0
    # The range includes February to March 2020, when KO fell from about 60 to
    # about 37 dollars a share.
    assert inputs.max_drawdown is not None
    assert 0.3 < inputs.max_drawdown < 0.45


@pytest.mark.slow
def test_sample_ko_matches_pandas(
    sample_ko_and_sp500: tuple[PriceSeries, PriceSeries],
) -> None:
    ko, sp500 = sample_ko_and_sp500
    ko_closes = pd.Series(ko.closes, index=ko.dates)
    ko_in_range = ko_closes[
        (ko_closes.index > np.datetime64("2017-12-28"))
        & (ko_closes.index <= np.datetime64(SAMPLE_AS_OF))
    ]
    expected_volatility = ko_in_range.pct_change().dropna().std() * math.sqrt(252)
    frame = pd.DataFrame(
        {
            "ko": pd.Series(ko.closes, index=ko.dates),
            "sp500": pd.Series(sp500.closes, index=sp500.dates),
        }
    ).dropna()
    in_range = (frame.index > np.datetime64("2017-12-28")) & (
        frame.index <= np.datetime64(SAMPLE_AS_OF)
    )
    returns = frame[in_range].pct_change().dropna()
    expected_beta = returns["ko"].cov(returns["sp500"]) / returns["sp500"].var()

    inputs = stability_inputs(ko, sp500, as_of=SAMPLE_AS_OF)

    assert inputs.volatility == pytest.approx(expected_volatility, rel=1e-12)
    assert inputs.beta == pytest.approx(expected_beta, rel=1e-12)
    assert inputs.returns_used == len(returns)
