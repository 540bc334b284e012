from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.dips import WINDOWS, PriceSeries, dip_series
from stonkmarket.domain.episodes import EpisodeEvent, EpisodeEventKind, dip_episodes
from stonkmarket.infrastructure.prices.sample import SamplePriceSource

ENTERED = EpisodeEventKind.ENTERED
DEEPENED = EpisodeEventKind.DEEPENED
RECOVERED = EpisodeEventKind.RECOVERED
EXITED = EpisodeEventKind.EXITED

MONDAY = dt.date(2024, 1, 1)

# Every hand-worked series below peaks at 100, so a close of 84 is a dip of
# exactly 0.16, because (100 - 84) / 100 rounds to the same float as the literal.
DIP_CLOSES = [100.0, 90.0, 84.0, 86.0, 79.0, 75.0, 80.0, 88.0, 85.0, 95.0, 100.0]


def day(offset: int) -> dt.date:
    return MONDAY + dt.timedelta(days=offset)


def daily(closes: list[float]) -> PriceSeries:
    """Build a series with one bar every calendar day from MONDAY."""
    return PriceSeries.from_bars([day(i) for i in range(len(closes))], closes)


def event(
    kind: EpisodeEventKind,
    offset: int,
    close: float,
    max_dip: float,
    start: int,
    *,
    peak: float = 100.0,
    window: int = 30,
) -> EpisodeEvent:
    """Build the expected event of a hand-worked series."""
    return EpisodeEvent(
        kind=kind,
        date=day(offset),
        window=window,
        dip=(peak - close) / peak,
        peak=peak,
        close=close,
        max_dip=max_dip,
        episode_start=day(start),
    )


def test_single_dip_full_history() -> None:
    stock = daily(DIP_CLOSES)

    events = dip_episodes(stock, 30, min_dip_abs=0.10, deepen_step=0.05)

    # The entry is at 10 %, so the steps are at 15, 20 and 25 %. Day 5 is exactly
    # 25 %, and day 7 is the first dip of at most half the max of 25 %.
    assert events == [
        event(ENTERED, 1, 90.0, 0.10, 1),
        event(DEEPENED, 2, 84.0, 0.16, 1),
        event(DEEPENED, 4, 79.0, 0.21, 1),
        event(DEEPENED, 5, 75.0, 0.25, 1),
        event(RECOVERED, 7, 88.0, 0.25, 1),
        event(EXITED, 9, 95.0, 0.25, 1),
    ]


def test_dip_numbers_are_fractions() -> None:
    stock = daily(DIP_CLOSES)

    events = dip_episodes(stock, 30, min_dip_abs=0.10)

    deepest = events[3]
    assert deepest.kind == DEEPENED
    assert deepest.dip == 0.25
    assert deepest.peak == 100.0
    assert deepest.close == 75.0


def test_open_episode_has_no_exit() -> None:
    stock = daily([100.0, 95.0, 88.0, 89.0])

    events = dip_episodes(stock, 30, min_dip_abs=0.10)

    assert events == [event(ENTERED, 2, 88.0, 0.12, 2)]


def test_two_episodes_in_a_row() -> None:
    stock = daily([100.0, 88.0, 97.0, 100.0, 89.0, 91.0, 99.0])

    events = dip_episodes(stock, 30, min_dip_abs=0.10)

    assert events == [
        event(ENTERED, 1, 88.0, 0.12, 1),
        event(EXITED, 2, 97.0, 0.12, 1),
        event(ENTERED, 4, 89.0, 0.11, 4),
        event(EXITED, 5, 91.0, 0.11, 4),
    ]


def test_exit_before_halfway_skips_recovered() -> None:
    # The max dip is 20 %, so recovering needs a dip of 10 % or less inside the
    # episode. The next day is 15 %, and the exit day's 5 % is already outside.
    stock = daily([100.0, 80.0, 85.0, 95.0])

    events = dip_episodes(stock, 30, min_dip_abs=0.10)

    assert events == [
        event(ENTERED, 1, 80.0, 0.20, 1),
        event(EXITED, 3, 95.0, 0.20, 1),
    ]


