from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.adjustment import (
    CleanSeries,
    CorporateAction,
    DataQualityFlag,
    check_action,
    clean_prices,
)
from stonkmarket.domain.dips import measure_dip
from stonkmarket.domain.errors import InvalidPriceBatchError

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=60, deadline=None, database=None)

MONDAY = dt.date(2024, 1, 1)


def day(offset: int) -> dt.date:
    return MONDAY + dt.timedelta(days=offset)


def days(count: int) -> list[dt.date]:
    return [day(offset) for offset in range(count)]


def split(offset: int, ratio: float) -> CorporateAction:
    return CorporateAction(date=day(offset), kind="split", value=ratio)


def dividend(offset: int, cash: float) -> CorporateAction:
    return CorporateAction(date=day(offset), kind="dividend", value=cash)


def action_of_kind(kind: str) -> CorporateAction:
    """Build an action of any kind, because msgspec checks types only when decoding."""
    return CorporateAction(date=day(3), kind=kind, value=2.0)  # type: ignore[arg-type]


def closes_of(clean: CleanSeries) -> list[float]:
    return [float(close) for close in clean.series.closes]


def dates_of(clean: CleanSeries) -> list[dt.date]:
    return [dt.date.fromisoformat(str(date)) for date in clean.series.dates]


def kinds_of(clean: CleanSeries) -> list[tuple[dt.date, str]]:
    return [(flag.date, flag.kind) for flag in clean.flags]


# Corporate actions


def test_split_divides_earlier_closes() -> None:
    closes = [100.0, 102.0, 51.0, 52.0]

    clean = clean_prices(days(4), closes, actions=[split(2, 2.0)])

    assert closes_of(clean) == [50.0, 51.0, 51.0, 52.0]
    assert clean.flags == []


def test_split_leaves_no_dip() -> None:
    closes = [100.0, 102.0, 51.0, 52.0]

    clean = clean_prices(days(4), closes, actions=[split(2, 2.0)])
    measurement = measure_dip(clean.series, 7, as_of=day(2))

    assert measurement is not None
    assert measurement.dip_stock == 0.0


def test_dividend_scales_earlier_closes() -> None:
    # Factor 1 - 2.00 / 100.00 = 0.98 for every close before the ex-date.
    closes = [100.0, 100.0, 98.0, 99.0]

    clean = clean_prices(days(4), closes, actions=[dividend(2, 2.0)])

    assert closes_of(clean) == pytest.approx([98.0, 98.0, 98.0, 99.0], abs=1e-12)
    assert clean.flags == []


def test_two_splits_compose() -> None:
    closes = [400.0, 200.0, 100.0]

    clean = clean_prices(days(3), closes, actions=[split(2, 2.0), split(1, 2.0)])

    assert closes_of(clean) == [100.0, 100.0, 100.0]


def test_split_and_dividend_compose() -> None:
    # The split halves day 0. The dividend's previous close on the latest basis is
    # 100.00, so its factor is 1 - 1.00 / 100.00 = 0.99 for days 0 and 1.
    closes = [200.0, 100.0, 98.0]

    clean = clean_prices(days(3), closes, actions=[split(1, 2.0), dividend(2, 1.0)])

    assert closes_of(clean) == pytest.approx([99.0, 99.0, 98.0], abs=1e-12)


def test_dividend_on_split_day() -> None:
    # The dividend is per new share, so the close before it counts as 50.00 and
    # the factor is 1 - 0.50 / 50.00 = 0.99.
    closes = [100.0, 50.5]

    clean = clean_prices(days(2), closes, actions=[split(1, 2.0), dividend(1, 0.5)])

    assert closes_of(clean) == pytest.approx([49.5, 50.5], abs=1e-12)


def test_reverse_split_multiplies_earlier_closes() -> None:
    closes = [1.0, 1.1, 11.0]

    clean = clean_prices(days(3), closes, actions=[split(2, 0.1)])

    assert closes_of(clean) == pytest.approx([10.0, 11.0, 11.0], abs=1e-12)
    assert clean.flags == []


