from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.quality import (
    QUALITY_ANCHORS,
    QUALITY_WEIGHTS,
    check_quality_config,
    quality_score,
)
from stonkmarket.domain.scoring import Anchor, Score

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=150, deadline=None, database=None)

SCORED = list(QUALITY_WEIGHTS)


def scored(metrics: FundamentalMetrics) -> Score:
    """Return the quality score of `metrics`, which must not be None."""
    score = quality_score(metrics)
    assert score is not None
    return score


def test_three_metrics_score_by_hand() -> None:
    # operating_margin 0.15 on 0.0 -> 0.30 is 50; debt_to_equity 0.6 on 3.0 -> 0.0
    # is 80; revenue_growth 0.11 on -0.10 -> 0.20 is 70. Weights 0.075, 0.10 and
    # 0.075 renormalise over their sum 0.25 to 0.3, 0.4 and 0.3, so the score is
    # 0.3 x 50 + 0.4 x 80 + 0.3 x 70 = 15 + 32 + 21 = 68.
    metrics = FundamentalMetrics(
        operating_margin=0.15, debt_to_equity=0.6, revenue_growth=0.11
    )

    score = scored(metrics)

    assert score.score == pytest.approx(68.0)


def test_coverage_is_weight_share_with_data() -> None:
    # 0.075 + 0.10 + 0.075 of a total weight of 1.0.
    metrics = FundamentalMetrics(
        operating_margin=0.15, debt_to_equity=0.6, revenue_growth=0.11
    )

    score = scored(metrics)

    assert score.coverage == pytest.approx(0.25)


def test_market_cap_is_scored_on_log10() -> None:
    # log10(2e10) = 10.30 sits halfway between log10(2e9) = 9.30 and
    # log10(2e11) = 11.30, so the sub-score is 50, where a linear map gives 9.1.
    metrics = FundamentalMetrics(market_cap=2e10)

    score = scored(metrics)

    factor = next(f for f in score.factors if f.name == "market_cap")
    assert factor.sub_score == pytest.approx(50.0)
    assert score.score == pytest.approx(50.0)


def test_factor_keeps_raw_dollar_volume() -> None:
    metrics = FundamentalMetrics(average_dollar_volume=5e7)

    score = scored(metrics)

    factor = next(f for f in score.factors if f.name == "average_dollar_volume")
    assert factor.value == 5e7
    # log10(5e7) = 7.70 is halfway between log10(5e6) = 6.70 and log10(5e8) = 8.70.
    assert factor.sub_score == pytest.approx(50.0)


def test_zero_dollar_volume_scores_zero() -> None:
    metrics = FundamentalMetrics(average_dollar_volume=0.0)

    score = scored(metrics)

    factor = next(f for f in score.factors if f.name == "average_dollar_volume")
    assert factor.value == 0.0
    assert factor.sub_score == 0.0
    assert score.score == 0.0


def test_no_snapshot_gives_none() -> None:
    score = quality_score(None)

    assert score is None


def test_all_none_metrics_give_null_score() -> None:
    score = scored(FundamentalMetrics())

    assert score.score is None
    assert score.coverage == 0.0
    assert [f.name for f in score.factors] == SCORED
    assert all(f.sub_score is None and f.weight == 0.0 for f in score.factors)


def test_dividend_yield_is_not_scored() -> None:
    metrics = FundamentalMetrics(dividend_yield=0.05)

    score = scored(metrics)

    assert score.score is None
    assert "dividend_yield" not in [f.name for f in score.factors]


def test_factors_list_every_scored_metric() -> None:
    metrics = FundamentalMetrics(profit_margin=0.1)

    score = scored(metrics)

    assert [f.name for f in score.factors] == SCORED


def test_weights_with_data_sum_to_one() -> None:
    metrics = FundamentalMetrics(
        profit_margin=0.1, current_ratio=1.5, earnings_growth=0.0, market_cap=1e10
    )

    score = scored(metrics)

    with_data = [f for f in score.factors if f.value is not None]
    assert len(with_data) == 4
    assert math.fsum(f.weight for f in with_data) == pytest.approx(1.0)


def test_missing_metrics_get_zero_weight() -> None:
    metrics = FundamentalMetrics(profit_margin=0.1)

    score = scored(metrics)

    without_data = [f for f in score.factors if f.value is None]
    assert len(without_data) == len(SCORED) - 1
    assert all(f.weight == 0.0 for f in without_data)


def test_all_excellent_metrics_score_100() -> None:
    best = {name: anchor.excellent for name, anchor in QUALITY_ANCHORS.items()}

    score = scored(FundamentalMetrics(**best))

    assert score.score == pytest.approx(100.0)
    # Renormalised weights can sum to slightly more than 1, but the score must not.
    assert score.score <= 100.0
    assert score.coverage == pytest.approx(1.0)