def test_two_steps_in_one_day() -> None:
    # 10 % to 22 % crosses the steps at 15 % and 20 % on the same day.
    stock = daily([100.0, 90.0, 78.0, 100.0])

    events = dip_episodes(stock, 30, min_dip_abs=0.10, deepen_step=0.05)

    assert events == [
        event(ENTERED, 1, 90.0, 0.10, 1),
        event(DEEPENED, 2, 78.0, 0.22, 1),
        event(EXITED, 3, 100.0, 0.22, 1),
    ]


def test_recovered_only_once() -> None:
    # Day 3 recovers half of 30 %, day 4 deepens to 40 %, and day 5 is back at
    # 15 %, under half of 40 %, but the episode has already recovered.
    stock = daily([100.0, 90.0, 70.0, 85.0, 60.0, 85.0])

    events = dip_episodes(stock, 30, min_dip_abs=0.10, deepen_step=0.05)

    assert [(e.kind, e.date) for e in events] == [
        (ENTERED, day(1)),
        (DEEPENED, day(2)),
        (RECOVERED, day(3)),
        (DEEPENED, day(4)),
    ]


def test_peak_leaving_window_ends_episode() -> None:
    # On day 7 the 7-day window (day 0, day 7] no longer contains the close of 100.
    stock = daily([100.0] + [90.0] * 7)

    events = dip_episodes(stock, 7, min_dip_abs=0.10)

    assert events == [
        event(ENTERED, 1, 90.0, 0.10, 1, window=7),
        event(EXITED, 7, 90.0, 0.10, 1, peak=90.0, window=7),
    ]


def test_until_ignores_later_bars() -> None:
    stock = daily(DIP_CLOSES)

    events = dip_episodes(stock, 30, min_dip_abs=0.10, until=day(5))

    assert events == [
        event(ENTERED, 1, 90.0, 0.10, 1),
        event(DEEPENED, 2, 84.0, 0.16, 1),
        event(DEEPENED, 4, 79.0, 0.21, 1),
        event(DEEPENED, 5, 75.0, 0.25, 1),
    ]


def test_until_before_first_bar() -> None:
    stock = daily(DIP_CLOSES)

    events = dip_episodes(stock, 30, min_dip_abs=0.10, until=day(-1))

    assert events == []


def test_empty_series_has_no_events() -> None:
    stock = PriceSeries.from_bars([], [])

    events = dip_episodes(stock, 30, min_dip_abs=0.10)

    assert events == []


@pytest.mark.parametrize("min_dip_abs", [0.0, -0.1, math.nan, math.inf])
def test_min_dip_must_be_positive(min_dip_abs: float) -> None:
    stock = daily(DIP_CLOSES)

    with pytest.raises(ValueError) as raised:
        dip_episodes(stock, 30, min_dip_abs=min_dip_abs)

    assert str(raised.value) == (
        "min_dip_abs must be a positive fraction such as 0.05 for 5 %, "
        f"got {min_dip_abs}"
    )


def test_deepen_step_must_be_positive() -> None:
    stock = daily(DIP_CLOSES)

    with pytest.raises(ValueError) as raised:
        dip_episodes(stock, 30, min_dip_abs=0.10, deepen_step=0.0)

    assert str(raised.value) == (
        "deepen_step must be a positive fraction such as 0.05 for 5 %, got 0.0"
    )


def test_window_must_be_positive() -> None:
    stock = daily(DIP_CLOSES)

    with pytest.raises(ValueError) as raised:
        dip_episodes(stock, 0, min_dip_abs=0.10)

    assert str(raised.value) == "window_days must be at least 1, got 0"


# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=60, deadline=None, database=None)

START = np.datetime64("2000-01-03", "D")

# A few fixed closes make ties and exact step crossings common.
closes = st.one_of(
    st.sampled_from([50.0, 75.0, 90.0, 100.0]),
    st.floats(min_value=1.0, max_value=200.0, allow_nan=False),
)
windows = st.one_of(st.sampled_from(WINDOWS), st.integers(min_value=1, max_value=60))
min_dips = st.one_of(
    st.sampled_from([0.05, 0.10, 0.25]),
    st.floats(min_value=0.01, max_value=0.6),
)
steps = st.one_of(
    st.sampled_from([0.05, 0.10]),
    st.floats(min_value=0.01, max_value=0.3),
)


