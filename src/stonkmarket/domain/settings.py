"""The DipFinderSettings aggregate: the finder's knobs, changed only by events."""

from __future__ import annotations

import math
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import InvalidTickerError, ThresholdOutOfRangeError
from stonkmarket.domain.tickers import normalise_ticker

SETTINGS_ID: UUID = uuid5(NAMESPACE_URL, "dipfinder-settings")


class Knob(msgspec.Struct, frozen=True, kw_only=True):
    """One setting: its default and the closed range it must stay in."""

    default: float | int | str
    low: float | None = None
    high: float | None = None
    whole: bool = False
    description: str = ""


KNOBS: dict[str, Knob] = {
    "benchmark": Knob(default="SPY", description="ticker the market dip is read from"),
    "min_dip_abs": Knob(
        default=0.10, low=0.01, high=0.50, description="smallest dip that counts"
    ),
    "min_persist_days": Knob(
        default=2, low=1, high=30, whole=True, description="trading days in a dip"
    ),
    "dip_percentile_threshold": Knob(
        default=0.80, low=0.50, high=0.99, description="rarity that makes it unusual"
    ),
    "dip_vs_typical_threshold": Knob(
        default=1.5, low=1.0, high=5.0, description="size against the typical dip"
    ),
    "market_dip_threshold": Knob(
        default=0.06,
        low=0.01,
        high=0.20,
        description="benchmark dip of a falling market",
    ),
    "excess_dip_market": Knob(
        default=0.03, low=0.01, high=0.10, description="largest excess of a market dip"
    ),
    "excess_dip_stock_specific": Knob(
        default=0.04, low=0.01, high=0.20, description="smallest stock-specific excess"
    ),
    "history_years": Knob(
        default=5, low=1, high=10, whole=True, description="years of dip history"
    ),
}

DEFAULTS: dict[str, Any] = {name: knob.default for name, knob in KNOBS.items()}


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Return the changes with values normalised, or raise on the first bad one."""
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        knob = KNOBS.get(name)
        if knob is None:
            raise ThresholdOutOfRangeError(
                f"{name} is not a setting; known settings: {', '.join(KNOBS)}",
                field=name,
            )
        checked[name] = _checked_value(name, knob, value)
    return checked


def _checked_value(name: str, knob: Knob, value: Any) -> Any:
    if isinstance(knob.default, str):
        return _checked_ticker(name, value)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value) or (knob.whole and value % 1):
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
    try:
        return normalise_ticker(value)
    except InvalidTickerError as exc:
        raise InvalidTickerError(exc.message, field=name) from exc


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
        checked = check_changes(changes)
        effective = {k: v for k, v in checked.items() if self.values[k] != v}
        if effective:
            self._changed(effective, actor, correlation_id)

    @event(Changed)
    def _changed(
        self, changes: dict[str, Any], actor: str, correlation_id: str | None
    ) -> None:
        self.values.update(changes)
