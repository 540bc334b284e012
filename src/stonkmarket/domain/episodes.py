"""Dip history: when a window's dip was entered, deepened, recovered and exited.

The events are derived from the daily dip series of one window alone, so a rebuild
from the same closes gives the same events, and a bar's dip depends only on the
bars inside its window. The rules:

- An episode is a run of consecutive bars with `dip >= min_dip_abs`. ENTERED is
  its first bar. EXITED is the first bar after it, whose dip is below
  `min_dip_abs`, so an episode still open at the last bar has no EXITED.
- DEEPENED is the first bar on which the episode's max dip reaches
  `entry_dip + k * deepen_step` for a new k = 1, 2, ..., where `entry_dip` is the
  dip on the ENTERED bar. A bar that crosses several steps at once gives one
  event. The comparison allows for float rounding of 1e-9 of a step, so a dip of
  exactly 15 % counts as one 5 % step above an entry at 10 %.
- RECOVERED is the first bar of the episode whose dip is at most half of the
  episode's max dip so far. It happens at most once per episode, so an episode
  that deepens again afterwards does not recover twice. An episode whose max dip
  stays below `2 * min_dip_abs` exits before it can recover half-way, and so has
  no RECOVERED.

Each bar gives at most one event: a DEEPENED bar is at its episode's max dip, and
a RECOVERED bar is at most half of it, so dates strictly increase.
"""

from __future__ import annotations

import datetime as dt
import enum
import math

import msgspec
import numpy as np
import numpy.typing as npt

from stonkmarket.domain.dips import dip_series
from stonkmarket.domain.series import (
    FloatArray,
    IndexArray,
    PriceSeries,
    check_window,
    rolling_peak,
)

__all__ = ["EpisodeEvent", "EpisodeEventKind", "dip_episodes"]

# 0.15 - 0.10 is 0.04999999999999999 in floats, so without this slack a dip of
# exactly 15 % would not reach one 5 % step above an entry at 10 %.
_STEP_TOLERANCE = 1e-9


class EpisodeEventKind(enum.StrEnum):
    """The kind of change to a dip episode on an event's date."""

    ENTERED = "ENTERED"
    DEEPENED = "DEEPENED"
    RECOVERED = "RECOVERED"
    EXITED = "EXITED"


# The order of the codes that `_episode_events` assigns to the kinds.
_KINDS = (
    EpisodeEventKind.ENTERED,
    EpisodeEventKind.DEEPENED,
    EpisodeEventKind.RECOVERED,
    EpisodeEventKind.EXITED,
)


class EpisodeEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One moment of a dip episode, with the numbers of that day's bar.

    Dips are fractions (0.15 is 15 % below the peak). `max_dip` is the deepest dip
    of the episode up to and including `date`. On an EXITED event it is the
    episode's final max dip, while `dip` is the exit bar's dip.
    """

    kind: EpisodeEventKind
    date: dt.date
    window: int
    dip: float
    peak: float
    close: float
    max_dip: float
    episode_start: dt.date


def dip_episodes(
    series: PriceSeries,
    window_days: int,
    *,
    min_dip_abs: float,
    deepen_step: float = 0.05,
    until: dt.date | None = None,
) -> list[EpisodeEvent]:
    """Derive the dip episode events of one window, oldest first.

    Bars dated after `until` are ignored. Raises ValueError when `window_days` is
    below 1 or when `min_dip_abs` or `deepen_step` is not a positive fraction.
    """
    check_window(window_days)
    _check_fraction("min_dip_abs", min_dip_abs)
    _check_fraction("deepen_step", deepen_step)
    if until is not None:
        series = series.up_to(until)

    # dip_series is the one place the dip formula lives, so the peaks come from a
    # second rolling_peak call instead of being derived back from the dips.
    dips = dip_series(series, window_days)
    peaks, _ = rolling_peak(series.dates, series.closes, window_days)
    bars, kinds, max_dips, starts = _episode_events(dips, min_dip_abs, deepen_step)

    dates = series.dates[bars].tolist()
    episode_starts = series.dates[starts].tolist()
    return [
        EpisodeEvent(
            kind=_KINDS[kind],
            date=date,
            window=window_days,
            dip=dip,
            peak=peak,
            close=close,
            max_dip=max_dip,
            episode_start=episode_start,
        )
        for kind, date, dip, peak, close, max_dip, episode_start in zip(
            kinds.tolist(),
            dates,
            dips[bars].tolist(),
            peaks[bars].tolist(),
            series.closes[bars].tolist(),
            max_dips.tolist(),
            episode_starts,
            strict=True,
        )
    ]


def _check_fraction(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(
            f"{name} must be a positive fraction such as 0.05 for 5 %, got {value}"
        )


def _episode_events(
    dips: FloatArray, min_dip_abs: float, deepen_step: float
) -> tuple[IndexArray, IndexArray, FloatArray, IndexArray]:
    """Find every event in the dip series, ordered by bar.

    Returns four arrays with one entry per event: the bar, the index of its kind
    in `_KINDS`, the episode's max dip so far, and the episode's first bar.
    """
    in_dip = dips >= min_dip_abs
    starts, stops = _episode_bounds(in_dip)
    bars = np.flatnonzero(in_dip)
    episode_of_bar = np.repeat(np.arange(len(starts)), stops - starts)
    running_max = _running_max_per_episode(dips[bars], episode_of_bar)

    entry_dips = dips[starts][episode_of_bar]
    deepened = _deepened(running_max, entry_dips, deepen_step)
    recovered = _first_per_episode(dips[bars] <= running_max / 2.0, episode_of_bar)
    # Episode e's bars end at position sum(lengths of episodes 0..e) - 1 of `bars`.
    final_max = running_max[np.cumsum(stops - starts) - 1]
    exited = stops < len(dips)

    event_bars = np.concatenate(
        [starts, bars[deepened], bars[recovered], stops[exited]]
    )
    kinds = np.repeat(
        np.arange(len(_KINDS)),
        [len(starts), len(deepened), len(recovered), int(exited.sum())],
    )
    max_dips = np.concatenate(
        [
            dips[starts],
            running_max[deepened],
            running_max[recovered],
            final_max[exited],
        ]
    )
    episodes = np.concatenate(
        [
            np.arange(len(starts)),
            episode_of_bar[deepened],
            episode_of_bar[recovered],
            np.flatnonzero(exited),
        ]
    )
    order = np.argsort(event_bars, kind="stable")
    return event_bars[order], kinds[order], max_dips[order], starts[episodes[order]]


def _episode_bounds(in_dip: npt.NDArray[np.bool_]) -> tuple[IndexArray, IndexArray]:
    """Return each run of True's first index and the index just past its end."""
    edges = np.diff(in_dip.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return starts, stops


def _running_max_per_episode(
    episode_dips: FloatArray, episode_of_bar: IndexArray
) -> FloatArray:
    """Return the max dip of each bar's episode up to that bar.

    Each dip is replaced by its rank among the distinct dips, and episode e's
    ranks are shifted into [e * m, (e + 1) * m). One cumulative max over these
    integers then restarts at every episode, and it is exact, unlike shifting the
    float dips themselves.
    """
    distinct, ranks = np.unique(episode_dips, return_inverse=True)
    offsets = episode_of_bar * len(distinct)
    max_ranks = np.maximum.accumulate(ranks + offsets) - offsets
    running_max: FloatArray = distinct[max_ranks]
    return running_max


def _deepened(
    running_max: FloatArray, entry_dips: FloatArray, deepen_step: float
) -> IndexArray:
    """Return the positions where the episode's max dip reaches a new step."""
    steps = np.floor((running_max - entry_dips) / deepen_step + _STEP_TOLERANCE)
    # An episode's first bar is at step 0, never above the step before it, so a
    # rise between the last bar of one episode and the next is impossible.
    return np.flatnonzero(np.diff(steps, prepend=0.0) > 0.0)


def _first_per_episode(
    hits: npt.NDArray[np.bool_], episode_of_bar: IndexArray
) -> IndexArray:
    """Return the position of the first hit of every episode that has one."""
    positions = np.flatnonzero(hits)
    _, first = np.unique(episode_of_bar[positions], return_index=True)
    first_positions: IndexArray = positions[first]
    return first_positions
