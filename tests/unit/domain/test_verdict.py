from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stonkmarket.domain.dips import DipClass, DipMeasurement
from stonkmarket.domain.verdict import (
    AlertLevel,
    AlertRules,
    decide,
    dip_score,
    final_score,
    is_meaningful,
)

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=200, deadline=None, database=None)

NOT_MEANINGFUL = "the dip is not meaningful"
FINAL_BELOW_GOOD = "final score below 70"
FUNDAMENTALS_MISSING = "fundamentals are missing"
QUALITY_BELOW_GATE = "quality below 60"
STABILITY_MISSING = "too little history to judge stability"
STABILITY_BELOW_GATE = "stability below 60"
DATA_QUALITY_FLAGGED = "the prices have data-quality flags"


def alert_rules(**changes: Any) -> AlertRules:
    """Return the default settings' alert rules with `changes` applied."""
    values: dict[str, Any] = {
        "min_dip_abs": 0.10,
        "min_persist_days": 2,
        "dip_percentile_threshold": 0.80,
        "dip_vs_typical_threshold": 1.5,
        "quality_gate": 60.0,
        "stability_gate": 60.0,
        "alert_good": 70.0,
        "alert_strong": 80.0,
        "weight_dip": 0.45,
        "weight_quality": 0.30,
        "weight_stability": 0.25,
        "missing_quality": "block",
    }
    return AlertRules(**{**values, **changes})


def measurement(**changes: Any) -> DipMeasurement:
    """Return a rare, large, stock-specific 30 % dip with `changes` applied.

    Its dip score is 67.5: severity (0.30 - 0.10) / (0.50 - 0.10) = 50, rarity
    (90 - 50) / 50 = 80, size (2.0 - 1) / 2 = 50, persistence 10 days = 100 and
    stock-specific = 100, so 0.35 x 50 + 0.25 x 80 + 0.20 x 50 + 0.10 x 100
    + 0.10 x 100 = 17.5 + 20 + 10 + 10 + 10.
    """
    values: dict[str, Any] = {
        "window": 30,
        "as_of_date": dt.date(2024, 3, 15),
        "current_price": 70.0,
        "peak_stock": 100.0,
        "peak_date": dt.date(2024, 3, 1),
        "dip_stock": 0.30,
        "dip_pctl": 90.0,
        "typical_dip": 0.15,
        "dip_vs_typical": 2.0,
        "persist_days": 10,
        "dip_mkt": 0.05,
        "excess_dip": 0.25,
        "dip_class": DipClass.STOCK_SPECIFIC,
        "history_count": 1000,
    }
    return DipMeasurement(**{**values, **changes})


def score_of(m: DipMeasurement, rules: AlertRules) -> float:
    score = dip_score(m, rules).score
    assert score is not None
    return score


# dip_score


@bounded
@given(
    min_dip_abs=st.floats(min_value=0.01, max_value=0.50),
    dip=st.floats(min_value=0.0, max_value=0.50),
    dip_pctl=st.none() | st.floats(min_value=0.0, max_value=100.0),
    dip_vs_typical=st.none() | st.floats(min_value=0.0, max_value=50.0),
    persist_days=st.integers(min_value=0, max_value=1000),
    dip_class=st.none() | st.sampled_from(DipClass),
)
def test_dip_score_zero_below_threshold(
    min_dip_abs: float,
    dip: float,
    dip_pctl: float | None,
    dip_vs_typical: float | None,
    persist_days: int,
    dip_class: DipClass | None,
) -> None:
    assume(dip < min_dip_abs)
    m = measurement(
        dip_stock=dip,
        dip_pctl=dip_pctl,
        dip_vs_typical=dip_vs_typical,
        persist_days=persist_days,
        dip_class=dip_class,
    )

    score = dip_score(m, alert_rules(min_dip_abs=min_dip_abs))

    assert score.score == 0.0


def test_dip_score_by_hand() -> None:
    # Each part maps linearly from its poor to its excellent anchor. Severity
    # 0.30 on 0.10 -> 0.50 is 50, rarity 90 on 50 -> 100 is 80, size 2.0 on
    # 1 -> 3 is 50, persistence 4 days on 1 -> 10 is 100 x 3 / 9, and a mixed
    # dip is 0.6 on 0 -> 1, so 60. Every part has data, so the weights stay
    # 0.35 / 0.25 / 0.20 / 0.10 / 0.10 and the score is
    # 17.5 + 20 + 10 + 10 / 3 + 6 = 56 + 5 / 6.
    m = measurement(persist_days=4, dip_class=DipClass.MIXED)

    score = score_of(m, alert_rules())

    assert score == pytest.approx(56 + 5 / 6)