def test_actions_outside_bars() -> None:
    # A split before the first bar changes nothing, one after the last bar
    # rebases every bar, and a dividend before the first bar has no close to
    # scale.
    actions = [split(-5, 3.0), dividend(-1, 5.0), split(10, 4.0)]

    clean = clean_prices(days(2), [40.0, 44.0], actions=actions)

    assert closes_of(clean) == [10.0, 11.0]


def test_dividend_not_below_close_rejected() -> None:
    closes = [2.0, 1.0]

    with pytest.raises(InvalidPriceBatchError) as caught:
        clean_prices(days(2), closes, actions=[dividend(1, 2.0)])

    assert caught.value.field == "actions"
    assert caught.value.message == (
        "dividend of 2.0 on 2024-01-02 is not below the close before its ex-date; "
        "check that the dividend is cash per share in the quote currency"
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(0.0, id="zero"),
        pytest.param(-2.0, id="negative"),
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="infinite"),
        pytest.param(0.000999, id="below-1-for-1000"),
        pytest.param(1000.5, id="above-1000-for-1"),
    ],
)
def test_check_action_rejects_unusable_value(value: float) -> None:
    action = CorporateAction(date=day(3), kind="split", value=value)

    with pytest.raises(InvalidPriceBatchError) as caught:
        check_action(action)

    assert caught.value.field == "actions"
    assert caught.value.message == (
        f"split on 2024-01-04 has value {value}; record a split as new shares per "
        "old share (2.0 for 2:1), from 0.001 to 1000, and a dividend as cash per "
        "share, above 0 and at most 1e+09"
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [("split", 0.001), ("split", 1000.0), ("dividend", 1e-9), ("dividend", 1e9)],
)
def test_check_action_accepts_values_at_the_bounds(kind: str, value: float) -> None:
    check_action(CorporateAction(date=day(3), kind=kind, value=value))  # type: ignore[arg-type]


def test_check_action_rejects_unknown_kind() -> None:
    action = action_of_kind("merger")

    with pytest.raises(InvalidPriceBatchError) as caught:
        check_action(action)

    assert caught.value.field == "actions"
    assert caught.value.message == (
        "corporate action on 2024-01-04 has kind 'merger'; use 'split' or 'dividend'"
    )


def test_clean_prices_checks_actions() -> None:
    with pytest.raises(InvalidPriceBatchError) as caught:
        clean_prices(days(2), [1.0, 1.0], actions=[dividend(1, -0.5)])

    assert caught.value.field == "actions"


# Missing values and the reference


def test_missing_closes_are_dropped() -> None:
    closes = [10.0, math.nan, 0.0, -1.0, 11.0]

    clean = clean_prices(days(5), closes)

    assert dates_of(clean) == [day(0), day(4)]
    assert closes_of(clean) == [10.0, 11.0]
    assert clean.flags == []


def test_empty_input_gives_empty_series() -> None:
    clean = clean_prices([], [], actions=[split(1, 2.0)], reference_closes=[])

    assert len(clean.series) == 0
    assert clean.flags == []


def test_reference_of_wrong_length_rejected() -> None:
    with pytest.raises(InvalidPriceBatchError) as caught:
        clean_prices(days(3), [1.0, 1.0, 1.0], reference_closes=[1.0, 1.0])

    assert caught.value.field == "reference_closes"
    assert caught.value.message == (
        "reference_closes has 2 values for 3 dates; give one reference close per "
        "date, None where it is missing"
    )


# Unrecorded actions


def test_unrecorded_split_is_flagged() -> None:
    closes = [100.0, 100.0, 50.0, 51.0]
    reference = [50.0, 50.0, 50.0, 51.0]

    clean = clean_prices(days(4), closes, reference_closes=reference)

    assert clean.flags == [
        DataQualityFlag(
            date=day(2),
            kind="unrecorded_action",
            detail=(
                "The close moved -50.0 % on 2024-01-03 while the source's adjusted "
                "close moved +0.0 %, an unrecorded corporate action, so this flag "
                "excludes the 2 bars before it until the action is recorded."
            ),
        )
    ]


def test_unrecorded_split_restarts_history() -> None:
    closes = [100.0, 100.0, 50.0, 51.0]
    reference = [50.0, 50.0, 50.0, 51.0]

    clean = clean_prices(days(4), closes, reference_closes=reference)

    assert dates_of(clean) == [day(2), day(3)]
    assert closes_of(clean) == [50.0, 51.0]


