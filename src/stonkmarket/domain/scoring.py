"""Turning raw measures into 0-100 scores: clamped linear maps and weights."""

from __future__ import annotations

import math
from collections.abc import Mapping

import msgspec


class Anchor(msgspec.Struct, frozen=True):
    """The raw values that score 0 (`poor`) and 100 (`excellent`).

    `poor` may be above `excellent` when lower is better (volatility, debt).
    """

    poor: float
    excellent: float


class Factor(msgspec.Struct, frozen=True, kw_only=True):
    """One input of a score: its raw value, its 0-100 sub-score and its weight.

    `weight` is the renormalised share of the score (0 when `value` is null).
    """

    name: str
    value: float | None
    sub_score: float | None
    weight: float


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """A weighted score with the factors behind it.

    `coverage` is the share of the configured weight that had data; `score` is
    null when no factor had data.
    """

    score: float | None
    coverage: float
    factors: list[Factor]


def linear_score(value: float, anchor: Anchor) -> float:
    """Map `value` onto 0-100 between the anchors, clamped at both ends."""
    span = anchor.excellent - anchor.poor
    if span == 0:
        raise ValueError("an anchor needs two different values")
    fraction = (value - anchor.poor) / span
    return 100.0 * min(1.0, max(0.0, fraction))


def weighted_score(
    values: Mapping[str, float | None],
    anchors: Mapping[str, Anchor],
    weights: Mapping[str, float],
) -> Score:
    """Combine the inputs that have data, renormalising their weights."""
    usable = {
        name: value
        for name, value in values.items()
        if value is not None and math.isfinite(value) and weights.get(name, 0) > 0
    }
    total = sum(weights[name] for name in usable)
    configured = sum(w for name, w in weights.items() if name in values and w > 0)
    factors = []
    for name, value in values.items():
        if name in usable and total > 0:
            sub = linear_score(usable[name], anchors[name])
            factors.append(
                Factor(
                    name=name, value=value, sub_score=sub, weight=weights[name] / total
                )
            )
        else:
            factors.append(Factor(name=name, value=value, sub_score=None, weight=0.0))
    if total == 0:
        return Score(score=None, coverage=0.0, factors=factors)
    score = sum(f.sub_score * f.weight for f in factors if f.sub_score is not None)
    # Renormalised weights can sum to 1 + 2e-16, so all-excellent inputs exceed 100.
    return Score(score=min(100.0, score), coverage=total / configured, factors=factors)
