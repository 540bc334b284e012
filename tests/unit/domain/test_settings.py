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
    numeric = {name: knob for name, knob in KNOBS.items() if name != "benchmark"}

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
    assert settings.collect_events() == []
    assert settings.values == EXPECTED_DEFAULTS