def test_missing_percentile_renormalises_weights() -> None:
    # The same parts as the hand-worked score without rarity: weights 0.35,
    # 0.20, 0.10 and 0.10 sum to 0.75, so the score is
    # (17.5 + 10 + 10 / 3 + 6) / 0.75 = (221 / 6) / (3 / 4) = 442 / 9.
    m = measurement(dip_pctl=None, persist_days=4, dip_class=DipClass.MIXED)

    score = dip_score(m, alert_rules())

    assert score.score == pytest.approx(442 / 9)
    weights = {factor.name: factor.weight for factor in score.factors}
    assert weights["rarity"] == 0.0
    assert weights["severity"] == pytest.approx(0.35 / 0.75)


def test_dip_score_at_largest_threshold() -> None:
    # 0.50 is the top of the min_dip_abs setting's range, and a symbol's own
    # min_dip_pct may be 0.50 too. A 60 % dip is past the 50 % that scores full
    # severity, so the score is 35 + 20 + 10 + 10 + 10 = 85.
    m = measurement(dip_stock=0.60)

    score = dip_score(m, alert_rules(min_dip_abs=0.50))

    severity = next(f for f in score.factors if f.name == "severity")
    assert severity.sub_score == 100.0
    assert score.score == pytest.approx(85.0)


@bounded
@given(
    min_dip_abs=st.floats(min_value=0.01, max_value=0.99),
    dips=st.lists(st.floats(min_value=0.0, max_value=0.99), min_size=2, max_size=2).map(
        sorted
    ),
    dip_pctl=st.none() | st.floats(min_value=0.0, max_value=100.0),
    typical_dip=st.none() | st.floats(min_value=0.01, max_value=0.50),
    persist_days=st.integers(min_value=0, max_value=1000),
    dip_class=st.none() | st.sampled_from(DipClass),
)
def test_dip_score_bounded_and_monotonic(
    min_dip_abs: float,
    dips: list[float],
    dip_pctl: float | None,
    typical_dip: float | None,
    persist_days: int,
    dip_class: DipClass | None,
) -> None:
    # The typical dip stays put, so a deeper dip is also larger against it.
    shallow, deep = (
        measurement(
            dip_stock=dip,
            dip_pctl=dip_pctl,
            typical_dip=typical_dip,
            dip_vs_typical=None if typical_dip is None else dip / typical_dip,
            persist_days=persist_days,
            dip_class=dip_class,
        )
        for dip in dips
    )
    rules = alert_rules(min_dip_abs=min_dip_abs)

    shallow_score = score_of(shallow, rules)
    deep_score = score_of(deep, rules)

    assert 0.0 <= shallow_score <= 100.0
    assert 0.0 <= deep_score <= 100.0
    assert shallow_score <= deep_score


# final_score


def test_final_score_skips_missing_quality() -> None:
    # Quality has no score, so dip and stability share the weight:
    # (0.45 x 80 + 0.25 x 60) / (0.45 + 0.25) = (36 + 15) / 0.70.
    rules = alert_rules()

    final = final_score(80.0, None, 60.0, rules)

    assert final == pytest.approx(51 / 0.70)


def test_final_score_all_weights_present() -> None:
    # 0.45 x 80 + 0.30 x 50 + 0.25 x 60 = 36 + 15 + 15.
    rules = alert_rules()

    final = final_score(80.0, 50.0, 60.0, rules)

    assert final == pytest.approx(66.0)


def test_final_score_none_without_weighted_score() -> None:
    rules = alert_rules(weight_dip=0.0)

    final = final_score(80.0, None, None, rules)

    assert final is None


# is_meaningful


def test_shallow_dip_is_not_meaningful() -> None:
    m = measurement(dip_stock=0.09, dip_pctl=99.0, dip_vs_typical=4.0)

    meaningful = is_meaningful(m, alert_rules())

    assert meaningful is False


def test_short_dip_is_not_meaningful() -> None:
    m = measurement(persist_days=1, dip_pctl=99.0, dip_vs_typical=4.0)

    meaningful = is_meaningful(m, alert_rules())

    assert meaningful is False


def test_ordinary_dip_is_not_meaningful() -> None:
    # Deep and long enough, but neither rare (79 < 80) nor large (1.4 < 1.5).
    m = measurement(dip_pctl=79.0, dip_vs_typical=1.4)

    meaningful = is_meaningful(m, alert_rules())

    assert meaningful is False


def test_rare_dip_is_meaningful() -> None:
    m = measurement(dip_pctl=80.0, dip_vs_typical=None)

    meaningful = is_meaningful(m, alert_rules())

    assert meaningful is True


def test_large_dip_is_meaningful() -> None:
    m = measurement(dip_pctl=None, dip_vs_typical=1.5)

    meaningful = is_meaningful(m, alert_rules())

    assert meaningful is True


def test_dip_at_both_thresholds_is_meaningful() -> None:
    m = measurement(dip_stock=0.10, persist_days=2)

    meaningful = is_meaningful(m, alert_rules())

    assert meaningful is True


# decide: with the base measurement's dip score of 67.5 and all three scores
# present, the final score is 0.45 x 67.5 + 0.30 x quality + 0.25 x stability,
# which is 30.375 + 0.30 x quality + 0.25 x stability.


