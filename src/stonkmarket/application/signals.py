"""Turning price series and settings into signals, for projections and queries."""

from __future__ import annotations

import datetime as dt

from stonkmarket.application.views import SettingsView, Signal, SymbolView
from stonkmarket.domain.dips import DipRules, PriceSeries, measure_dip
from stonkmarket.domain.reasons import describe


def rules_for(settings: SettingsView, symbol: SymbolView | None = None) -> DipRules:
    """The dip rules in force for a ticker: its own thresholds over the settings."""
    values = settings.values
    min_dip_abs = values["min_dip_abs"]
    min_persist_days = values["min_persist_days"]
    if symbol is not None and symbol.min_dip_pct is not None:
        min_dip_abs = symbol.min_dip_pct
    if symbol is not None and symbol.min_days is not None:
        min_persist_days = symbol.min_days
    return DipRules(
        min_dip_abs=min_dip_abs,
        min_persist_days=min_persist_days,
        market_dip_threshold=values["market_dip_threshold"],
        excess_dip_market=values["excess_dip_market"],
        excess_dip_stock_specific=values["excess_dip_stock_specific"],
        history_years=values["history_years"],
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
) -> Signal | None:
    """The signal as of a date, or None when the ticker has no bar by then."""
    rules = rules_for(settings, symbol)
    measurement = measure_dip(
        stock, window, benchmark=benchmark_series, as_of=as_of, rules=rules
    )
    if measurement is None:
        return None
    m = measurement
    return Signal(
        ticker=ticker,
        window=window,
        benchmark=benchmark,
        as_of_date=m.as_of_date,
        current_price=m.current_price,
        peak_stock=m.peak_stock,
        peak_date=m.peak_date,
        dip_stock=m.dip_stock,
        dip_pctl=m.dip_pctl,
        typical_dip=m.typical_dip,
        dip_vs_typical=m.dip_vs_typical,
        persist_days=m.persist_days,
        dip_mkt=m.dip_mkt,
        excess_dip=m.excess_dip,
        dip_class=None if m.dip_class is None else m.dip_class.value,
        reason=describe(ticker, m, benchmark, rules),
        settings_version=settings.version,
    )