def test_recorded_split_with_reference_not_flagged() -> None:
    closes = [100.0, 100.0, 50.0, 51.0]
    reference = [50.0, 50.0, 50.0, 51.0]

    clean = clean_prices(
        days(4), closes, actions=[split(2, 2.0)], reference_closes=reference
    )

    assert clean.flags == []
    assert closes_of(clean) == [50.0, 50.0, 50.0, 51.0]


def test_reference_gap_aligns_by_date() -> None:
    # The reference misses day 1, so day 2's move has no reference to compare
    # with and nothing is flagged. A row-wise alignment would flag day 3.
    closes = [100.0, 100.0, 50.0, 50.0]
    reference: list[float | None] = [50.0, None, 50.0, 50.0]

    clean = clean_prices(days(4), closes, reference_closes=reference)

    assert clean.flags == []


def test_crash_shared_by_reference_kept() -> None:
    closes = [100.0, 100.0, 48.0, 47.0]
    reference = [25.0, 25.0, 12.0, 11.75]

    clean = clean_prices(days(4), closes, reference_closes=reference)

    assert clean.flags == []
    assert closes_of(clean) == closes


def test_raw_glitch_missing_from_reference_is_spike() -> None:
    # The gap to the reference jumps on day 2 and returns on day 3, so the raw
    # close glitched. It is a spike, not an unrecorded action.
    closes = [10.0, 10.0, 16.0, 10.0, 10.0]
    reference = [10.0, 10.0, 10.0, 10.0, 10.0]

    clean = clean_prices(days(5), closes, reference_closes=reference)

    assert kinds_of(clean) == [(day(2), "spike")]
    assert dates_of(clean) == [day(0), day(1), day(3), day(4)]


# Spikes, unit steps and crashes


def test_one_day_hundredfold_glitch_is_spike() -> None:
    closes = [10.0, 10.0, 1000.0, 10.0, 10.0]

    clean = clean_prices(days(5), closes)

    assert clean.flags == [
        DataQualityFlag(
            date=day(2),
            kind="spike",
            detail=(
                "The close moved +9900.0 % on 2024-01-03 from 10 and came back "
                "within 15 % of it after 1 bar, so this flag excludes the 1 bar of "
                "the spike as a glitch."
            ),
        )
    ]
    assert dates_of(clean) == [day(0), day(1), day(3), day(4)]


def test_one_day_hundredth_glitch_is_spike() -> None:
    closes = [10.0, 10.0, 0.1, 10.0]

    clean = clean_prices(days(4), closes)

    assert kinds_of(clean) == [(day(2), "spike")]
    assert closes_of(clean) == [10.0, 10.0, 10.0]


def test_three_day_spike_is_flagged() -> None:
    # +60 % on day 2, three bars up, then 10.50 on day 5, within 15 % of 10.00.
    closes = [10.0, 10.0, 16.0, 16.5, 16.0, 10.5, 10.4]

    clean = clean_prices(days(7), closes)

    assert kinds_of(clean) == [(day(2), "spike")]
    assert dates_of(clean) == [day(0), day(1), day(5), day(6)]
    assert clean.flags[0].detail == (
        "The close moved +60.0 % on 2024-01-03 from 10 and came back within 15 % "
        "of it after 3 bars, so this flag excludes the 3 bars of the spike as a "
        "glitch."
    )


def test_five_bar_spike_is_flagged() -> None:
    closes = [10.0, 16.0, 16.0, 16.0, 16.0, 16.0, 10.0]

    clean = clean_prices(days(7), closes)

    assert kinds_of(clean) == [(day(1), "spike")]
    assert dates_of(clean) == [day(0), day(6)]


def test_six_bar_rise_is_kept() -> None:
    closes = [10.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 10.0]

    clean = clean_prices(days(8), closes)

    assert clean.flags == []
    assert closes_of(clean) == closes


def test_partial_return_is_not_reversal() -> None:
    # 11.60 is 16 % above 10.00, outside the 15 % that counts as a return.
    closes = [10.0, 16.0, 11.6, 11.6]

    clean = clean_prices(days(4), closes)

    assert clean.flags == []
    assert closes_of(clean) == closes