def test_decide_good_between_thresholds() -> None:
    # 30.375 + 0.30 x 90 + 0.25 x 80 = 30.375 + 27 + 20 = 77.375.
    m = measurement()

    verdict = decide(
        m, quality=90.0, stability=80.0, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(77.375)
    assert verdict.should_alert is True
    assert verdict.alert_level is AlertLevel.GOOD
    assert verdict.blocked_by == []


def test_decide_strong_above_alert_strong() -> None:
    # 30.375 + 0.30 x 100 + 0.25 x 100 = 85.375.
    m = measurement()

    verdict = decide(
        m, quality=100.0, stability=100.0, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(85.375)
    assert verdict.should_alert is True
    assert verdict.alert_level is AlertLevel.STRONG


def test_decide_none_when_blocked() -> None:
    m = measurement()

    verdict = decide(
        m,
        quality=100.0,
        stability=100.0,
        data_quality=["gap"],
        rules=alert_rules(),
    )

    assert verdict.should_alert is False
    assert verdict.alert_level is AlertLevel.NONE


def test_decide_blocks_dip_not_meaningful() -> None:
    # Rarity 70 scores 40 and size 1.2 scores 10, so the dip score is
    # 17.5 + 10 + 2 + 10 + 10 = 49.5 and the final 22.275 + 30 + 25 = 77.275.
    m = measurement(dip_pctl=70.0, dip_vs_typical=1.2)

    verdict = decide(
        m, quality=100.0, stability=100.0, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(77.275)
    assert verdict.blocked_by == [NOT_MEANINGFUL]


def test_decide_blocks_final_below_good() -> None:
    # 30.375 + 18 + 15 = 63.375. Both scores sit exactly at their gates.
    m = measurement()

    verdict = decide(
        m, quality=60.0, stability=60.0, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(63.375)
    assert verdict.blocked_by == [FINAL_BELOW_GOOD]


def test_decide_blocks_missing_final() -> None:
    # Only dip has data, and its weight is 0, so there is no final score.
    m = measurement()

    verdict = decide(
        m,
        quality=None,
        stability=None,
        data_quality=[],
        rules=alert_rules(weight_dip=0.0, missing_quality="skip"),
    )

    assert verdict.final_score is None
    assert verdict.blocked_by == ["no score has a weight above 0", STABILITY_MISSING]


def test_decide_blocks_missing_fundamentals() -> None:
    # (30.375 + 0.25 x 90) / 0.70 = 52.875 / 0.70 = 75.54.
    m = measurement()

    verdict = decide(
        m,
        quality=None,
        stability=90.0,
        data_quality=[],
        rules=alert_rules(missing_quality="block"),
    )

    assert verdict.final_score == pytest.approx(52.875 / 0.70)
    assert verdict.blocked_by == [FUNDAMENTALS_MISSING]


def test_decide_skips_missing_fundamentals() -> None:
    m = measurement()

    verdict = decide(
        m,
        quality=None,
        stability=90.0,
        data_quality=[],
        rules=alert_rules(missing_quality="skip"),
    )

    assert verdict.blocked_by == []
    assert verdict.should_alert is True
    assert verdict.alert_level is AlertLevel.GOOD


def test_decide_blocks_quality_below_gate() -> None:
    # 30.375 + 15 + 25 = 70.375, just above alert_good.
    m = measurement()

    verdict = decide(
        m, quality=50.0, stability=100.0, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(70.375)
    assert verdict.blocked_by == [QUALITY_BELOW_GATE]


def test_decide_blocks_missing_stability() -> None:
    # (30.375 + 30) / 0.75 = 80.5.
    m = measurement()

    verdict = decide(
        m, quality=100.0, stability=None, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(80.5)
    assert verdict.blocked_by == [STABILITY_MISSING]


def test_decide_blocks_stability_below_gate() -> None:
    # 30.375 + 30 + 12.5 = 72.875.
    m = measurement()

    verdict = decide(
        m, quality=100.0, stability=50.0, data_quality=[], rules=alert_rules()
    )

    assert verdict.final_score == pytest.approx(72.875)
    assert verdict.blocked_by == [STABILITY_BELOW_GATE]


def test_decide_blocks_data_quality_flags() -> None:
    m = measurement()

    verdict = decide(
        m,
        quality=100.0,
        stability=100.0,
        data_quality=["stale benchmark"],
        rules=alert_rules(),
    )

    assert verdict.blocked_by == [DATA_QUALITY_FLAGGED]


def test_decide_lists_every_block() -> None:
    m = measurement(dip_stock=0.05, persist_days=0)

    verdict = decide(
        m,
        quality=None,
        stability=10.0,
        data_quality=["gap"],
        rules=alert_rules(),
    )

    assert verdict.blocked_by == [
        NOT_MEANINGFUL,
        FINAL_BELOW_GOOD,
        FUNDAMENTALS_MISSING,
        STABILITY_BELOW_GATE,
        DATA_QUALITY_FLAGGED,
    ]
