"""The DipFinderSettings aggregate: the finder's knobs, changed only by events."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import InvalidTickerError, ThresholdOutOfRangeError
from stonkmarket.domain.quality import LOG_SCALED_METRICS, QUALITY_ANCHORS
from stonkmarket.domain.scoring import Anchor
from stonkmarket.domain.stability import STABILITY_ANCHORS
from stonkmarket.domain.tickers import normalise_ticker

SETTINGS_ID: UUID = uuid5(NAMESPACE_URL, "dipfinder-settings")
MIN_WEIGHT = 0.01


class Knob(msgspec.Struct, frozen=True, kw_only=True):
    """One setting: its default and the values it may take.

    A number knob has a closed range; a choice knob a list of words; an
    anchors knob maps each input of a score to its [poor, excellent] pair.
    """

    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    whole: bool = False
    choices: tuple[str, ...] = ()


def _number(default: float, low: float, high: float, description: str) -> Knob:
    return Knob(default=default, low=low, high=high, description=description)


def _whole(default: int, low: int, high: int, description: str) -> Knob:
    return Knob(
        default=default, low=low, high=high, whole=True, description=description
    )


def _anchor_pairs(anchors: Mapping[str, Anchor]) -> dict[str, list[float]]:
    return {name: [a.poor, a.excellent] for name, a in anchors.items()}


KNOBS: dict[str, Knob] = {
    "benchmark": Knob(default="SPY", description="ticker the market dip is read from"),
    "min_dip_abs": _number(0.10, 0.01, 0.50, "smallest dip that counts"),
    "min_persist_days": _whole(2, 1, 30, "trading days a dip must last"),
    "dip_percentile_threshold": _number(0.80, 0.50, 0.99, "rarity that is unusual"),
    "dip_vs_typical_threshold": _number(1.5, 1.0, 5.0, "size against the typical dip"),
    "market_dip_threshold": _number(0.06, 0.01, 0.20, "benchmark dip of a fall"),
    "excess_dip_market": _number(0.03, 0.01, 0.10, "largest excess of a market dip"),
    "excess_dip_stock_specific": _number(0.04, 0.01, 0.20, "smallest specific excess"),
    "history_years": _whole(5, 1, 10, "years of dip history"),
    "quality_gate": _number(60.0, 0.0, 100.0, "lowest quality score that alerts"),
    "stability_gate": _number(60.0, 0.0, 100.0, "lowest stability that alerts"),
    "alert_good": _number(70.0, 50.0, 100.0, "lowest final score of an alert"),
    "alert_strong": _number(80.0, 60.0, 100.0, "lowest final score of STRONG"),
    "weight_dip": _number(0.45, 0.0, 1.0, "weight of the dip score"),
    "weight_quality": _number(0.30, 0.0, 1.0, "weight of the quality score"),
    "weight_stability": _number(0.25, 0.0, 1.0, "weight of the stability score"),
    "missing_quality": Knob(
        default="block",
        choices=("block", "skip"),
        description="without fundamentals: block the alert, or skip the gate",
    ),
    "quality_anchors": Knob(
        default=_anchor_pairs(QUALITY_ANCHORS),
        description="[poor, excellent] value of each quality input",
    ),
    "stability_anchors": Knob(
        default=_anchor_pairs(STABILITY_ANCHORS),
        description="[poor, excellent] value of each stability input",
    ),
}

DEFAULTS: dict[str, Any] = {name: knob.default for name, knob in KNOBS.items()}


def check_changes(
    changes: Mapping[str, Any], current: Mapping[str, Any] = DEFAULTS
) -> dict[str, Any]:
    """Return the changes normalised, or raise naming every bad field.

    Anchor changes are merged into the current anchors, so a change may name
    only the inputs it moves.
    """
    checked: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in changes.items():
        try:
            checked[name] = _checked(name, value, current)
        except (ThresholdOutOfRangeError, InvalidTickerError) as exc:
            problems[name] = exc.message
    if not problems:
        problems = _cross_field_problems({**current, **checked})
    if problems:
        first = next(iter(problems))
        raise ThresholdOutOfRangeError(
            "; ".join(problems.values()), field=first, problems=problems
        )
    return checked


def _checked(name: str, value: Any, current: Mapping[str, Any]) -> Any:
    knob = KNOBS.get(name)
    if knob is None:
        raise ThresholdOutOfRangeError(
            f"{name} is not a setting; known settings: {', '.join(KNOBS)}", field=name
        )
    if name == "benchmark":
        return _checked_ticker(name, value)
    if knob.choices:
        if value not in knob.choices:
            words = " or ".join(knob.choices)
            raise ThresholdOutOfRangeError(
                f"{name} must be {words}, got {value!r}", field=name
            )
        return value
    if isinstance(knob.default, dict):
        return _checked_anchors(name, value, knob.default, current.get(name, {}))
    return _checked_number(name, knob, value)


def _checked_number(name: str, knob: Knob, value: Any) -> float | int:
    is_number = _is_plain_number(value)
    if not is_number or (knob.whole and value % 1):
        kind = "a whole number" if knob.whole else "a finite number"
        raise ThresholdOutOfRangeError(f"{name} must be {kind}", field=name)
    assert knob.low is not None and knob.high is not None
    if not knob.low <= value <= knob.high:
        raise ThresholdOutOfRangeError(
            f"{name} must be from {knob.low:g} to {knob.high:g}, got {value}",
            field=name,
        )
    return int(value) if knob.whole else float(value)


def _checked_ticker(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThresholdOutOfRangeError(f"{name} must be a ticker", field=name)
    return normalise_ticker(value, field=name)


def _checked_anchors(
    name: str, value: Any, known: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, list[float]]:
    if not isinstance(value, Mapping):
        raise ThresholdOutOfRangeError(
            f"{name} must map inputs to [poor, excellent] pairs", field=name
        )
    merged = {key: list(pair) for key, pair in current.items()}
    for key, pair in value.items():
        where = f"{name}.{key}"
        if key not in known:
            raise ThresholdOutOfRangeError(
                f"{where} is not an input; known inputs: {', '.join(known)}",
                field=name,
            )
        merged[key] = _checked_pair(
            where, pair, name, log_scaled=key in LOG_SCALED_METRICS
        )
    return merged


def _checked_pair(where: str, pair: Any, name: str, *, log_scaled: bool) -> list[float]:
    numbers = isinstance(pair, list | tuple) and len(pair) == 2
    if not numbers or not all(_is_plain_number(v) for v in pair):
        raise ThresholdOutOfRangeError(
            f"{where} must be two finite numbers [poor, excellent]", field=name
        )
    poor, excellent = float(pair[0]), float(pair[1])
    if log_scaled and min(poor, excellent) <= 0:
        raise ThresholdOutOfRangeError(
            f"{where} is scored on a log scale, so both values must be above 0",
            field=name,
        )
    scaled = (
        (math.log10(poor), math.log10(excellent)) if log_scaled else (poor, excellent)
    )
    span = scaled[1] - scaled[0]
    if span == 0 or not math.isfinite(span):
        raise ThresholdOutOfRangeError(
            f"{where} must be two different finite numbers [poor, excellent] "
            "whose difference is finite",
            field=name,
        )
    return [poor, excellent]


# Larger whole numbers overflow floats; no knob or anchor needs them.
_LARGEST_WHOLE = 10**15


def _is_plain_number(value: Any) -> bool:
    """Tell whether `value` is a finite int or float, and not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) <= _LARGEST_WHOLE
    return math.isfinite(value)


