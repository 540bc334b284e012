"""Stability: how calmly a stock has traded over its recent history, scored 0-100.

Every measure uses the bars dated in `(end - history_years years, end]`, where
`end` is the stock's last bar on or before `as_of`, the same range the dip history
uses. Returns are daily simple returns between consecutive bars.

- `volatility`: sample standard deviation (ddof 1) of the stock's daily returns,
  annualised by the square root of 252 trading days.
- `beta` and `correlation`: from the dates on which both the stock and the
  benchmark have a bar. Returns run between consecutive common dates, so a holiday
  in one market never pairs returns of different days.
  `beta = cov(stock, benchmark) / var(benchmark)`, both with ddof 1.
- `max_drawdown`: the largest fall from the running max close to a later close,
  as a fraction of that max. The running max starts at the first bar of the range.
- `typical_dip`: the dip engine's median history dip, scored here as given.

A measure built from fewer than `min_returns` returns is None, not a guess from a
few days. All values are fractions: 0.25 is 25 %.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import msgspec
import numpy as np

from stonkmarket.domain.scoring import Anchor, Score, weighted_score
from stonkmarket.domain.series import (
    DateArray,
    FloatArray,
    PriceSeries,
    count_through,
    years_before,
)

TRADING_DAYS_PER_YEAR = 252

# Rounding leaves a standard deviation of about 1e-16 on returns that are equal on
# paper (a close growing by exactly 1 % a day), while stock indices typically move
# by about 1e-2 a day. Below this daily standard deviation a series counts as flat,
# so beta is never a ratio of two rounding errors.
_FLAT_DAILY_STD = 1e-12

STABILITY_ANCHORS: dict[str, Anchor] = {
    # Below 0.6 the beta sub-score stays at 100 rather than rising further. A beta
    # near 0 usually means the stock moves apart from the market (low correlation),
    # not that it moves little, so volatility, not beta, has to judge it.
    "beta": Anchor(poor=2.0, excellent=0.6),
    "volatility": Anchor(poor=0.60, excellent=0.15),
    "max_drawdown": Anchor(poor=0.60, excellent=0.15),
    "typical_dip": Anchor(poor=0.15, excellent=0.03),
}

# Volatility uses every return in the range, so it is the steadiest measure and
# weighs most. A max drawdown is one episode, and beta and the typical dip partly
# repeat what volatility already measures. Correlation is reported in the factors
# but not scored, because a high or low correlation is neither stable nor unstable.
STABILITY_WEIGHTS: dict[str, float] = {
    "beta": 0.20,
    "volatility": 0.35,
    "max_drawdown": 0.25,
    "typical_dip": 0.20,
    "correlation": 0.0,
}


class StabilityInputs(msgspec.Struct, frozen=True, kw_only=True):
    """The measures behind a stability score, each None when it has too little data.

    `returns_used` counts the date-aligned daily return pairs of the stock and the
    benchmark in the range (0 without a benchmark). Beta and correlation come from
    those pairs when there are at least `min_returns` of them.
    """

    beta: float | None
    correlation: float | None
    volatility: float | None
    max_drawdown: float | None
    typical_dip: float | None
    returns_used: int


def stability_inputs(
    stock: PriceSeries,
    benchmark: PriceSeries | None,
    *,
    as_of: dt.date | None = None,
    history_years: int = 5,
    typical_dip: float | None = None,
    min_returns: int = 60,
) -> StabilityInputs:
    """Measure the stock's stability over the `history_years` up to `as_of`.

    Without `as_of` the range ends at the stock's last bar. Raises ValueError when
    `history_years` is below 1 or `min_returns` below 2.
    """
    _check_arguments(history_years, min_returns)
    end = len(stock) if as_of is None else count_through(stock.dates, as_of)
    if end == 0:
        return StabilityInputs(
            beta=None,
            correlation=None,
            volatility=None,
            max_drawdown=None,
            typical_dip=typical_dip,
            returns_used=0,
        )

    last_day: dt.date = stock.dates[end - 1].item()
    first_day_excluded = years_before(last_day, history_years)
    dates, closes = _bars_in_range(stock, first_day_excluded, last_day)
    returns = _returns(closes)

    beta, correlation, pairs = _measure_against_benchmark(
        dates, closes, benchmark, first_day_excluded, last_day, min_returns
    )
    return StabilityInputs(
        beta=beta,
        correlation=correlation,
        volatility=_volatility(returns, min_returns),
        max_drawdown=_max_drawdown(closes, min_returns),
        typical_dip=typical_dip,
        returns_used=pairs,
    )


def stability_score(
    inputs: StabilityInputs,
    anchors: Mapping[str, Anchor] = STABILITY_ANCHORS,
    weights: Mapping[str, float] = STABILITY_WEIGHTS,
) -> Score:
    """Score the inputs 0-100, renormalising the weights over the ones with data.

    Every input appears in the factors, correlation with weight 0 by default.
    Raises ValueError when an input has a positive weight but no anchor.
    """
    values = {
        "beta": inputs.beta,
        "volatility": inputs.volatility,
        "max_drawdown": inputs.max_drawdown,
        "typical_dip": inputs.typical_dip,
        "correlation": inputs.correlation,
    }
    unanchored = [
        name for name in values if weights.get(name, 0) > 0 and name not in anchors
    ]
    if unanchored:
        raise ValueError(
            f"no anchor for weighted stability input(s) {', '.join(unanchored)}; "
            "add an anchor for each or set its weight to 0"
        )
    return weighted_score(values, anchors, weights)


def _check_arguments(history_years: int, min_returns: int) -> None:
    if history_years < 1:
        raise ValueError(f"history_years must be at least 1, got {history_years}")
    # A sample standard deviation needs two returns.
    if min_returns < 2:
        raise ValueError(f"min_returns must be at least 2, got {min_returns}")


def _bars_in_range(
    series: PriceSeries, first_day_excluded: dt.date, last_day: dt.date
) -> tuple[DateArray, FloatArray]:
    """Return the bars dated in `(first_day_excluded, last_day]`."""
    start = count_through(series.dates, first_day_excluded)
    stop = count_through(series.dates, last_day)
    return series.dates[start:stop], series.closes[start:stop]


def _returns(closes: FloatArray) -> FloatArray:
    returns: FloatArray = np.diff(closes) / closes[:-1]
    return returns


def _volatility(returns: FloatArray, min_returns: int) -> float | None:
    if len(returns) < min_returns:
        return None
    daily = float(np.std(returns, ddof=1))
    return daily * math.sqrt(TRADING_DAYS_PER_YEAR)


def _max_drawdown(closes: FloatArray, min_returns: int) -> float | None:
    if len(closes) - 1 < min_returns:
        return None
    running_max = np.maximum.accumulate(closes)
    # As in the dip engine, (max - close) / max is exact where 1 - close / max
    # would round a fall from 100 to 90 to 0.09999999999999998.
    return float(np.max((running_max - closes) / running_max))


def _measure_against_benchmark(
    dates: DateArray,
    closes: FloatArray,
    benchmark: PriceSeries | None,
    first_day_excluded: dt.date,
    last_day: dt.date,
    min_returns: int,
) -> tuple[float | None, float | None, int]:
    """Return beta, correlation and the count of date-aligned return pairs."""
    if benchmark is None:
        return None, None, 0

    benchmark_dates, benchmark_closes = _bars_in_range(
        benchmark, first_day_excluded, last_day
    )
    _, stock_rows, benchmark_rows = np.intersect1d(
        dates, benchmark_dates, assume_unique=True, return_indices=True
    )
    stock_returns = _returns(closes[stock_rows])
    benchmark_returns = _returns(benchmark_closes[benchmark_rows])
    pairs = len(stock_returns)
    if pairs < min_returns:
        return None, None, pairs

    return (*_beta_and_correlation(stock_returns, benchmark_returns), pairs)


def _beta_and_correlation(
    stock_returns: FloatArray, benchmark_returns: FloatArray
) -> tuple[float | None, float | None]:
    stock_deviations = stock_returns - stock_returns.mean()
    benchmark_deviations = benchmark_returns - benchmark_returns.mean()
    degrees_of_freedom = len(stock_returns) - 1
    covariance = float(stock_deviations @ benchmark_deviations) / degrees_of_freedom
    stock_variance = float(stock_deviations @ stock_deviations) / degrees_of_freedom
    benchmark_variance = (
        float(benchmark_deviations @ benchmark_deviations) / degrees_of_freedom
    )
    if math.sqrt(benchmark_variance) < _FLAT_DAILY_STD:
        return None, None

    beta = covariance / benchmark_variance
    if math.sqrt(stock_variance) < _FLAT_DAILY_STD:
        return beta, None
    # Rounding can carry the ratio slightly past 1 for perfectly linked returns.
    ratio = covariance / math.sqrt(stock_variance * benchmark_variance)
    correlation = min(1.0, max(-1.0, ratio))
    return beta, correlation