@st.composite
def price_series(draw: st.DrawFn) -> PriceSeries:
    """Draw up to 150 bars with gaps of one to five calendar days between them."""
    gaps = draw(st.lists(st.integers(1, 5), min_size=1, max_size=150))
    values = draw(st.lists(closes, min_size=len(gaps), max_size=len(gaps)))
    dates = START + np.cumsum(gaps).astype("timedelta64[D]")
    return PriceSeries(dates, np.array(values))


def events_bar_by_bar(
    series: PriceSeries, window_days: int, min_dip_abs: float, deepen_step: float
) -> list[EpisodeEvent]:
    """Apply the episode rules one bar at a time, as a second method."""
    dips = dip_series(series, window_days).tolist()
    closes = series.closes.tolist()
    dates = series.dates.tolist()
    events: list[EpisodeEvent] = []
    start: dt.date | None = None
    entry_dip = max_dip = 0.0
    step = 0
    recovered = False
    for date, close, dip in zip(dates, closes, dips, strict=True):
        kind = None
        if dip >= min_dip_abs and start is None:
            kind, start, entry_dip, max_dip = ENTERED, date, dip, dip
            step, recovered = 0, False
        elif dip >= min_dip_abs:
            max_dip = max(max_dip, dip)
            reached = math.floor((max_dip - entry_dip) / deepen_step + 1e-9)
            if reached > step:
                kind, step = DEEPENED, reached
            elif not recovered and dip <= max_dip / 2:
                kind, recovered = RECOVERED, True
        elif start is not None:
            kind = EXITED
        if kind is not None and start is not None:
            events.append(
                EpisodeEvent(
                    kind=kind,
                    date=date,
                    window=window_days,
                    dip=dip,
                    peak=close / (1.0 - dip),
                    close=close,
                    max_dip=max_dip,
                    episode_start=start,
                )
            )
        if kind == EXITED:
            start = None
    return events


def fields_without_peak(event: EpisodeEvent) -> tuple[object, ...]:
    return (
        event.kind,
        event.date,
        event.window,
        event.dip,
        event.close,
        event.max_dip,
        event.episode_start,
    )


@bounded
@given(price_series(), windows, min_dips, steps)
def test_episodes_match_bar_by_bar_rules(
    stock: PriceSeries, window_days: int, min_dip_abs: float, deepen_step: float
) -> None:
    expected = events_bar_by_bar(stock, window_days, min_dip_abs, deepen_step)

    events = dip_episodes(
        stock, window_days, min_dip_abs=min_dip_abs, deepen_step=deepen_step
    )

    # The loop recovers the peak from the dip, so only the peak is compared loosely.
    assert [e.peak for e in events] == pytest.approx([e.peak for e in expected])
    assert [fields_without_peak(e) for e in events] == [
        fields_without_peak(e) for e in expected
    ]


@bounded
@given(price_series(), windows, min_dips, steps)
def test_episodes_open_and_close_in_turn(
    stock: PriceSeries, window_days: int, min_dip_abs: float, deepen_step: float
) -> None:
    events = dip_episodes(
        stock, window_days, min_dip_abs=min_dip_abs, deepen_step=deepen_step
    )

    open_start: dt.date | None = None
    recovered = False
    for e in events:
        if e.kind == ENTERED:
            assert open_start is None
            assert e.episode_start == e.date
            assert e.max_dip == e.dip
            open_start, recovered = e.date, False
        else:
            assert open_start is not None
            assert e.episode_start == open_start
        if e.kind == RECOVERED:
            assert not recovered
            recovered = True
        if e.kind == EXITED:
            assert e.dip < min_dip_abs
            open_start = None
        else:
            assert e.dip >= min_dip_abs


@bounded
@given(price_series(), windows, min_dips, steps)
def test_event_dates_strictly_increase(
    stock: PriceSeries, window_days: int, min_dip_abs: float, deepen_step: float
) -> None:
    events = dip_episodes(
        stock, window_days, min_dip_abs=min_dip_abs, deepen_step=deepen_step
    )

    dates = [e.date for e in events]
    assert all(earlier < later for earlier, later in itertools.pairwise(dates))


