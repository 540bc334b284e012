"""The quality score: how sound a company's fundamentals are, from 0 to 100."""

from __future__ import annotations

import math
from collections.abc import Mapping

import msgspec

from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.scoring import Anchor, Score, weighted_score

# Sizes spread over orders of magnitude, so these are mapped on log10 of the
# amount: a $20B company sits halfway between $2B and $200B.
LOG_SCALED_METRICS = frozenset({"market_cap", "average_dollar_volume"})

# Amounts below 1 (a day without trades) count as 1, which keeps log10 defined
# and scores 0 against any sensible poor anchor.
_LOG_FLOOR = 1.0

# Each anchor's `poor` value scores 0 and its `excellent` value scores 100.
# NOTE: the size anchors are USD; a listing quoted in another currency is
# compared as if its amounts were USD.
QUALITY_ANCHORS: dict[str, Anchor] = {
    # Profitability
    "profit_margin": Anchor(poor=0.0, excellent=0.20),
    "operating_margin": Anchor(poor=0.0, excellent=0.30),
    "return_on_equity": Anchor(poor=0.0, excellent=0.25),
    "return_on_assets": Anchor(poor=0.0, excellent=0.10),
    # Balance sheet: less debt is better.
    "debt_to_equity": Anchor(poor=3.0, excellent=0.0),
    "current_ratio": Anchor(poor=0.8, excellent=2.0),
    # Cash generation
    "free_cash_flow_yield": Anchor(poor=0.0, excellent=0.08),
    "operating_cash_flow_margin": Anchor(poor=0.0, excellent=0.25),
    # Growth
    "revenue_growth": Anchor(poor=-0.10, excellent=0.20),
    "earnings_growth": Anchor(poor=-0.20, excellent=0.25),
    # Size and liquidity, in USD (log10 scale)
    "market_cap": Anchor(poor=2e9, excellent=2e11),
    "average_dollar_volume": Anchor(poor=5e6, excellent=5e8),
}

# Groups weigh 0.30 profitability, 0.20 balance sheet, 0.20 cash generation,
# 0.15 growth and 0.15 size and liquidity, split evenly inside each group.
QUALITY_WEIGHTS: dict[str, float] = {
    "profit_margin": 0.075,
    "operating_margin": 0.075,
    "return_on_equity": 0.075,
    "return_on_assets": 0.075,
    "debt_to_equity": 0.10,
    "current_ratio": 0.10,
    "free_cash_flow_yield": 0.10,
    "operating_cash_flow_margin": 0.10,
    "revenue_growth": 0.075,
    "earnings_growth": 0.075,
    "market_cap": 0.075,
    "average_dollar_volume": 0.075,
}


def quality_score(
    metrics: FundamentalMetrics | None,
    anchors: Mapping[str, Anchor] = QUALITY_ANCHORS,
    weights: Mapping[str, float] = QUALITY_WEIGHTS,
) -> Score | None:
    """Score fundamentals from 0 to 100 over the metrics that have data.

    Returns None without a snapshot (an index or an ETF), and a Score whose
    `score` is None when no weighted metric has data. Factors follow the order
    of `weights` and carry each metric's raw value, even for log-scaled ones.
    Raises ValueError when a weight names no metric or lacks a usable anchor.
    """
    if metrics is None:
        return None
    check_quality_config(anchors, weights)
    raw = {name: getattr(metrics, name) for name in weights}
    scaled = {name: _scale(name, value) for name, value in raw.items()}
    scaled_anchors = {name: _scale_anchor(name, anchors[name]) for name in weights}

    score = weighted_score(scaled, scaled_anchors, weights)

    factors = [
        msgspec.structs.replace(factor, value=raw[factor.name])
        for factor in score.factors
    ]
    return msgspec.structs.replace(score, factors=factors)


def check_quality_config(
    anchors: Mapping[str, Anchor], weights: Mapping[str, float]
) -> None:
    """Raise ValueError unless each weighted metric exists and has an anchor."""
    for name in weights:
        if name not in FundamentalMetrics.__struct_fields__:
            raise ValueError(
                f"weight given for unknown metric {name!r}; "
                "use a field name of FundamentalMetrics"
            )
        if name not in anchors:
            raise ValueError(f"metric {name!r} has a weight but no anchor; add one")
        anchor = anchors[name]
        if name in LOG_SCALED_METRICS and min(anchor.poor, anchor.excellent) <= 0:
            raise ValueError(
                f"anchors of {name!r} must be above zero because it is scored "
                f"on log10, got poor={anchor.poor:g}, excellent={anchor.excellent:g}"
            )


def _scale(name: str, value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or name not in LOG_SCALED_METRICS:
        return value
    return math.log10(max(value, _LOG_FLOOR))


def _scale_anchor(name: str, anchor: Anchor) -> Anchor:
    if name not in LOG_SCALED_METRICS:
        return anchor
    return Anchor(poor=math.log10(anchor.poor), excellent=math.log10(anchor.excellent))
