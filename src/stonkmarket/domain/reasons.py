"""One plain sentence that says why a signal reads as it does."""

from __future__ import annotations

from stonkmarket.domain.dips import DipClass, DipMeasurement, DipRules

_CLASS_WORDS = {
    DipClass.MARKET_DIP: "the whole market fell too",
    DipClass.STOCK_SPECIFIC: "stock-specific",
    DipClass.MIXED: "partly the market",
}


def describe(
    ticker: str, measurement: DipMeasurement, benchmark: str, rules: DipRules
) -> str:
    """Say how far below its peak the ticker is, and what kind of dip it is."""
    m = measurement
    parts = [
        f"{ticker} is {m.dip_stock * 100:.1f} % below its {m.window}-day peak "
        f"of {m.peak_stock:.2f} ({m.peak_date.isoformat()})"
    ]
    if m.dip_class is DipClass.NONE:
        parts.append(f"not in a dip (threshold {rules.min_dip_abs * 100:.1f} %)")
    elif m.dip_class is None or m.excess_dip is None:
        parts.append(f"no {benchmark} prices to compare with")
    else:
        parts.append(_market_clause(m.dip_class, m.excess_dip, benchmark))
    if m.dip_class not in (None, DipClass.NONE) and m.dip_pctl is not None:
        parts.append(f"deeper than {m.dip_pctl:.0f} % of its past dips")
    return "; ".join(parts)


def _market_clause(dip_class: DipClass, excess: float, benchmark: str) -> str:
    points = abs(excess) * 100
    side = "worse" if excess >= 0 else "better"
    return f"{_CLASS_WORDS[dip_class]}, {points:.1f} points {side} than {benchmark}"