@bounded
@given(price_series(), windows, min_dips, steps)
def test_max_dip_never_falls_within_episode(
    stock: PriceSeries, window_days: int, min_dip_abs: float, deepen_step: float
) -> None:
    events = dip_episodes(
        stock, window_days, min_dip_abs=min_dip_abs, deepen_step=deepen_step
    )

    for earlier, later in itertools.pairwise(events):
        if later.episode_start == earlier.episode_start:
            assert later.max_dip >= earlier.max_dip
    for e in events:
        if e.kind != EXITED:
            assert e.max_dip >= e.dip


@bounded
@given(price_series(), windows, min_dips, steps, st.data())
def test_older_bars_do_not_change_later_events(
    stock: PriceSeries,
    window_days: int,
    min_dip_abs: float,
    deepen_step: float,
    data: st.DataObject,
) -> None:
    cut = data.draw(st.integers(min_value=1, max_value=len(stock)))
    recent = PriceSeries(stock.dates[cut:], stock.closes[cut:])
    # Bars dated from the last dropped bar + window on have the same window in
    # both series, so their dips agree, and the first of them outside a dip ends
    # any episode that the dropped bars could have changed.
    dips = dip_series(stock, window_days)
    same_window = stock.dates >= stock.dates[cut - 1] + np.timedelta64(window_days, "D")
    resets = np.flatnonzero(same_window & (dips < min_dip_abs))
    settled_after = stock.dates[resets[0]] if resets.size else stock.dates[-1]

    full = dip_episodes(
        stock, window_days, min_dip_abs=min_dip_abs, deepen_step=deepen_step
    )
    partial = dip_episodes(
        recent, window_days, min_dip_abs=min_dip_abs, deepen_step=deepen_step
    )

    assert [e for e in full if e.date > settled_after] == [
        e for e in partial if e.date > settled_after
    ]


@pytest.fixture(scope="module")
def sample_sp500() -> PriceSeries:
    bars = SamplePriceSource().fetch("^GSPC")
    return PriceSeries.from_bars(bars.dates, bars.closes)


def pandas_dips(stock: PriceSeries, window_days: int) -> pd.Series[float]:
    """Compute the dips with pandas' time-based rolling max, as a second method."""
    closes = pd.Series(stock.closes, index=pd.DatetimeIndex(stock.dates))
    peaks = closes.rolling(f"{window_days}D").max()
    return 1.0 - closes / peaks


@pytest.mark.slow
def test_sample_sp500_2008_crash_episode(sample_sp500: PriceSeries) -> None:
    dips = pandas_dips(sample_sp500, 365)
    # The crash episode is the run of 10 % dips that contains the last trading day
    # of 2008. It starts on the bar after the last bar below 10 % before it.
    up_to_end = dips[:"2008-12-31"]
    last_below_before = up_to_end[up_to_end < 0.10].index[-1]
    expected_entered = dips[last_below_before:].index[1].date()
    from_end = dips["2008-12-31":]
    expected_exited = from_end[from_end < 0.10].index[0].date()

    events = dip_episodes(sample_sp500, 365, min_dip_abs=0.10)

    crash = [e for e in events if e.episode_start == dt.date(2008, 5, 21)]
    assert crash[0].kind == ENTERED
    assert crash[0].date == dt.date(2008, 5, 21)
    assert crash[0].date == expected_entered
    assert crash[-1].kind == EXITED
    assert crash[-1].date == dt.date(2009, 9, 28)
    assert crash[-1].date == expected_exited


@pytest.mark.slow
def test_sample_sp500_episodes_match_pandas(sample_sp500: PriceSeries) -> None:
    in_dip = (pandas_dips(sample_sp500, 365) >= 0.10).astype(int).diff()
    expected_entered = [stamp.date() for stamp in in_dip.index[in_dip == 1]]
    expected_exited = [stamp.date() for stamp in in_dip.index[in_dip == -1]]

    events = dip_episodes(sample_sp500, 365, min_dip_abs=0.10)

    assert [e.date for e in events if e.kind == ENTERED] == expected_entered
    assert [e.date for e in events if e.kind == EXITED] == expected_exited