def test_permanent_hundredfold_step_is_unit_step() -> None:
    closes = [10.0, 10.1, 1000.0, 1010.0, 1020.0, 1015.0, 1012.0, 1011.0]

    clean = clean_prices(days(8), closes)

    assert clean.flags == [
        DataQualityFlag(
            date=day(2),
            kind="unit_step",
            detail=(
                "The close moved by a factor of 99.0099 on 2024-01-03 and stayed "
                "there, so the source switched units and this flag excludes the 2 "
                "bars before it."
            ),
        )
    ]
    assert dates_of(clean) == days(8)[2:]


def test_pence_to_pounds_step_is_unit_step() -> None:
    closes = [250.0, 252.0, 2.5, 2.52, 2.51]

    clean = clean_prices(days(5), closes)

    assert kinds_of(clean) == [(day(2), "unit_step")]
    assert closes_of(clean) == [2.5, 2.52, 2.51]


def test_step_on_last_bar_is_unit_step() -> None:
    # Nothing after the step can show a reversal yet, so the earlier bars go.
    closes = [10.0, 10.0, 0.1]

    clean = clean_prices(days(3), closes)

    assert kinds_of(clean) == [(day(2), "unit_step")]
    assert closes_of(clean) == [0.1]


def test_crash_that_stays_is_kept() -> None:
    closes = [100.0, 100.0, 50.0, 49.0, 48.0, 47.0, 46.0, 45.0]

    clean = clean_prices(days(8), closes)
    measurement = measure_dip(clean.series, 30)

    assert clean.flags == []
    assert closes_of(clean) == closes
    assert measurement is not None
    assert measurement.dip_stock == pytest.approx(0.55, abs=1e-12)


def test_spike_after_unit_step() -> None:
    closes = [10.0, 1000.0, 1000.0, 1600.0, 1000.0]

    clean = clean_prices(days(5), closes)

    assert kinds_of(clean) == [(day(1), "unit_step"), (day(3), "spike")]
    assert closes_of(clean) == [1000.0, 1000.0, 1000.0]


# Properties

# Day-to-day moves stay within ±5 %, far from the 40 % that is checked.
calm_moves = st.lists(
    st.floats(min_value=0.95, max_value=1.05), min_size=2, max_size=60
)
split_ratios = st.sampled_from([2.0, 3.0, 4.0, 10.0, 0.5, 0.2, 0.1])


def calm_walk(moves: list[float]) -> list[float]:
    return list(20.0 * np.cumprod(moves))


@bounded
@given(moves=calm_moves)
def test_calm_series_passes_unchanged(moves: list[float]) -> None:
    closes = calm_walk(moves)

    clean = clean_prices(days(len(closes)), closes, reference_closes=closes)

    assert clean.flags == []
    assert closes_of(clean) == closes


@bounded
@given(moves=calm_moves, ratio=split_ratios, data=st.data())
def test_recorded_split_restores_series(
    moves: list[float], ratio: float, data: st.DataObject
) -> None:
    adjusted = calm_walk(moves)
    split_day = data.draw(st.integers(min_value=1, max_value=len(adjusted) - 1))
    raw = [
        close * ratio if offset < split_day else close
        for offset, close in enumerate(adjusted)
    ]

    clean = clean_prices(days(len(raw)), raw, actions=[split(split_day, ratio)])

    assert clean.flags == []
    assert closes_of(clean) == pytest.approx(adjusted, rel=1e-12)


@bounded
@given(moves=calm_moves, ratio=split_ratios, data=st.data())
def test_unrecorded_split_always_flagged(
    moves: list[float], ratio: float, data: st.DataObject
) -> None:
    adjusted = calm_walk(moves)
    split_day = data.draw(st.integers(min_value=1, max_value=len(adjusted) - 1))
    raw = [
        close * ratio if offset < split_day else close
        for offset, close in enumerate(adjusted)
    ]

    clean = clean_prices(days(len(raw)), raw, reference_closes=adjusted)

    assert kinds_of(clean) == [(day(split_day), "unrecorded_action")]
    assert closes_of(clean) == adjusted[split_day:]


