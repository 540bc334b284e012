"""A client holding a signal and the settings can recompute the alert decision.

`client_decision` is written from the documented rules alone, and it reads only
the signal's JSON fields and the settings values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.application.signals import build_signal
from stonkmarket.application.views import SettingsView, Signal, SymbolView
from stonkmarket.domain.dips import WINDOWS, PriceSeries
from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.series import DateArray
from stonkmarket.domain.settings import DEFAULTS

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=60, deadline=None, database=None)

FIRST_DAY = np.datetime64("2018-01-02", "D")
ADDED_AT = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

# Plausible ranges for each metric, covering each quality anchor's whole span.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "profit_margin": (-0.5, 0.5),
    "operating_margin": (-0.5, 0.6),
    "return_on_equity": (-1.0, 1.0),
    "return_on_assets": (-0.3, 0.3),
    "debt_to_equity": (0.0, 5.0),
    "current_ratio": (0.1, 4.0),
    "free_cash_flow_yield": (-0.2, 0.2),
    "operating_cash_flow_margin": (-0.5, 0.6),
    "revenue_growth": (-0.5, 1.0),
    "earnings_growth": (-1.0, 2.0),
    "market_cap": (1e6, 3e12),
    "average_dollar_volume": (1e3, 5e10),
    "dividend_yield": (0.0, 0.1),
}


def client_final_score(signal: dict[str, Any], values: dict[str, Any]) -> float | None:
    """Weigh the three scores, renormalising over the ones that are present."""
    parts = [
        (values["weight_dip"], signal["dip_score"]),
        (values["weight_quality"], signal["quality_score"]),
        (values["weight_stability"], signal["stability_score"]),
    ]
    present = [(w, score) for w, score in parts if score is not None and w > 0]
    total = sum(w for w, _ in present)
    if total == 0:
        return None
    # Each weight becomes a share before it meets a score, because a weight as
    # small as 5e-324 is a valid setting and a score multiplied by it keeps only
    # a few significant bits.
    final: float = sum(w / total * score for w, score in present)
    return final


def client_meaningful(signal: dict[str, Any], values: dict[str, Any]) -> bool:
    """Apply the meaningful-dip rule to the signal's fields and thresholds."""
    thresholds = signal["thresholds"]
    deep = signal["dip_stock"] >= thresholds["min_dip_abs"]
    long_enough = signal["persist_days"] >= thresholds["min_persist_days"]
    pctl = signal["dip_pctl"]
    rare = pctl is not None and pctl >= 100 * values["dip_percentile_threshold"]
    size = signal["dip_vs_typical"]
    large = size is not None and size >= values["dip_vs_typical_threshold"]
    return deep and long_enough and (rare or large)


def client_decision(signal: dict[str, Any], values: dict[str, Any]) -> tuple[bool, str]:
    """Decide (should_alert, alert_level) from a signal's JSON and the settings."""
    final = client_final_score(signal, values)
    quality = signal["quality_score"]
    if quality is None:
        quality_passes = values["missing_quality"] == "skip"
    else:
        quality_passes = quality >= values["quality_gate"]
    stability = signal["stability_score"]
    stability_passes = stability is not None and stability >= values["stability_gate"]

    should_alert = (
        client_meaningful(signal, values)
        and final is not None
        and final >= values["alert_good"]
        and quality_passes
        and stability_passes
        and not signal["data_quality"]
    )
    if not should_alert:
        return False, "NONE"
    assert final is not None
    return True, "STRONG" if final >= values["alert_strong"] else "GOOD"


def as_json(signal: Signal) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(signal))
    return decoded


def business_days(count: int) -> DateArray:
    return np.busday_offset(FIRST_DAY, np.arange(count), roll="forward")


@st.composite
def stock_and_benchmark(draw: st.DrawFn) -> tuple[PriceSeries, PriceSeries | None]:
    """Draw random-walk closes with occasional crashes, and a benchmark walk.

    The benchmark skips some of the stock's dates, as a foreign market's
    holidays would, and is sometimes missing.
    """
    count = draw(st.integers(min_value=300, max_value=600))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    volatility = draw(st.floats(min_value=0.002, max_value=0.03))
    crash_chance = draw(st.sampled_from([0.0, 0.005, 0.02]))
    # A drop within the last 15 bars puts many examples in a fresh dip.
    final_drop = draw(st.sampled_from([0.0, 0.12, 0.25, 0.4]))
    drop_days = draw(st.integers(min_value=1, max_value=15))

    returns = rng.normal(0.0004, volatility, count)
    crashes = rng.random(count) < crash_chance
    returns[crashes] += np.log(1 - rng.uniform(0.05, 0.4, crashes.sum()))
    returns[-drop_days] += np.log(1 - final_drop)
    dates = business_days(count)
    stock = PriceSeries(dates, 50.0 * np.exp(np.cumsum(returns)))

    has_benchmark = draw(st.sampled_from([True, True, True, False]))
    if not has_benchmark:
        return stock, None
    market_returns = rng.normal(0.0003, 0.01, count)
    market_returns[-drop_days] += np.log(1 - draw(st.sampled_from([0.0, 0.05, 0.2])))
    has_bar = rng.random(count) > 0.03
    market_closes = 4000.0 * np.exp(np.cumsum(market_returns))
    return stock, PriceSeries(dates[has_bar], market_closes[has_bar])


