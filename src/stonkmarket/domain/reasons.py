"""One plain sentence that says why a signal reads as it does."""

from __future__ import annotations

from collections.abc import Sequence

from stonkmarket.domain.adjustment import DataQualityFlag
from stonkmarket.domain.dips import DipClass, DipMeasurement
from stonkmarket.domain.scoring import Score
from stonkmarket.domain.verdict import Verdict

_CLASS_WORDS = {
    DipClass.MARKET_DIP: "the whole market fell too",
    DipClass.STOCK_SPECIFIC: "stock-specific",
    DipClass.MIXED: "partly the market",
}


def describe(
    ticker: str,
    measurement: DipMeasurement,
    benchmark: str,
    min_dip_abs: float,
    verdict: Verdict,
    quality: Score | None,
    flags: Sequence[DataQualityFlag] = (),
) -> str:
    """Say how far below its peak the ticker is, what kind of dip, and the alert."""
    m = measurement
    parts = [
        f"{ticker} is {m.dip_stock * 100:.1f} % below its {m.window}-day peak "
        f"of {m.peak_stock:.2f} ({m.peak_date.isoformat()})"
    ]
    if flags:
        first = flags[0]
        more = f" and {len(flags) - 1} more" if len(flags) > 1 else ""
        parts.append(
            f"price data flagged: {first.kind.replace('_', ' ')} on "
            f"{first.date.isoformat()}{more}"
        )
    if m.dip_class is DipClass.NONE:
        parts.append(f"not in a dip (threshold {min_dip_abs * 100:.1f} %)")
        return "; ".join(parts)
    if m.dip_class is None or m.excess_dip is None:
        parts.append(f"no {benchmark} prices to compare with")
    else:
        parts.append(_market_clause(m.dip_class, m.excess_dip, benchmark))
    if m.dip_pctl is not None:
        parts.append(f"deeper than {m.dip_pctl:.0f} % of its past dips")
    parts.append(_quality_clause(quality))
    parts.append(_alert_clause(verdict))
    return "; ".join(parts)


def _market_clause(dip_class: DipClass, excess: float, benchmark: str) -> str:
    points = abs(excess) * 100
    side = "worse" if excess >= 0 else "better"
    return f"{_CLASS_WORDS[dip_class]}, {points:.1f} points {side} than {benchmark}"


def _quality_clause(quality: Score | None) -> str:
    if quality is None or quality.score is None:
        return "fundamentals are missing"
    if quality.score >= 70:
        word = "strong"
    elif quality.score >= 40:
        word = "fair"
    else:
        word = "weak"
    return f"{word} fundamentals (quality {quality.score:.0f})"


def _alert_clause(verdict: Verdict) -> str:
    if verdict.should_alert:
        level = verdict.alert_level.value
        return f"{level} alert at final score {verdict.final_score:.0f}"
    return "no alert: " + ", ".join(verdict.blocked_by)