def test_all_poor_metrics_score_zero() -> None:
    worst = {name: anchor.poor for name, anchor in QUALITY_ANCHORS.items()}

    score = scored(FundamentalMetrics(**worst))

    assert score.score == 0.0


def test_default_weights_sum_to_one() -> None:
    total = math.fsum(QUALITY_WEIGHTS.values())

    assert total == pytest.approx(1.0)


def test_default_config_is_valid() -> None:
    check_quality_config(QUALITY_ANCHORS, QUALITY_WEIGHTS)

    assert set(QUALITY_ANCHORS) == set(QUALITY_WEIGHTS)


def test_unknown_metric_weight_is_rejected() -> None:
    weights = {"price_to_book": 1.0}
    message = (
        "weight given for unknown metric 'price_to_book'; "
        "use a field name of FundamentalMetrics"
    )

    with pytest.raises(ValueError, match=message):
        quality_score(FundamentalMetrics(), weights=weights)


def test_weight_without_anchor_is_rejected() -> None:
    weights = {"profit_margin": 1.0}
    message = "metric 'profit_margin' has a weight but no anchor; add one"

    with pytest.raises(ValueError, match=message):
        quality_score(FundamentalMetrics(), anchors={}, weights=weights)


def test_non_positive_log_anchor_is_rejected() -> None:
    anchors = {"market_cap": Anchor(poor=0.0, excellent=1e11)}
    weights = {"market_cap": 1.0}
    message = (
        "anchors of 'market_cap' must be above zero because it is scored on "
        "log10, got poor=0, excellent=1e"
    )

    with pytest.raises(ValueError, match=message):
        quality_score(FundamentalMetrics(), anchors=anchors, weights=weights)


def test_custom_weights_and_anchors_are_used() -> None:
    # 0.10 on 0.0 -> 0.20 is 50 and 1.0 on 3.0 -> 0.0 is 66.67; weights 1 and 3
    # give (50 + 3 x 66.67) / 4 = 62.5.
    anchors = {
        "profit_margin": Anchor(poor=0.0, excellent=0.20),
        "debt_to_equity": Anchor(poor=3.0, excellent=0.0),
    }
    weights = {"profit_margin": 1.0, "debt_to_equity": 3.0}
    metrics = FundamentalMetrics(profit_margin=0.10, debt_to_equity=1.0)

    score = quality_score(metrics, anchors=anchors, weights=weights)

    assert score is not None
    assert score.score == pytest.approx(62.5)


def present_value(name: str) -> st.SearchStrategy[float]:
    """Draw a value from well below poor to well above excellent."""
    anchor = QUALITY_ANCHORS[name]
    low, high = sorted((anchor.poor, anchor.excellent))
    if name in ("market_cap", "average_dollar_volume"):
        # Amounts from 0 up to 100x the top anchor, dense on the log scale.
        exponents = st.floats(min_value=-1.0, max_value=math.log10(high) + 2)
        return st.just(0.0) | exponents.map(lambda exponent: 10.0**exponent)
    span = high - low
    values = st.floats(min_value=low - span, max_value=high + span)
    return st.sampled_from([low, high]) | values


@st.composite
def fundamentals(draw: st.DrawFn) -> FundamentalMetrics:
    """Draw metrics where each scored field may be None."""
    values = {name: draw(st.none() | present_value(name)) for name in SCORED}
    return FundamentalMetrics(**values)


@st.composite
def improvement(draw: st.DrawFn) -> tuple[FundamentalMetrics, FundamentalMetrics]:
    """Draw two metrics that differ in one field, the second closer to excellent."""
    others = draw(fundamentals())
    name = draw(st.sampled_from(SCORED))
    low, high = sorted((draw(present_value(name)), draw(present_value(name))))
    anchor = QUALITY_ANCHORS[name]
    worse, better = (low, high) if anchor.excellent > anchor.poor else (high, low)
    before = msgspec.structs.replace(others, **{name: worse})
    after = msgspec.structs.replace(others, **{name: better})
    return before, after


@bounded
@given(improvement())
def test_better_input_never_lowers_score(
    pair: tuple[FundamentalMetrics, FundamentalMetrics],
) -> None:
    before, after = pair

    old_score = scored(before).score
    new_score = scored(after).score

    assert old_score is not None
    assert new_score is not None
    assert new_score >= old_score


@bounded
@given(fundamentals())
def test_score_stays_within_0_and_100(metrics: FundamentalMetrics) -> None:
    score = scored(metrics).score

    if score is not None:
        assert score >= 0.0
        assert score <= 100.0
