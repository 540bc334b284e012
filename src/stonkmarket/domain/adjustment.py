"""Adjusted closes: corporate actions applied, data glitches flagged and excluded.

Dips are measured on split- and dividend-adjusted closes, so a split or an
ex-dividend drop is never a dip. A large one-day move that no recorded action
explains is one of three things: an action the source applied but `actions` lacks,
a glitch that reverses within days, or a switch between a currency and its
hundredth. Each becomes a DataQualityFlag and its bars are excluded. A large move
that none of these explains, such as a crash that stays, is kept as a real move.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from stonkmarket.domain.errors import InvalidPriceBatchError
from stonkmarket.domain.series import DateArray, FloatArray, PriceSeries

# Only one-day moves beyond ±40 % are checked, because a 2:1 split moves the close
# by 50 % while all but the worst trading days stay inside.
# NOTE: a 3:2 split moves the close by 33 %, so an unrecorded 3:2 split is not
# flagged and reads as a 33 % dip.
LARGE_MOVE = 0.40

# The raw and reference moves of one day differ by more than 40 % only when the
# source applied a split-sized action. An ordinary dividend moves them apart by a
# few percent.
BASIS_JUMP = 0.40

# A glitch reverses within a trading week, so a move that lasts longer is real.
SPIKE_MAX_BARS = 5

# A close back within 15 % of the level before the move counts as a reversal.
SPIKE_RETURN = 0.15

# Quotes switched between a currency and its hundredth (pence and pounds, cents
# and dollars) step by a factor of 100.
UNIT_STEP_FACTOR = 100.0

# A unit switch may fall on a day that also moves by up to 10 %.
UNIT_STEP_TOLERANCE = 0.10

BoolArray = npt.NDArray[np.bool_]

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


# Closes outside these bounds are typing errors, and ratios of closes inside
# them stay far from overflowing a float.
MIN_PRICE = 1e-6
MAX_PRICE = 1e9
# A 1-for-1000 reverse split up to a 1000-for-1 split; a history's product of
# them stays inside a float.
MIN_SPLIT = 1e-3
MAX_SPLIT = 1e3


class CorporateAction(msgspec.Struct, frozen=True, kw_only=True):
    """A split or cash dividend, after which the closes are on a new basis.

    `date` is the split date or ex-date, the first bar on the new basis. `value` is
    new shares per old share for a split (2.0 for 2:1, 0.1 for 1:10) and cash per
    share, in the quote currency, for a dividend.
    """

    date: dt.date
    kind: Literal["split", "dividend"]
    value: float


class DataQualityFlag(msgspec.Struct, frozen=True, kw_only=True):
    """A bar whose close no recorded action explains, and which bars it excluded.

    `kind` is "spike", "unit_step" or "unrecorded_action", and `detail` is one
    sentence with the move and the count of excluded bars.
    """

    date: dt.date
    kind: str
    detail: str


class CleanSeries(msgspec.Struct, frozen=True):
    """Adjusted closes without the flagged bars, and the flags that excluded them."""

    series: PriceSeries
    flags: list[DataQualityFlag]


def check_action(action: CorporateAction) -> None:
    """Raise InvalidPriceBatchError unless the action is usable for adjustment."""
    if action.kind not in ("split", "dividend"):
        raise InvalidPriceBatchError(
            f"corporate action on {action.date.isoformat()} has kind "
            f"{action.kind!r}; use 'split' or 'dividend'",
            field="actions",
        )
    value = action.value
    if action.kind == "split":
        usable = math.isfinite(value) and MIN_SPLIT <= value <= MAX_SPLIT
    else:
        usable = math.isfinite(value) and 0.0 < value <= MAX_PRICE
    if not usable:
        raise InvalidPriceBatchError(
            f"{action.kind} on {action.date.isoformat()} has value {action.value}; "
            "record a split as new shares per old share (2.0 for 2:1), from "
            f"{MIN_SPLIT:g} to {MAX_SPLIT:g}, and a dividend as cash per share, "
            f"above 0 and at most {MAX_PRICE:g}",
            field="actions",
        )


def clean_prices(
    dates: Sequence[dt.date] | DateArray,
    closes: Sequence[float] | FloatArray,
    *,
    actions: Sequence[CorporateAction] = (),
    reference_closes: Sequence[float | None] | FloatArray | None = None,
) -> CleanSeries:
    """Back-adjust raw closes through `actions` and exclude bars no action explains.

    `closes` are the closes as traded. Missing closes and repeated dates are
    dropped first, as `PriceSeries.from_bars` does. Moves are measured on the
    adjusted closes, so a correctly recorded action does not look like a jump.
    `reference_closes`, aligned with `dates`, are the source's own adjusted closes.
    Where the gap between them and ours jumps, the source applied an action that
    `actions` lacks, and the bars before it are excluded.

    Raises InvalidPriceBatchError for an unusable action, a dividend not below the
    close before its ex-date, or a reference of another length than `dates`.
    """
    for action in actions:
        check_action(action)
    raw = PriceSeries.from_bars(dates, closes)
    adjusted = raw.closes * _adjustment_factors(raw, actions)

    reference = _aligned_reference(dates, reference_closes, raw.dates)
    start, flags = _flag_unrecorded_actions(raw.dates, adjusted, reference)
    kept_dates = raw.dates[start:]
    kept_closes = adjusted[start:]

    keep, glitch_flags = _flag_glitches(kept_dates, kept_closes)
    kept_dates = kept_dates[keep]
    kept_closes = kept_closes[keep]
    kept_dates.flags.writeable = False
    kept_closes.flags.writeable = False
    return CleanSeries(PriceSeries(kept_dates, kept_closes), flags + glitch_flags)


def _adjustment_factors(
    raw: PriceSeries, actions: Sequence[CorporateAction]
) -> FloatArray:
    """Return, for every bar, the factor that puts its close on the latest basis."""
    if not actions or len(raw) == 0:
        return np.ones(len(raw), dtype=np.float64)
    splits = [action for action in actions if action.kind == "split"]
    split_dates = _date_array([split.date for split in splits])
    split_factors = 1.0 / np.array([split.value for split in splits], dtype=np.float64)
    bar_split_factors = _later_product(raw.dates, split_dates, split_factors)

    dividends = [action for action in actions if action.kind == "dividend"]
    ex_dates = _date_array([dividend.date for dividend in dividends])
    # A dividend is paid per share of its ex-date's basis, so it is moved to the
    # latest basis through the splits dated after its ex-date.
    amounts = np.array([dividend.value for dividend in dividends], dtype=np.float64)
    amounts *= _later_product(ex_dates, split_dates, split_factors)
    previous = np.searchsorted(raw.dates, ex_dates, side="left") - 1
    has_previous = previous >= 0
    previous_closes = (raw.closes * bar_split_factors)[np.maximum(previous, 0)]
    dividend_factors = np.where(has_previous, 1.0 - amounts / previous_closes, 1.0)

    _check_dividends(dividends, has_previous & (dividend_factors <= 0.0))
    bar_dividend_factors = _later_product(raw.dates, ex_dates, dividend_factors)
    factors: FloatArray = bar_split_factors * bar_dividend_factors
    return factors


def _later_product(
    days: DateArray, action_dates: DateArray, action_factors: FloatArray
) -> FloatArray:
    """Return, for every day, the product of the factors of actions dated after it."""
    order = np.argsort(action_dates, kind="stable")
    sorted_dates = action_dates[order]
    # suffix[k] is the product of the sorted factors from position k on.
    suffix = np.ones(len(order) + 1, dtype=np.float64)
    suffix[:-1] = np.cumprod(action_factors[order][::-1])[::-1]
    first_later = np.searchsorted(sorted_dates, days, side="right")
    products: FloatArray = suffix[first_later]
    return products


def _check_dividends(dividends: list[CorporateAction], too_large: BoolArray) -> None:
    for dividend, invalid in zip(dividends, too_large, strict=True):
        if invalid:
            raise InvalidPriceBatchError(
                f"dividend of {dividend.value} on {dividend.date.isoformat()} is "
                "not below the close before its ex-date; check that the dividend "
                "is cash per share in the quote currency",
                field="actions",
            )


def _aligned_reference(
    dates: Sequence[dt.date] | DateArray,
    reference_closes: Sequence[float | None] | FloatArray | None,
    bar_dates: DateArray,
) -> FloatArray:
    """Return the reference close on each bar date, NaN where it is missing."""
    if reference_closes is None:
        return np.full(len(bar_dates), np.nan)
    # None becomes NaN, a missing value that from_bars drops.
    values = np.asarray(reference_closes, dtype=np.float64)
    if values.shape != (len(dates),):
        raise InvalidPriceBatchError(
            f"reference_closes has {values.size} values for {len(dates)} dates; "
            "give one reference close per date, None where it is missing",
            field="reference_closes",
        )

    # Aligning by date, not by row, keeps the reference right when the raw
    # closes and the reference miss different bars.
    reference = PriceSeries.from_bars(dates, values)
    if len(reference) == 0:
        return np.full(len(bar_dates), np.nan)
    positions = np.searchsorted(reference.dates, bar_dates)
    positions = np.minimum(positions, len(reference) - 1)
    found = reference.dates[positions] == bar_dates
    aligned: FloatArray = np.where(found, reference.closes[positions], np.nan)
    return aligned


def _flag_unrecorded_actions(
    dates: DateArray, adjusted: FloatArray, reference: FloatArray
) -> tuple[int, list[DataQualityFlag]]:
    """Return the first bar after the last unrecorded action, and a flag for each.

    The gap between our adjusted closes and the source's is constant until the
    source applies an action we lack. A one-day jump of the gap that stays is such
    an action. A jump that reverses is a glitch of one series, left to
    `_flag_glitches`.
    """
    moves = adjusted[1:] / adjusted[:-1]
    gap = adjusted / reference
    gap_moves = gap[1:] / gap[:-1]
    # Comparisons with NaN are False, so bars without a reference never match.
    jumps = (np.abs(moves - 1.0) > LARGE_MOVE) & (np.abs(gap_moves - 1.0) > BASIS_JUMP)

    start = 0
    flags: list[DataQualityFlag] = []
    for bar in (np.flatnonzero(jumps) + 1).tolist():
        if _reversal_bar(gap, bar) is not None:
            continue
        start = bar
        reference_move = reference[bar] / reference[bar - 1]
        detail = (
            f"The close moved {_percent(moves[bar - 1])} on {_day(dates[bar])} while "
            f"the source's adjusted close moved {_percent(reference_move)}, an "
            f"unrecorded corporate action, so this flag excludes the {_bars(bar)} "
            "before it until the action is recorded."
        )
        flags.append(
            DataQualityFlag(
                date=_day(dates[bar]), kind="unrecorded_action", detail=detail
            )
        )
    return start, flags


def _flag_glitches(
    dates: DateArray, closes: FloatArray
) -> tuple[BoolArray, list[DataQualityFlag]]:
    """Return which bars to keep, and a flag for each spike and unit step."""
    keep = np.ones(len(closes), dtype=bool)
    flags: list[DataQualityFlag] = []
    moves = closes[1:] / closes[:-1]
    resume = 0
    for bar in (np.flatnonzero(np.abs(moves - 1.0) > LARGE_MOVE) + 1).tolist():
        # Large moves inside a spike, and the one that ends it, belong to that spike.
        if bar < resume:
            continue
        move = moves[bar - 1]
        reversal = _reversal_bar(closes, bar)
        if reversal is not None:
            keep[bar:reversal] = False
            resume = reversal + 1
            flags.append(_spike_flag(dates[bar], move, closes[bar - 1], reversal - bar))
        elif _is_unit_step(move):
            keep[:bar] = False
            flags.append(_unit_step_flag(dates[bar], move, bar))
    return keep, flags


def _reversal_bar(levels: FloatArray, move_bar: int) -> int | None:
    """Return the first of the next SPIKE_MAX_BARS bars back near the level before."""
    before = levels[move_bar - 1]
    following = levels[move_bar + 1 : move_bar + 1 + SPIKE_MAX_BARS]
    returned = np.flatnonzero(np.abs(following / before - 1.0) <= SPIKE_RETURN)
    if len(returned) == 0:
        return None
    return move_bar + 1 + int(returned[0])


def _is_unit_step(move: float) -> bool:
    up = abs(move / UNIT_STEP_FACTOR - 1.0) <= UNIT_STEP_TOLERANCE
    down = abs(move * UNIT_STEP_FACTOR - 1.0) <= UNIT_STEP_TOLERANCE
    return up or down


def _spike_flag(
    day: np.datetime64, move: float, before: float, length: int
) -> DataQualityFlag:
    detail = (
        f"The close moved {_percent(move)} on {_day(day)} from {before:.6g} and came "
        f"back within {SPIKE_RETURN * 100:.0f} % of it after {_bars(length)}, so "
        f"this flag excludes the {_bars(length)} of the spike as a glitch."
    )
    return DataQualityFlag(date=_day(day), kind="spike", detail=detail)


def _unit_step_flag(day: np.datetime64, move: float, excluded: int) -> DataQualityFlag:
    detail = (
        f"The close moved by a factor of {move:.6g} on {_day(day)} and stayed there, "
        "so the source switched units and this flag excludes the "
        f"{_bars(excluded)} before it."
    )
    return DataQualityFlag(date=_day(day), kind="unit_step", detail=detail)


def _percent(ratio: float) -> str:
    return f"{(ratio - 1.0) * 100.0:+.1f} %"


def _bars(count: int) -> str:
    return "1 bar" if count == 1 else f"{count} bars"


def _day(day: np.datetime64) -> dt.date:
    return dt.date.fromordinal(_EPOCH_ORDINAL + int(day.astype(np.int64)))


def _date_array(days: list[dt.date]) -> DateArray:
    ordinals = np.array([day.toordinal() for day in days], dtype=np.int64)
    return (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
