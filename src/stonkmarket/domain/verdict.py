"""From a dip and its scores to a decision: dip score, final score, alert.

Every rule reads only numbers a signal returns, so a client holding a signal
and the settings that produced it can repeat the decision.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import msgspec

from stonkmarket.domain.dips import DipClass, DipMeasurement
from stonkmarket.domain.scoring import Anchor, Factor, Score, weighted_score

# The parts of the dip score, each mapped from its poor to its excellent value.
DIP_SCORE_WEIGHTS = {
    "severity": 0.35,
    "rarity": 0.25,
    "size_vs_typical": 0.20,
    "persistence": 0.10,
    "market_context": 0.10,
}
# A stock-specific dip is what the finder looks for: a market-wide fall
# lifts every stock's dip at once and says little about this one.
MARKET_CONTEXT_VALUE = {
    DipClass.STOCK_SPECIFIC: 1.0,
    DipClass.MIXED: 0.6,
    DipClass.MARKET_DIP: 0.3,
}
MAX_SEVERITY = 0.50
RARITY_ANCHOR = Anchor(poor=50.0, excellent=100.0)
SIZE_VS_TYPICAL_ANCHOR = Anchor(poor=1.0, excellent=3.0)
PERSISTENCE_ANCHOR = Anchor(poor=1.0, excellent=10.0)
PERCENT = Anchor(poor=0.0, excellent=100.0)


class AlertLevel(enum.StrEnum):
    NONE = "NONE"
    GOOD = "GOOD"
    STRONG = "STRONG"


class AlertRules(msgspec.Struct, frozen=True, kw_only=True):
    """The settings the decision reads, with the ticker's own thresholds."""

    min_dip_abs: float
    min_persist_days: int
    dip_percentile_threshold: float
    dip_vs_typical_threshold: float
    quality_gate: float
    stability_gate: float
    alert_good: float
    alert_strong: float
    weight_dip: float
    weight_quality: float
    weight_stability: float
    missing_quality: str


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """The decision on one dip and every reason it did not alert."""

    meaningful: bool
    dip_score: float
    dip_factors: list[Factor]
    final_score: float | None
    should_alert: bool
    alert_level: AlertLevel
    blocked_by: list[str]


def is_meaningful(m: DipMeasurement, rules: AlertRules) -> bool:
    """Deep enough, long enough, and unusual for this stock."""
    if m.dip_stock < rules.min_dip_abs or m.persist_days < rules.min_persist_days:
        return False
    rare = m.dip_pctl is not None and m.dip_pctl >= 100 * rules.dip_percentile_threshold
    large = (
        m.dip_vs_typical is not None
        and m.dip_vs_typical >= rules.dip_vs_typical_threshold
    )
    return rare or large


def dip_score(m: DipMeasurement, rules: AlertRules) -> Score:
    """Score the dip 0-100: 0 below the threshold, else its weighted parts."""
    values = {
        "severity": m.dip_stock,
        "rarity": m.dip_pctl,
        "size_vs_typical": m.dip_vs_typical,
        "persistence": float(m.persist_days),
        "market_context": (
            None if m.dip_class is None else MARKET_CONTEXT_VALUE.get(m.dip_class)
        ),
    }
    if m.dip_stock < rules.min_dip_abs:
        values = dict.fromkeys(values, None)
    anchors = {
        "severity": Anchor(
            poor=rules.min_dip_abs,
            # A ticker's own threshold may reach MAX_SEVERITY or beyond.
            excellent=max(MAX_SEVERITY, rules.min_dip_abs + 0.10),
        ),
        "rarity": RARITY_ANCHOR,
        "size_vs_typical": SIZE_VS_TYPICAL_ANCHOR,
        "persistence": PERSISTENCE_ANCHOR,
        "market_context": Anchor(poor=0.0, excellent=1.0),
    }
    score = weighted_score(values, anchors, DIP_SCORE_WEIGHTS)
    if score.score is None:
        return msgspec.structs.replace(score, score=0.0)
    return score


def final_score(
    dip: float, quality: float | None, stability: float | None, rules: AlertRules
) -> float | None:
    """Weigh the three scores, renormalising over those that are not null."""
    values = {"dip": dip, "quality": quality, "stability": stability}
    weights = {
        "dip": rules.weight_dip,
        "quality": rules.weight_quality,
        "stability": rules.weight_stability,
    }
    return weighted_score(values, dict.fromkeys(values, PERCENT), weights).score


def decide(
    m: DipMeasurement,
    *,
    quality: float | None,
    stability: float | None,
    data_quality: Sequence[object],
    rules: AlertRules,
) -> Verdict:
    """Score the dip, weigh it with quality and stability, and decide the alert."""
    meaningful = is_meaningful(m, rules)
    dip = dip_score(m, rules)
    assert dip.score is not None
    final = final_score(dip.score, quality, stability, rules)
    blocked_by = _blocks(meaningful, final, quality, stability, data_quality, rules)
    should_alert = not blocked_by
    level = AlertLevel.NONE
    if should_alert and final is not None:
        strong = final >= rules.alert_strong
        level = AlertLevel.STRONG if strong else AlertLevel.GOOD
    return Verdict(
        meaningful=meaningful,
        dip_score=dip.score,
        dip_factors=dip.factors,
        final_score=final,
        should_alert=should_alert,
        alert_level=level,
        blocked_by=blocked_by,
    )


def _blocks(
    meaningful: bool,
    final: float | None,
    quality: float | None,
    stability: float | None,
    data_quality: Sequence[object],
    rules: AlertRules,
) -> list[str]:
    blocks = []
    if not meaningful:
        blocks.append("the dip is not meaningful")
    if final is None:
        blocks.append("no score has a weight above 0")
    elif final < rules.alert_good:
        blocks.append(f"final score below {rules.alert_good:g}")
    if quality is None:
        if rules.missing_quality == "block":
            blocks.append("fundamentals are missing")
    elif quality < rules.quality_gate:
        blocks.append(f"quality below {rules.quality_gate:g}")
    if stability is None:
        blocks.append("too little history to judge stability")
    elif stability < rules.stability_gate:
        blocks.append(f"stability below {rules.stability_gate:g}")
    if data_quality:
        blocks.append("the prices have data-quality flags")
    return blocks