# Real closes: AAPL and MSFT, 2000 to 2013, from the Quandl WIKI prices that the
# bokeh_sampledata package ships (public domain). Close is as traded, and
# Adj Close is adjusted for later splits and dividends too, such as Apple's 7:1
# split of 2014.

AAPL_SPLITS = [
    CorporateAction(date=dt.date(2000, 6, 21), kind="split", value=2.0),
    CorporateAction(date=dt.date(2005, 2, 28), kind="split", value=2.0),
]
MSFT_SPLITS = [CorporateAction(date=dt.date(2003, 2, 18), kind="split", value=2.0)]


@functools.cache
def real_prices(ticker: str) -> tuple[list[dt.date], list[float], list[float]]:
    """Return the dates, as-traded closes and adjusted closes of one ticker."""
    resource = importlib.resources.files("bokeh_sampledata") / "_data"
    with importlib.resources.as_file(resource / "stocks.csv.gz") as path:
        frame = pd.read_csv(path)
    rows = frame[frame["Ticker"] == ticker]
    dates = [dt.date.fromisoformat(date) for date in rows["Date"]]
    return dates, rows["Close"].tolist(), rows["Adj Close"].tolist()


def days_after(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range(count)]


@pytest.mark.parametrize(
    ("ticker", "split_day", "actions"),
    [
        pytest.param("AAPL", dt.date(2000, 6, 21), AAPL_SPLITS, id="aapl-2000"),
        pytest.param("AAPL", dt.date(2005, 2, 28), AAPL_SPLITS, id="aapl-2005"),
        pytest.param("MSFT", dt.date(2003, 2, 18), MSFT_SPLITS, id="msft-2003"),
    ],
)
@pytest.mark.parametrize("window", [7, 30])
def test_real_recorded_split_no_dip(
    ticker: str, split_day: dt.date, actions: list[CorporateAction], window: int
) -> None:
    dates, closes, _ = real_prices(ticker)

    clean = clean_prices(dates, closes, actions=actions)
    measurements = [
        measure_dip(clean.series, window, as_of=as_of)
        for as_of in days_after(split_day, 8)
    ]

    assert clean.flags == []
    for measurement in measurements:
        assert measurement is not None
        assert measurement.dip_stock < 0.10


@pytest.mark.parametrize(
    ("ticker", "split_days"),
    [
        pytest.param("AAPL", [dt.date(2000, 6, 21), dt.date(2005, 2, 28)], id="aapl"),
        pytest.param("MSFT", [dt.date(2003, 2, 18)], id="msft"),
    ],
)
def test_real_unrecorded_split_is_flagged(
    ticker: str, split_days: list[dt.date]
) -> None:
    dates, closes, adjusted = real_prices(ticker)

    clean = clean_prices(dates, closes, reference_closes=adjusted)

    assert [flag.kind for flag in clean.flags] == ["unrecorded_action"] * len(
        split_days
    )
    assert [flag.date for flag in clean.flags] == split_days
    assert dates_of(clean)[0] == split_days[-1]


def test_real_unrecorded_split_no_dip() -> None:
    dates, closes, adjusted = real_prices("MSFT")

    clean = clean_prices(dates, closes, reference_closes=adjusted)
    measurement = measure_dip(clean.series, 30, as_of=dt.date(2003, 2, 20))

    assert measurement is not None
    # 24.14 on 2003-02-20 below the 24.96 of 2003-02-18, the first bar kept.
    assert measurement.dip_stock == pytest.approx(1 - 24.14 / 24.96, abs=1e-12)


def test_real_apple_crash_stays_dip() -> None:
    dates, closes, adjusted = real_prices("AAPL")

    clean = clean_prices(dates, closes, actions=AAPL_SPLITS, reference_closes=adjusted)
    measurement = measure_dip(clean.series, 30, as_of=dt.date(2000, 9, 29))

    assert clean.flags == []
    assert measurement is not None
    # 25.75 on 2000-09-29 against the 63.44 close of 2000-09-01, both halved by
    # the 2005 split.
    assert measurement.dip_stock == pytest.approx(1 - 25.75 / 63.44, abs=1e-12)
    assert measurement.dip_stock > 0.5
