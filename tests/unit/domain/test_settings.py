from __future__ import annotations

from typing import Any

import pytest

from stonkmarket.domain.errors import DomainError, ThresholdOutOfRangeError
from stonkmarket.domain.settings import (
    KNOBS,
    SETTINGS_ID,
    DipFinderSettings,
    check_changes,
)

EXPECTED_DEFAULTS = {
    "benchmark": "SPY",
    "min_dip_abs": 0.10,
    "min_persist_days": 2,
    "dip_percentile_threshold": 0.80,
    "dip_vs_typical_threshold": 1.5,
    "market_dip_threshold": 0.06,
    "excess_dip_market": 0.03,
    "excess_dip_stock_specific": 0.04,
    "history_years": 5,
    "quality_gate": 60.0,
    "stability_gate": 60.0,
    "alert_good": 70.0,
    "alert_strong": 80.0,
    "weight_dip": 0.45,
    "weight_quality": 0.30,
    "weight_stability": 0.25,
    "missing_quality": "block",
    "quality_anchors": {
        "profit_margin": [0.0, 0.20],
        "operating_margin": [0.0, 0.30],
        "return_on_equity": [0.0, 0.25],
        "return_on_assets": [0.0, 0.10],
        "debt_to_equity": [3.0, 0.0],
        "current_ratio": [0.8, 2.0],
        "free_cash_flow_yield": [0.0, 0.08],
        "operating_cash_flow_margin": [0.0, 0.25],
        "revenue_growth": [-0.10, 0.20],
        "earnings_growth": [-0.20, 0.25],
        "market_cap": [2e9, 2e11],
        "average_dollar_volume": [5e6, 5e8],
    },
    "stability_anchors": {
        "beta": [2.0, 0.6],
        "volatility": [0.60, 0.15],
        "max_drawdown": [0.60, 0.15],
        "typical_dip": [0.15, 0.03],
    },
}


def started() -> DipFinderSettings:
    """Return settings at their defaults, with the Started event collected."""
    settings = DipFinderSettings()
    settings.collect_events()
    return settings


def test_new_settings_hold_the_defaults() -> None:
    settings = DipFinderSettings()

    assert settings.values == EXPECTED_DEFAULTS


def test_every_knob_default_lies_in_its_range() -> None:
    numeric = {name: knob for name, knob in KNOBS.items() if knob.low is not None}

    for name, knob in numeric.items():
        assert isinstance(knob.default, int | float), name
        assert knob.low is not None, name
        assert knob.high is not None, name
        assert knob.low <= knob.default <= knob.high, name


def test_settings_have_one_fixed_id() -> None:
    first = DipFinderSettings()
    second = DipFinderSettings()

    assert first.id == SETTINGS_ID
    assert second.id == SETTINGS_ID


def test_valid_change_records_one_changed_event() -> None:
    settings = started()

    settings.change({"min_dip_abs": 0.12}, actor="alice", correlation_id="req-1")

    events = settings.collect_events()
    assert len(events) == 1
    changed = events[0]
    assert isinstance(changed, DipFinderSettings.Changed)
    assert changed.changes == {"min_dip_abs": 0.12}
    assert changed.actor == "alice"
    assert changed.correlation_id == "req-1"
    assert settings.values["min_dip_abs"] == 0.12


def test_unchanged_value_records_nothing() -> None:
    settings = started()

    settings.change({"min_dip_abs": 0.10, "benchmark": "spy"}, actor="alice")

    assert settings.collect_events() == []


def test_event_holds_only_the_values_that_differ() -> None:
    settings = started()

    settings.change({"min_dip_abs": 0.10, "history_years": 3}, actor="alice")

    events = settings.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], DipFinderSettings.Changed)
    assert events[0].changes == {"history_years": 3}


def test_changes_leave_other_knobs_alone() -> None:
    settings = started()
    expected = {**EXPECTED_DEFAULTS, "min_persist_days": 4, "benchmark": "QQQ"}

    settings.change({"min_persist_days": 4, "benchmark": "QQQ"}, actor="alice")

    assert settings.values == expected


def test_unknown_knob_is_rejected() -> None:
    known = (
        "benchmark, min_dip_abs, min_persist_days, dip_percentile_threshold, "
        "dip_vs_typical_threshold, market_dip_threshold, excess_dip_market, "
        "excess_dip_stock_specific, history_years"
    )

    with pytest.raises(
        ThresholdOutOfRangeError,
        match=f"colour is not a setting; known settings: {known}",
    ) as caught:
        check_changes({"colour": "green"})

    assert caught.value.field == "colour"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("min_dip_abs", 0.6, "min_dip_abs must be from 0.01 to 0.5, got 0.6"),
        ("min_dip_abs", 0.0, "min_dip_abs must be from 0.01 to 0.5, got 0.0"),
        ("history_years", 11, "history_years must be from 1 to 10, got 11"),
        ("min_persist_days", 0, "min_persist_days must be from 1 to 30, got 0"),
        (
            "dip_vs_typical_threshold",
            float("nan"),
            "dip_vs_typical_threshold must be a finite number",
        ),
    ],
)
def test_value_out_of_range_is_rejected(name: str, value: Any, message: str) -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=message) as caught:
        check_changes({name: value})

    assert caught.value.field == name


