from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from stonkmarket.domain.dips import (
    DipClass,
    DipRules,
    PriceSeries,
    dip_series,
    measure_dip,
    rolling_peak,
)

MONDAY = dt.date(2024, 1, 1)


def day(offset: int) -> dt.date:
    return MONDAY + dt.timedelta(days=offset)


def daily(closes: list[float], start: dt.date = MONDAY) -> PriceSeries:
    """Build a series with one bar every calendar day from `start`."""
    dates = [start + dt.timedelta(days=offset) for offset in range(len(closes))]
    return PriceSeries.from_bars(dates, closes)


def test_peak_includes_today() -> None:
    stock = daily([10.0, 12.0, 11.0, 13.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.peak_stock == 13.0
    assert measurement.peak_date == day(3)
    assert measurement.dip_stock == 0.0


def test_seven_day_window_over_weekend_holds_five_bars() -> None:
    # Monday 1 to Friday 5 January, then Monday 8 January. On the 8th the window
    # (1 Jan, 8 Jan] drops the first Monday and keeps Tuesday to Friday.
    dates = np.array(
        [
            "2024-01-01",
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
            "2024-01-05",
            "2024-01-08",
        ],
        dtype="datetime64[D]",
    )
    closes = np.array([100.0, 98.0, 97.0, 91.0, 92.0, 80.0])

    peaks, peak_index = rolling_peak(dates, closes, 7)

    assert peaks.tolist() == [100.0, 100.0, 100.0, 100.0, 100.0, 98.0]
    assert peak_index.tolist() == [0, 0, 0, 0, 0, 1]


def test_peak_ties_pick_most_recent_bar() -> None:
    stock = daily([100.0, 90.0, 100.0, 95.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.peak_date == day(2)


def test_dip_series_is_one_minus_close_over_peak() -> None:
    stock = daily([100.0, 80.0, 90.0, 120.0, 60.0])

    dips = dip_series(stock, 7)

    assert dips.tolist() == pytest.approx([0.0, 0.2, 0.1, 0.0, 0.5])


def test_close_exactly_ten_percent_below_peak_is_in_dip() -> None:
    stock = daily([100.0, 90.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.dip_stock == 0.1
    assert measurement.persist_days == 1


def test_benchmark_missing_stock_date_uses_its_previous_bar() -> None:
    stock = daily([100.0, 100.0, 100.0])
    # The benchmark has no bar on 3 January, the stock's as-of date.
    benchmark = PriceSeries.from_bars([day(0), day(1), day(3)], [50.0, 45.0, 40.0])

    measurement = measure_dip(stock, 7, benchmark=benchmark)

    # As of 2 January the benchmark is 45 under a peak of 50. Pairing by row
    # would wrongly read 40 on 4 January, a dip of 0.2.
    assert measurement is not None
    assert measurement.dip_mkt == pytest.approx(0.1)


def test_benchmark_extra_dates_do_not_shift_alignment() -> None:
    # The stock has no bar on 2 January; the benchmark does.
    stock = PriceSeries.from_bars([day(0), day(2), day(3)], [100.0, 100.0, 100.0])
    benchmark = daily([50.0, 40.0, 45.0, 47.0])

    measurement = measure_dip(stock, 7, benchmark=benchmark, as_of=day(2))

    # On 3 January the benchmark is 45 under a peak of 50. Pairing by row would
    # read 40 on 2 January, a dip of 0.2.
    assert measurement is not None
    assert measurement.dip_mkt == pytest.approx(0.1)


def test_benchmark_peak_uses_same_window() -> None:
    stock = daily([100.0] * 10)
    # The 200 on 1 January is outside the 7-day window as of 10 January.
    benchmark = daily([200.0] + [100.0] * 8 + [90.0])

    measurement = measure_dip(stock, 7, benchmark=benchmark)

    assert measurement is not None
    assert measurement.dip_mkt == pytest.approx(0.1)


def test_benchmark_starting_after_as_of_gives_no_market_dip() -> None:
    stock = daily([100.0, 80.0])
    benchmark = daily([50.0, 40.0], start=day(5))

    measurement = measure_dip(stock, 7, benchmark=benchmark)

    assert measurement is not None
    assert measurement.dip_mkt is None
    assert measurement.excess_dip is None


def test_from_bars_drops_missing_closes() -> None:
    dates = [day(offset) for offset in range(6)]
    closes = [1.0, 0.0, math.nan, -1.0, math.inf, 2.0]

    series = PriceSeries.from_bars(dates, closes)

    assert series.dates.tolist() == [day(0), day(5)]
    assert series.closes.tolist() == [1.0, 2.0]


def test_missing_closes_never_become_peak() -> None:
    stock = daily([100.0, math.nan, math.inf, 95.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.peak_stock == 100.0
    assert measurement.dip_stock == pytest.approx(0.05)


def test_missing_closes_never_become_current_price() -> None:
    stock = daily([100.0, 90.0, 0.0, -5.0, math.nan])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.as_of_date == day(1)
    assert measurement.current_price == 90.0


def test_duplicate_dates_keep_last_bar() -> None:
    dates = [day(1), day(0), day(1)]
    closes = [10.0, 20.0, 30.0]

    series = PriceSeries.from_bars(dates, closes)

    assert series.dates.tolist() == [day(0), day(1)]
    assert series.closes.tolist() == [20.0, 30.0]


def test_missing_duplicate_does_not_replace_valid_bar() -> None:
    dates = [day(0), day(0)]
    closes = [20.0, math.nan]

    series = PriceSeries.from_bars(dates, closes)

    assert series.closes.tolist() == [20.0]


def test_price_series_rejects_unsorted_dates() -> None:
    dates = np.array(["2024-01-02", "2024-01-01"], dtype="datetime64[D]")
    closes = np.array([1.0, 2.0])

    with pytest.raises(ValueError, match="dates must be strictly increasing"):
        PriceSeries(dates, closes)


def test_rolling_peak_rejects_empty_window() -> None:
    dates = np.array(["2024-01-01"], dtype="datetime64[D]")
    closes = np.array([1.0])

    with pytest.raises(ValueError, match="window_days must be at least 1, got 0"):
        rolling_peak(dates, closes, 0)


def test_persist_days_counts_bars_of_current_episode() -> None:
    # Dips: 0, 5 %, 15 %, 20 %, 8 %, 12 %, 15 %. The 8 % day ends the first
    # episode, so the current one is the last two bars.
    stock = daily([100.0, 95.0, 85.0, 80.0, 92.0, 88.0, 85.0])

    measurement = measure_dip(stock, 30)

    assert measurement is not None
    assert measurement.persist_days == 2


def test_percentile_ignores_current_episode() -> None:
    # 70 bars at dips 0 and 5 %, then a ten-bar episode: nine at 30 %, today 20 %.
    # Counting the episode's deeper bars would give 100 * 70 / 79 instead.
    closes = [100.0] + [95.0] * 69 + [70.0] * 9 + [80.0]
    stock = daily(closes)

    measurement = measure_dip(stock, 365)

    assert measurement is not None
    assert measurement.persist_days == 10
    assert measurement.history_count == 70
    assert measurement.dip_pctl == 100.0


def test_percentile_counts_ties_half() -> None:
    # Before today: 20 dips of 0, 10 of 5 % and 30 of 8 %. Today is 5 %, not an
    # episode, so the rank is 100 * (20 + 10 / 2) / 60.
    closes = [100.0] * 20 + [95.0] * 10 + [92.0] * 30 + [95.0]
    stock = daily(closes)

    measurement = measure_dip(stock, 365)

    assert measurement is not None
    assert measurement.dip_pctl == pytest.approx(125 / 3)


def test_fewer_than_sixty_history_dips_give_no_percentile() -> None:
    stock = daily([100.0] * 59 + [95.0])

    measurement = measure_dip(stock, 365)

    assert measurement is not None
    assert measurement.history_count == 59
    assert measurement.dip_pctl is None


def test_sixty_history_dips_give_percentile() -> None:
    stock = daily([100.0] * 60 + [95.0])

    measurement = measure_dip(stock, 365)

    assert measurement is not None
    assert measurement.history_count == 60
    assert measurement.dip_pctl == 100.0


def test_history_starts_same_day_five_calendar_years_back() -> None:
    # 2009-03-09 less five calendar years is 2004-03-09, which is left out.
    # 5 * 365 days back would be 2004-03-11 and leave out 2004-03-10 too.
    dates = [dt.date(2004, 3, 9), dt.date(2004, 3, 10), dt.date(2009, 3, 9)]
    stock = PriceSeries.from_bars(dates, [100.0, 100.0, 100.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.history_count == 1


def test_history_from_february_29_starts_february_28() -> None:
    dates = [dt.date(2019, 2, 28), dt.date(2019, 3, 1), dt.date(2024, 2, 29)]
    stock = PriceSeries.from_bars(dates, [100.0, 100.0, 100.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.history_count == 1


def test_history_dips_use_peaks_from_before_history_range() -> None:
    # The first history bar, 2004-03-10, is 50 % under the 200 of 2004-03-05,
    # which is older than the history range but inside that bar's 7-day window.
    dates = [dt.date(2004, 3, 5), dt.date(2004, 3, 10), dt.date(2009, 3, 9)]
    stock = PriceSeries.from_bars(dates, [200.0, 100.0, 100.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.history_count == 1
    assert measurement.typical_dip == pytest.approx(0.5)


def test_typical_dip_is_median_of_history_dips_of_one_percent() -> None:
    # History dips 0, 0.5 %, 2 %, 4 % and 10 %; today's is 3 %.
    stock = daily([100.0, 99.5, 98.0, 96.0, 90.0, 97.0])

    measurement = measure_dip(stock, 365)

    assert measurement is not None
    assert measurement.typical_dip == pytest.approx(0.04)
    assert measurement.dip_vs_typical == pytest.approx(0.75)


def test_typical_dip_is_none_when_history_dips_under_one_percent() -> None:
    stock = daily([100.0, 99.5, 99.8, 99.2, 97.0])

    measurement = measure_dip(stock, 365)

    assert measurement is not None
    assert measurement.typical_dip is None
    assert measurement.dip_vs_typical is None


def measure_against_benchmark(stock_close: float, benchmark_close: float) -> DipClass:
    """Classify a one-day drop from 100 against a benchmark's drop from 100."""
    stock = daily([100.0, stock_close])
    benchmark = daily([100.0, benchmark_close])
    measurement = measure_dip(stock, 7, benchmark=benchmark)
    assert measurement is not None
    assert measurement.dip_class is not None
    return measurement.dip_class


def test_dip_class_none_when_stock_not_in_dip() -> None:
    dip_class = measure_against_benchmark(95.0, 80.0)

    assert dip_class is DipClass.NONE


def test_dip_class_market_dip_when_market_fell_as_much() -> None:
    # Stock 12 %, market 10 %: the market fell at least 6 % and the excess of
    # 2 % is under 3 %.
    dip_class = measure_against_benchmark(88.0, 90.0)

    assert dip_class is DipClass.MARKET_DIP


def test_dip_class_stock_specific_when_excess_large() -> None:
    # Stock 20 %, market 2 %: an excess of 18 %.
    dip_class = measure_against_benchmark(80.0, 98.0)

    assert dip_class is DipClass.STOCK_SPECIFIC


def test_dip_class_mixed_between_thresholds() -> None:
    # Stock 15 %, market 11.5 %: an excess of 3.5 %, from 3 % up to under 4 %.
    dip_class = measure_against_benchmark(85.0, 88.5)

    assert dip_class is DipClass.MIXED


def test_dip_class_none_value_without_benchmark() -> None:
    stock = daily([100.0, 80.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.dip_class is None
    assert measurement.dip_mkt is None
    assert measurement.excess_dip is None


def test_dip_class_none_without_benchmark_when_not_in_dip() -> None:
    stock = daily([100.0, 95.0])

    measurement = measure_dip(stock, 7)

    assert measurement is not None
    assert measurement.dip_class is DipClass.NONE


def test_excess_dip_is_stock_dip_less_market_dip() -> None:
    stock = daily([100.0, 80.0])
    benchmark = daily([100.0, 98.0])

    measurement = measure_dip(stock, 7, benchmark=benchmark)

    assert measurement is not None
    assert measurement.excess_dip == pytest.approx(0.18)


def test_as_of_picks_last_bar_at_or_before_it() -> None:
    # Monday to Friday, then Monday; as of Sunday 7 January the last bar is Friday.
    dates = [day(offset) for offset in (0, 1, 2, 3, 4, 7)]
    stock = PriceSeries.from_bars(dates, [100.0, 99.0, 98.0, 97.0, 96.0, 50.0])

    measurement = measure_dip(stock, 7, as_of=day(6))

    assert measurement is not None
    assert measurement.as_of_date == day(4)
    assert measurement.current_price == 96.0


def test_as_of_ignores_later_bars() -> None:
    stock = daily([100.0, 90.0, 200.0])

    measurement = measure_dip(stock, 7, as_of=day(1))

    assert measurement is not None
    assert measurement.peak_stock == 100.0
    assert measurement.dip_stock == pytest.approx(0.1)


def test_measure_dip_returns_none_before_first_bar() -> None:
    stock = daily([100.0, 90.0], start=day(3))

    measurement = measure_dip(stock, 7, as_of=day(2))

    assert measurement is None


def test_measure_dip_returns_none_for_empty_series() -> None:
    stock = PriceSeries.from_bars([], [])

    measurement = measure_dip(stock, 7)

    assert measurement is None


def test_up_to_keeps_bars_on_or_before_date() -> None:
    stock = daily([1.0, 2.0, 3.0])

    earlier = stock.up_to(day(1))

    assert earlier.dates.tolist() == [day(0), day(1)]
    assert earlier.closes.tolist() == [1.0, 2.0]


def test_rules_change_what_counts_as_dip() -> None:
    stock = daily([100.0, 95.0])
    rules = DipRules(min_dip_abs=0.05)

    measurement = measure_dip(stock, 7, rules=rules)

    assert measurement is not None
    assert measurement.persist_days == 1