def _cross_field_problems(values: Mapping[str, Any]) -> dict[str, str]:
    problems = {}
    if values["alert_strong"] < values["alert_good"]:
        problems["alert_strong"] = (
            f"alert_strong ({values['alert_strong']:g}) must not be below "
            f"alert_good ({values['alert_good']:g})"
        )
    weights = ("weight_dip", "weight_quality", "weight_stability")
    if sum(values[w] for w in weights) <= 0:
        problems["weight_dip"] = "the three score weights must not all be 0"
    for name in weights:
        if 0 < values[name] < MIN_WEIGHT:
            # Weights this small only add rounding noise a client cannot repeat.
            problems[name] = f"{name} must be 0 or at least {MIN_WEIGHT:g}"
    return problems


def anchors_of(values: Mapping[str, Any], name: str) -> dict[str, Anchor]:
    """Return an anchors knob as Anchor values."""
    return {key: Anchor(poor=p, excellent=e) for key, (p, e) in values[name].items()}


class DipFinderSettings(Aggregate):
    """The one set of knobs the finder runs with; its version stamps signals."""

    class Started(Aggregate.Created):
        pass

    class Changed(Aggregate.Event):
        changes: dict[str, Any]
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(*_: object, **__: object) -> UUID:
        return SETTINGS_ID

    @event(Started)
    def __init__(self) -> None:
        self.values: dict[str, Any] = dict(DEFAULTS)

    def change(
        self, changes: dict[str, Any], *, actor: str, correlation_id: str | None = None
    ) -> None:
        """Apply the changes that differ from the current values."""
        checked = check_changes(changes, self.values)
        effective = {k: v for k, v in checked.items() if self.values[k] != v}
        if effective:
            self._changed(effective, actor, correlation_id)

    @event(Changed)
    def _changed(
        self, changes: dict[str, Any], actor: str, correlation_id: str | None
    ) -> None:
        self.values.update(changes)