def score_weights() -> st.SearchStrategy[tuple[float, float, float]]:
    weight = st.just(0.0) | st.floats(min_value=0.01, max_value=1.0)
    return st.tuples(weight, weight, weight).filter(lambda w: sum(w) > 0)


def gates() -> st.SearchStrategy[float]:
    return st.just(0.0) | st.floats(min_value=0.0, max_value=100.0)


@st.composite
def settings_values(draw: st.DrawFn) -> dict[str, Any]:
    """Draw every decision knob within its allowed range.

    Open gates and the lowest alert_good are drawn often, because with
    uniform knobs almost no example alerts.
    """
    alert_good = draw(st.just(50.0) | st.floats(min_value=50.0, max_value=100.0))
    weight_dip, weight_quality, weight_stability = draw(score_weights())
    changes = {
        "min_dip_abs": draw(st.floats(min_value=0.01, max_value=0.50)),
        "min_persist_days": draw(st.integers(min_value=1, max_value=30)),
        "dip_percentile_threshold": draw(st.floats(min_value=0.50, max_value=0.99)),
        "dip_vs_typical_threshold": draw(st.floats(min_value=1.0, max_value=5.0)),
        "market_dip_threshold": draw(st.floats(min_value=0.01, max_value=0.20)),
        "excess_dip_market": draw(st.floats(min_value=0.01, max_value=0.10)),
        "excess_dip_stock_specific": draw(st.floats(min_value=0.01, max_value=0.20)),
        "history_years": draw(st.integers(min_value=1, max_value=10)),
        "quality_gate": draw(gates()),
        "stability_gate": draw(gates()),
        "alert_good": alert_good,
        "alert_strong": draw(
            st.floats(min_value=max(60.0, alert_good), max_value=100.0)
        ),
        "weight_dip": weight_dip,
        "weight_quality": weight_quality,
        "weight_stability": weight_stability,
        "missing_quality": draw(st.sampled_from(["block", "skip"])),
    }
    return {**DEFAULTS, **changes}


def symbols() -> st.SearchStrategy[SymbolView | None]:
    """Draw no symbol, or one with its own dip thresholds or the defaults."""
    # A symbol's own threshold may be any fraction between 0 and 1 exclusive.
    fraction = st.floats(
        min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True
    )
    symbol = st.builds(
        SymbolView,
        ticker=st.just("ACME"),
        min_dip_pct=st.none() | fraction,
        min_days=st.none() | st.integers(min_value=0, max_value=30),
        added_at=st.just(ADDED_AT),
        updated_at=st.just(ADDED_AT),
    )
    return st.none() | symbol


def fundamentals() -> st.SearchStrategy[FundamentalMetrics | None]:
    fields = {
        name: st.none() | st.floats(min_value=low, max_value=high)
        for name, (low, high) in METRIC_RANGES.items()
    }
    return st.none() | st.fixed_dictionaries(fields).map(
        lambda metrics: FundamentalMetrics(**metrics)
    )


@bounded
@given(
    series=stock_and_benchmark(),
    values=settings_values(),
    symbol=symbols(),
    metrics=fundamentals(),
    days_before_end=st.none() | st.integers(min_value=0, max_value=120),
)
def test_client_recomputes_decision(
    series: tuple[PriceSeries, PriceSeries | None],
    values: dict[str, Any],
    symbol: SymbolView | None,
    metrics: FundamentalMetrics | None,
    days_before_end: int | None,
) -> None:
    stock, benchmark = series
    as_of = None
    if days_before_end is not None:
        as_of = stock.dates[-1 - days_before_end].item()
    view = SettingsView(values=values, version=1)

    for window in WINDOWS:
        signal = build_signal(
            "ACME",
            window,
            stock,
            benchmark="SPY",
            benchmark_series=benchmark,
            as_of=as_of,
            settings=view,
            symbol=symbol,
            fundamentals=metrics,
        )

        assert signal is not None
        response = as_json(signal)
        assert client_decision(response, values) == (
            signal.should_alert,
            signal.alert_level,
        )
        assert client_meaningful(response, values) == signal.meaningful
        final = client_final_score(response, values)
        if signal.final_score is None:
            assert final is None
        else:
            assert final == pytest.approx(signal.final_score, rel=0, abs=1e-9)


def test_stock_specific_crash_alerts() -> None:
    # 400 bars of 0.1 % daily gains leave no earlier dip, so a 30 % drop is
    # deeper than every past dip. Held for 5 days, it lasts past the 2-day
    # minimum, and against a flat benchmark it is stock-specific. The final
    # score works out near 72 by hand, so alert_good drops from 70 to 50 to
    # leave a margin.
    rising = 100.0 * 1.001 ** np.arange(400)
    closes = np.concatenate([rising, np.full(5, rising[-1] * 0.70)])
    dates = business_days(len(closes))
    stock = PriceSeries(dates, closes)
    benchmark = PriceSeries(dates, np.full(len(closes), 4000.0))
    changes = {
        "missing_quality": "skip",
        "quality_gate": 0.0,
        "stability_gate": 0.0,
        "alert_good": 50.0,
    }
    view = SettingsView(values={**DEFAULTS, **changes}, version=1)

    signal = build_signal(
        "ACME",
        30,
        stock,
        benchmark="SPY",
        benchmark_series=benchmark,
        as_of=None,
        settings=view,
    )

    assert signal is not None
    assert signal.should_alert is True