@pytest.mark.parametrize(
    ("name", "value"),
    [("min_dip_abs", 0.01), ("min_dip_abs", 0.50), ("history_years", 10)],
)
def test_range_ends_are_accepted(name: str, value: Any) -> None:
    checked = check_changes({name: value})

    assert checked == {name: value}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("min_dip_abs", "min_dip_abs must be a finite number"),
        ("history_years", "history_years must be a whole number"),
    ],
)
def test_bool_for_a_number_is_rejected(name: str, message: str) -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=message) as caught:
        check_changes({name: True})

    assert caught.value.field == name


def test_text_for_a_number_is_rejected() -> None:
    with pytest.raises(
        ThresholdOutOfRangeError, match="min_dip_abs must be a finite number"
    ) as caught:
        check_changes({"min_dip_abs": "0.2"})

    assert caught.value.field == "min_dip_abs"


def test_non_whole_number_for_whole_knob_is_rejected() -> None:
    with pytest.raises(
        ThresholdOutOfRangeError, match="min_persist_days must be a whole number"
    ) as caught:
        check_changes({"min_persist_days": 2.5})

    assert caught.value.field == "min_persist_days"


def test_whole_float_for_whole_knob_becomes_int() -> None:
    checked = check_changes({"history_years": 3.0})

    assert checked == {"history_years": 3}
    assert type(checked["history_years"]) is int


def test_int_for_fraction_knob_becomes_float() -> None:
    checked = check_changes({"dip_vs_typical_threshold": 2})

    assert checked == {"dip_vs_typical_threshold": 2.0}
    assert type(checked["dip_vs_typical_threshold"]) is float


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_value_for_whole_knob_is_rejected(value: float) -> None:
    with pytest.raises(ThresholdOutOfRangeError) as caught:
        check_changes({"history_years": value})

    assert caught.value.field == "history_years"


def test_benchmark_is_normalised() -> None:
    settings = started()

    settings.change({"benchmark": "brk.b"}, actor="alice")

    (changed,) = settings.collect_events()
    assert isinstance(changed, DipFinderSettings.Changed)
    assert changed.changes == {"benchmark": "BRK-B"}
    assert settings.values["benchmark"] == "BRK-B"


def test_benchmark_must_be_text() -> None:
    with pytest.raises(
        ThresholdOutOfRangeError, match="benchmark must be a ticker"
    ) as caught:
        check_changes({"benchmark": 500})

    assert caught.value.field == "benchmark"


def test_malformed_benchmark_is_rejected_naming_benchmark() -> None:
    with pytest.raises(DomainError) as caught:
        check_changes({"benchmark": "s&p 500"})

    assert caught.value.field == "benchmark"


def test_one_bad_value_rejects_the_whole_change() -> None:
    settings = started()

    with pytest.raises(ThresholdOutOfRangeError) as caught:
        settings.change({"min_dip_abs": 0.2, "history_years": 0}, actor="alice")

    assert caught.value.field == "history_years"
    assert caught.value.problems == {
        "history_years": "history_years must be from 1 to 10, got 0"
    }
    assert settings.collect_events() == []
    assert settings.values == EXPECTED_DEFAULTS


def test_every_bad_field_is_named() -> None:
    settings = started()

    with pytest.raises(ThresholdOutOfRangeError) as caught:
        settings.change(
            {"quality_gate": 101, "missing_quality": "ignore", "min_dip_abs": 0.2},
            actor="alice",
        )

    assert caught.value.problems == {
        "quality_gate": "quality_gate must be from 0 to 100, got 101",
        "missing_quality": "missing_quality must be block or skip, got 'ignore'",
    }
    assert settings.collect_events() == []


def test_strong_alert_below_good_is_rejected() -> None:
    with pytest.raises(ThresholdOutOfRangeError) as caught:
        check_changes({"alert_good": 85})

    assert caught.value.problems == {
        "alert_strong": "alert_strong (80) must not be below alert_good (85)"
    }


def test_all_score_weights_zero_is_rejected() -> None:
    changes = {"weight_dip": 0, "weight_quality": 0, "weight_stability": 0}

    with pytest.raises(ThresholdOutOfRangeError, match="must not all be 0"):
        check_changes(changes)


def test_anchor_change_merges_into_current() -> None:
    settings = started()

    settings.change({"stability_anchors": {"beta": [2.5, 0.5]}}, actor="alice")

    assert settings.values["stability_anchors"] == {
        "beta": [2.5, 0.5],
        "volatility": [0.60, 0.15],
        "max_drawdown": [0.60, 0.15],
        "typical_dip": [0.15, 0.03],
    }


@pytest.mark.parametrize(
    ("anchors", "message"),
    [
        ({"gamma": [1, 2]}, "stability_anchors.gamma is not an input"),
        ({"beta": [1, 1]}, r"stability_anchors.beta must be two different finite"),
        ({"beta": [1, float("nan")]}, r"stability_anchors.beta must be two finite"),
        ({"beta": "high"}, r"stability_anchors.beta must be two finite"),
    ],
)
def test_bad_anchor_is_rejected(anchors: dict[str, Any], message: str) -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=message) as caught:
        check_changes({"stability_anchors": anchors})

    assert caught.value.field == "stability_anchors"


def test_log_scaled_anchor_must_be_positive() -> None:
    with pytest.raises(ThresholdOutOfRangeError, match="log scale"):
        check_changes({"quality_anchors": {"market_cap": [0, 1e9]}})


def test_tiny_nonzero_weight_is_rejected() -> None:
    with pytest.raises(ThresholdOutOfRangeError) as caught:
        check_changes({"weight_quality": 0.001})

    assert caught.value.problems == {
        "weight_quality": "weight_quality must be 0 or at least 0.01"
    }
