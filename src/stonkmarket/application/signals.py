"""Turning price series, fundamentals and settings into signals.

Projections and queries both build signals here, so a stored signal and one
computed for the same date and settings version are equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from stonkmarket.application.views import (
    SettingsView,
    Signal,
    SymbolView,
    Thresholds,
)
from stonkmarket.domain.adjustment import DataQualityFlag
from stonkmarket.domain.dips import DipMeasurement, DipRules, PriceSeries, measure_dip
from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.quality import QUALITY_WEIGHTS, quality_score
from stonkmarket.domain.reasons import describe
from stonkmarket.domain.settings import anchors_of
from stonkmarket.domain.stability import (
    STABILITY_WEIGHTS,
    stability_inputs,
    stability_score,
)
from stonkmarket.domain.verdict import AlertRules, decide


def thresholds_for(settings: SettingsView, symbol: SymbolView | None) -> Thresholds:
    """Return the ticker's own dip thresholds where set, else the settings'."""
    values = settings.values
    min_dip_abs = values["min_dip_abs"]
    min_persist_days = values["min_persist_days"]
    if symbol is not None and symbol.min_dip_pct is not None:
        min_dip_abs = symbol.min_dip_pct
    if symbol is not None and symbol.min_days is not None:
        min_persist_days = symbol.min_days
    return Thresholds(min_dip_abs=min_dip_abs, min_persist_days=min_persist_days)


def rules_for(settings: SettingsView, thresholds: Thresholds) -> DipRules:
    """Return the dip rules in force for a ticker."""
    values = settings.values
    return DipRules(
        min_dip_abs=thresholds.min_dip_abs,
        min_persist_days=thresholds.min_persist_days,
        market_dip_threshold=values["market_dip_threshold"],
        excess_dip_market=values["excess_dip_market"],
        excess_dip_stock_specific=values["excess_dip_stock_specific"],
        history_years=values["history_years"],
    )


def alert_rules_for(settings: SettingsView, thresholds: Thresholds) -> AlertRules:
    """Return the settings the alert decision reads, with the ticker's thresholds."""
    fields: dict[str, Any] = {
        name: settings.values[name]
        for name in AlertRules.__struct_fields__
        if name not in Thresholds.__struct_fields__
    }
    return AlertRules(
        min_dip_abs=thresholds.min_dip_abs,
        min_persist_days=thresholds.min_persist_days,
        **fields,
    )


def build_signal(
    ticker: str,
    window: int,
    stock: PriceSeries,
    *,
    benchmark: str,
    benchmark_series: PriceSeries | None,
    as_of: dt.date | None,
    settings: SettingsView,
    symbol: SymbolView | None = None,
    fundamentals: FundamentalMetrics | None = None,
    flags: Sequence[DataQualityFlag] = (),
) -> Signal | None:
    """Build the signal as of a date, or None when the ticker has no bar by then."""
    thresholds = thresholds_for(settings, symbol)
    m = measure_dip(
        stock,
        window,
        benchmark=benchmark_series,
        as_of=as_of,
        rules=rules_for(settings, thresholds),
    )
    if m is None:
        return None
    quality = quality_score(
        fundamentals, anchors_of(settings.values, "quality_anchors"), QUALITY_WEIGHTS
    )
    stability = stability_score(
        stability_inputs(
            stock,
            benchmark_series,
            as_of=m.as_of_date,
            history_years=settings.values["history_years"],
            typical_dip=m.typical_dip,
        ),
        anchors_of(settings.values, "stability_anchors"),
        STABILITY_WEIGHTS,
    )
    data_quality = flags_in_window(flags, m.as_of_date, window)
    quality_value = None if quality is None else quality.score
    verdict = decide(
        m,
        quality=quality_value,
        stability=stability.score,
        data_quality=data_quality,
        rules=alert_rules_for(settings, thresholds),
    )
    return Signal(
        **_measured_fields(m),
        ticker=ticker,
        benchmark=benchmark,
        meaningful=verdict.meaningful,
        dip_score=verdict.dip_score,
        quality_score=quality_value,
        stability_score=stability.score,
        final_score=verdict.final_score,
        alert_level=verdict.alert_level.value,
        should_alert=verdict.should_alert,
        reason=describe(
            ticker,
            m,
            benchmark,
            thresholds.min_dip_abs,
            verdict,
            quality,
            data_quality,
        ),
        thresholds=thresholds,
        dip_factors=verdict.dip_factors,
        quality_factors=None if quality is None else quality.factors,
        quality_coverage=None if quality is None else quality.coverage,
        stability_factors=stability.factors,
        stability_coverage=stability.coverage,
        data_quality=data_quality,
        settings_version=settings.version,
    )


def flags_in_window(
    flags: Sequence[DataQualityFlag], as_of: dt.date, window: int
) -> list[DataQualityFlag]:
    """Return the price flags dated inside the window the peak is taken over."""
    start = as_of - dt.timedelta(days=window)
    return [flag for flag in flags if start < flag.date <= as_of]


def _measured_fields(m: DipMeasurement) -> dict[str, Any]:
    return {
        "window": m.window,
        "as_of_date": m.as_of_date,
        "current_price": m.current_price,
        "peak_stock": m.peak_stock,
        "peak_date": m.peak_date,
        "dip_stock": m.dip_stock,
        "dip_pctl": m.dip_pctl,
        "typical_dip": m.typical_dip,
        "dip_vs_typical": m.dip_vs_typical,
        "persist_days": m.persist_days,
        "dip_mkt": m.dip_mkt,
        "excess_dip": m.excess_dip,
        "dip_class": None if m.dip_class is None else m.dip_class.value,
    }
