"""The normaliser on hand-written `Ticker.info` dictionaries, and the aggregate.

The dictionaries follow the shape yfinance 1.x returns from Yahoo's quote
summary; their numbers are invented round values, not recorded prices.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from eventsourcing.domain import Aggregate

from stonkmarket.domain.errors import InvalidFundamentalsError
from stonkmarket.domain.fundamentals import (
    FundamentalMetrics,
    NormalisedFundamentals,
    normalise_info,
)
from stonkmarket.domain.fundamentals_history import Fundamentals, fundamentals_id

APPLE_LIKE: dict[str, Any] = {
    "symbol": "AAPL",
    "quoteType": "EQUITY",
    "currency": "USD",
    "financialCurrency": "USD",
    "longName": "Apple Inc.",
    "currentPrice": 200.0,
    "regularMarketPrice": 200.0,
    "previousClose": 198.5,
    "marketCap": 3_000_000_000_000,
    "averageVolume": 50_000_000,
    "profitMargins": 0.24,
    "operatingMargins": 0.31,
    "grossMargins": 0.46,
    "returnOnEquity": 1.5,
    "returnOnAssets": 0.22,
    "debtToEquity": 150.0,
    "currentRatio": 0.87,
    "freeCashflow": 90_000_000_000,
    "operatingCashflow": 120_000_000_000,
    "totalRevenue": 400_000_000_000,
    "totalDebt": 100_000_000_000,
    "revenueGrowth": 0.05,
    "earningsGrowth": 0.1,
    "dividendYield": 0.5,
    "trailingAnnualDividendYield": 0.005,
}

# Yahoo gives banks no current ratio, debt to equity or free cash flow.
BANK_LIKE: dict[str, Any] = {
    "symbol": "JPM",
    "quoteType": "EQUITY",
    "currency": "USD",
    "currentPrice": 250.0,
    "marketCap": 700_000_000_000,
    "averageVolume": 9_000_000,
    "profitMargins": 0.33,
    "operatingMargins": 0.42,
    "returnOnEquity": 0.16,
    "returnOnAssets": 0.013,
    "operatingCashflow": -40_000_000_000,
    "totalRevenue": 160_000_000_000,
    "revenueGrowth": 0.12,
    "earningsGrowth": 0.18,
    "trailingAnnualDividendYield": 0.02,
}

ETF_LIKE: dict[str, Any] = {
    "symbol": "SPY",
    "quoteType": "ETF",
    "currency": "USD",
    "regularMarketPrice": 500.0,
    "previousClose": 498.0,
    "averageVolume": 70_000_000,
    "navPrice": 500.1,
    "totalAssets": 500_000_000_000,
    "yield": 0.0121,
    "trailingAnnualDividendYield": 0.012,
}

# Latest annual values, keyed by yfinance's statement line names.
STATEMENTS: dict[str, Any] = {
    "Total Revenue": 400_000_000_000,
    "Operating Income": 120_000_000_000,
    "Net Income": 100_000_000_000,
    "Stockholders Equity": 50_000_000_000,
    "Total Assets": 400_000_000_000,
    "Total Debt": 75_000_000_000,
    "Current Assets": 150_000_000_000,
    "Current Liabilities": 125_000_000_000,
    "Free Cash Flow": 60_000_000_000,
    "Operating Cash Flow": 100_000_000_000,
}


def snapshot(**metrics: float | None) -> NormalisedFundamentals:
    return NormalisedFundamentals(metrics=FundamentalMetrics(**metrics), notes={})


def fundamentals_with(*caps: tuple[str, float]) -> Fundamentals:
    """Return AAPL fundamentals with one market-cap snapshot per (ISO date, cap)."""
    fundamentals = Fundamentals("AAPL")
    for day, cap in caps:
        fundamentals.record(
            snapshot(market_cap=cap),
            as_of=dt.date.fromisoformat(day),
            source="yfinance",
            actor="system:fundamentals",
        )
    fundamentals.collect_events()
    return fundamentals


def test_apple_like_info_is_normalised() -> None:
    result = normalise_info(APPLE_LIKE)

    metrics = result.metrics
    assert metrics.profit_margin == 0.24
    assert metrics.operating_margin == 0.31
    assert metrics.return_on_equity == 1.5
    assert metrics.return_on_assets == 0.22
    assert metrics.debt_to_equity == 1.5
    assert metrics.current_ratio == 0.87
    # 9e10 free cash flow / 3e12 market cap; 1.2e11 operating cash / 4e11 revenue.
    assert metrics.free_cash_flow_yield == pytest.approx(0.03)
    assert metrics.operating_cash_flow_margin == pytest.approx(0.3)
    assert metrics.revenue_growth == 0.05
    assert metrics.earnings_growth == 0.1
    assert metrics.market_cap == 3e12
    # 5e7 shares a day x 200.0 current price.
    assert metrics.average_dollar_volume == 1e10
    assert metrics.dividend_yield == 0.005
    assert result.notes == {}


def test_debt_to_equity_percent_becomes_ratio() -> None:
    info = {"debtToEquity": 150.0}

    result = normalise_info(info)

    assert result.metrics.debt_to_equity == 1.5


def test_bank_without_current_ratio_has_no_note() -> None:
    result = normalise_info(BANK_LIKE)

    assert result.metrics.current_ratio is None
    assert result.metrics.debt_to_equity is None
    assert result.metrics.free_cash_flow_yield is None
    assert result.notes == {}


def test_bank_negative_cash_flow_is_kept() -> None:
    result = normalise_info(BANK_LIKE)

    # -4e10 operating cash flow / 1.6e11 revenue.
    assert result.metrics.operating_cash_flow_margin == pytest.approx(-0.25)


def test_etf_info_leaves_company_metrics_none() -> None:
    result = normalise_info(ETF_LIKE)

    # 7e7 shares a day x 500.0, the regular market price (no current price).
    expected = FundamentalMetrics(average_dollar_volume=3.5e10, dividend_yield=0.012)
    assert result.metrics == expected
    assert result.notes == {}


def test_empty_info_gives_empty_metrics() -> None:
    result = normalise_info({})

    assert result.metrics == FundamentalMetrics()
    assert result.notes == {}


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (math.nan, "profitMargins is NaN"),
        (math.inf, "profitMargins is infinite"),
        (-math.inf, "profitMargins is infinite"),
        ("NaN", "profitMargins is NaN"),
        ("Infinity", "profitMargins is infinite"),
        ("n/a", "profitMargins is not a number: 'n/a'"),
        ("", "profitMargins is not a number: ''"),
        (None, "profitMargins is null"),
        (True, "profitMargins is a bool (True), not a number"),
        ([0.2], "profitMargins is not a number: [0.2]"),
        (10**400, "profitMargins is too large for a float"),
    ],
)
def test_unusable_value_becomes_none_with_note(raw: object, note: str) -> None:
    info = {"profitMargins": raw}

    result = normalise_info(info)

    assert result.metrics.profit_margin is None
    assert result.notes == {"profit_margin": note}


def test_numeric_string_is_read_as_number() -> None:
    info = {"profitMargins": "0.25"}

    result = normalise_info(info)

    assert result.metrics.profit_margin == 0.25
    assert result.notes == {}


def test_integer_is_read_as_float() -> None:
    info = {"marketCap": 2_000_000_000}

    result = normalise_info(info)

    assert result.metrics.market_cap == 2e9
    assert isinstance(result.metrics.market_cap, float)


def test_zero_growth_stays_zero() -> None:
    info = {"revenueGrowth": 0.0}

    result = normalise_info(info)

    assert result.metrics.revenue_growth == 0.0


def test_negative_market_cap_is_rejected() -> None:
    info = {"marketCap": -250}

    result = normalise_info(info)

    assert result.metrics.market_cap is None
    assert result.notes == {
        "market_cap": "marketCap is -250, but a market cap must be above zero"
    }


def test_zero_market_cap_is_rejected() -> None:
    info = {"marketCap": 0}

    result = normalise_info(info)

    assert result.metrics.market_cap is None
    assert result.notes == {
        "market_cap": "marketCap is 0, but a market cap must be above zero"
    }


def test_negative_average_volume_is_rejected() -> None:
    info = {"averageVolume": -5, "currentPrice": 10.0}

    result = normalise_info(info)

    assert result.metrics.average_dollar_volume is None
    assert result.notes == {
        "average_dollar_volume": "averageVolume is -5, but a volume cannot be negative"
    }


def test_zero_average_volume_gives_zero_dollars() -> None:
    info = {"averageVolume": 0, "currentPrice": 10.0}

    result = normalise_info(info)

    assert result.metrics.average_dollar_volume == 0.0


def test_negative_current_ratio_is_rejected() -> None:
    info = {"currentRatio": -0.5}

    result = normalise_info(info)

    assert result.metrics.current_ratio is None
    assert result.notes == {
        "current_ratio": "currentRatio is -0.5, but a current ratio cannot be negative"
    }


def test_negative_price_falls_back_to_next() -> None:
    info = {"averageVolume": 1000, "currentPrice": -3.0, "regularMarketPrice": 4.0}

    result = normalise_info(info)

    assert result.metrics.average_dollar_volume == 4000.0
    assert result.notes == {
        "average_dollar_volume": "currentPrice is -3, but a price must be above zero"
    }


def test_previous_close_is_last_price_fallback() -> None:
    info = {"averageVolume": 1000, "previousClose": 2.5}

    result = normalise_info(info)

    assert result.metrics.average_dollar_volume == 2500.0


def test_volume_without_price_gives_none() -> None:
    info = {"averageVolume": 1000, "currentPrice": "n/a"}

    result = normalise_info(info)

    assert result.metrics.average_dollar_volume is None
    assert result.notes == {
        "average_dollar_volume": "currentPrice is not a number: 'n/a'"
    }


def test_negative_debt_to_equity_is_rejected() -> None:
    info = {"debtToEquity": -250.0}

    result = normalise_info(info)

    assert result.metrics.debt_to_equity is None
    assert result.notes == {
        "debt_to_equity": "debtToEquity is -250, which means negative equity, "
        "so the ratio is not comparable"
    }


def test_statements_fill_missing_ratios() -> None:
    info = {"marketCap": 3_000_000_000_000}

    result = normalise_info(info, STATEMENTS)

    metrics = result.metrics
    assert metrics.profit_margin == pytest.approx(0.25)  # 1e11 / 4e11
    assert metrics.operating_margin == pytest.approx(0.30)  # 1.2e11 / 4e11
    assert metrics.return_on_equity == pytest.approx(2.0)  # 1e11 / 5e10
    assert metrics.return_on_assets == pytest.approx(0.25)  # 1e11 / 4e11
    assert metrics.debt_to_equity == pytest.approx(1.5)  # 7.5e10 / 5e10
    assert metrics.current_ratio == pytest.approx(1.2)  # 1.5e11 / 1.25e11
    assert metrics.free_cash_flow_yield == pytest.approx(0.02)  # 6e10 / 3e12
    assert metrics.operating_cash_flow_margin == pytest.approx(0.25)  # 1e11 / 4e11
    assert result.notes == {}


def test_statements_unused_when_info_has_value() -> None:
    result = normalise_info(APPLE_LIKE, STATEMENTS)

    assert result.metrics.profit_margin == 0.24
    assert result.metrics.debt_to_equity == 1.5
    assert result.metrics.current_ratio == 0.87
    assert result.metrics.free_cash_flow_yield == pytest.approx(0.03)
    assert result.metrics.operating_cash_flow_margin == pytest.approx(0.3)


def test_statements_never_fill_growth_or_size() -> None:
    result = normalise_info({}, STATEMENTS)

    assert result.metrics.revenue_growth is None
    assert result.metrics.market_cap is None
    assert result.metrics.free_cash_flow_yield is None


def test_statements_replace_rejected_info_value() -> None:
    info = {"profitMargins": "NaN"}

    result = normalise_info(info, STATEMENTS)

    assert result.metrics.profit_margin == pytest.approx(0.25)
    assert result.notes == {"profit_margin": "profitMargins is NaN"}


def test_statement_zero_divisor_is_rejected() -> None:
    statements = {"Net Income": 5.0, "Total Revenue": 0}

    result = normalise_info({}, statements)

    assert result.metrics.profit_margin is None
    assert result.notes == {
        "profit_margin": "statement line 'Total Revenue' is 0, "
        "but a divisor must be above zero"
    }


def test_negative_equity_gives_no_statement_ratio() -> None:
    statements = {"Total Debt": 10.0, "Stockholders Equity": -4.0}

    result = normalise_info({}, statements)

    assert result.metrics.debt_to_equity is None
    assert result.notes == {
        "debt_to_equity": "statement line 'Stockholders Equity' is -4, "
        "but a divisor must be above zero"
    }


def test_both_rejections_are_noted() -> None:
    info = {"profitMargins": math.nan}
    statements = {"Net Income": "n/a", "Total Revenue": 4.0}

    result = normalise_info(info, statements)

    assert result.metrics.profit_margin is None
    assert result.notes["profit_margin"] == (
        "profitMargins is NaN; statement line 'Net Income' is not a number: 'n/a'"
    )


def test_operating_cash_margin_uses_one_source() -> None:
    # Info has the cash flow but no revenue, so both come from the statements.
    info = {"operatingCashflow": 7.0}
    statements = {"Operating Cash Flow": 30.0, "Total Revenue": 120.0}

    result = normalise_info(info, statements)

    assert result.metrics.operating_cash_flow_margin == 0.25


def test_free_cash_flow_yield_needs_market_cap() -> None:
    info = {"freeCashflow": 9e10}

    result = normalise_info(info)

    assert result.metrics.free_cash_flow_yield is None
    assert result.notes == {}


def test_trailing_dividend_yield_is_preferred() -> None:
    info = {"trailingAnnualDividendYield": 0.0044, "dividendYield": 0.5}

    result = normalise_info(info)

    assert result.metrics.dividend_yield == 0.0044


def test_dividend_yield_above_point_two_is_percent() -> None:
    info = {"dividendYield": 0.44}

    result = normalise_info(info)

    assert result.metrics.dividend_yield == pytest.approx(0.0044)


def test_small_dividend_yield_is_ambiguous() -> None:
    info = {"dividendYield": 0.15}

    result = normalise_info(info)

    assert result.metrics.dividend_yield is None
    assert result.notes == {
        "dividend_yield": "dividendYield 0.15 is ambiguous: 0.15 % if in percent "
        "(current yfinance), 15 % if a fraction (older releases)"
    }


def test_zero_dividend_yield_is_zero() -> None:
    info = {"dividendYield": 0.0}

    result = normalise_info(info)

    assert result.metrics.dividend_yield == 0.0
    assert result.notes == {}


def test_fundamentals_id_is_uuid5_of_ticker() -> None:
    # Stored snapshots are found by this id: changing the rule orphans them.
    expected = uuid5(NAMESPACE_URL, "fundamentals:AAPL")

    fundamentals = Fundamentals("AAPL")

    assert fundamentals.id == expected
    assert fundamentals_id("AAPL") == expected


def test_new_fundamentals_start_empty() -> None:
    fundamentals = Fundamentals("AAPL")

    events = fundamentals.collect_events()

    assert len(events) == 1
    assert isinstance(events[0], Fundamentals.Started)
    assert events[0].ticker == "AAPL"
    assert fundamentals.snapshots == {}


def test_record_emits_snapshot_recorded() -> None:
    fundamentals = fundamentals_with()
    fetched = NormalisedFundamentals(
        metrics=FundamentalMetrics(market_cap=3e12),
        notes={"profit_margin": "profitMargins is NaN"},
    )

    fundamentals.record(
        fetched,
        as_of=dt.date(2025, 3, 7),
        source="yfinance",
        actor="system:fundamentals",
        correlation_id="run-9",
    )

    events = fundamentals.collect_events()
    assert len(events) == 1
    recorded = events[0]
    assert isinstance(recorded, Fundamentals.SnapshotRecorded)
    assert recorded.ticker == "AAPL"
    assert recorded.as_of == "2025-03-07"
    assert recorded.source == "yfinance"
    assert recorded.metrics["market_cap"] == 3e12
    assert recorded.metrics["profit_margin"] is None
    assert len(recorded.metrics) == len(FundamentalMetrics.__struct_fields__)
    assert recorded.notes == {"profit_margin": "profitMargins is NaN"}
    assert recorded.actor == "system:fundamentals"
    assert recorded.correlation_id == "run-9"


def test_snapshot_at_before_first_is_none() -> None:
    fundamentals = fundamentals_with(("2025-03-07", 1e12))

    found = fundamentals.snapshot_at(dt.date(2025, 3, 6))

    assert found is None


def test_snapshot_at_its_own_date() -> None:
    fundamentals = fundamentals_with(("2025-03-07", 1e12))

    found = fundamentals.snapshot_at(dt.date(2025, 3, 7))

    assert found == FundamentalMetrics(market_cap=1e12)


def test_snapshot_at_later_day_uses_latest() -> None:
    fundamentals = fundamentals_with(
        ("2025-03-07", 1e12), ("2025-03-14", 2e12), ("2025-03-21", 3e12)
    )

    found = fundamentals.snapshot_at(dt.date(2025, 3, 20))

    assert found == FundamentalMetrics(market_cap=2e12)


def test_newer_snapshot_wins() -> None:
    # Recorded out of order: the fetch date decides, not the recording order.
    fundamentals = fundamentals_with(("2025-03-14", 2e12), ("2025-03-07", 1e12))

    found = fundamentals.snapshot_at(dt.date(2025, 4, 1))

    assert found == FundamentalMetrics(market_cap=2e12)


def test_identical_rerecord_adds_nothing() -> None:
    fundamentals = fundamentals_with(("2025-03-07", 1e12))

    fundamentals.record(
        snapshot(market_cap=1e12),
        as_of=dt.date(2025, 3, 7),
        source="yfinance",
        actor="alice",
    )

    assert fundamentals.collect_events() == []


def test_same_day_change_replaces_snapshot() -> None:
    fundamentals = fundamentals_with(("2025-03-07", 1e12))

    fundamentals.record(
        snapshot(market_cap=1.1e12),
        as_of=dt.date(2025, 3, 7),
        source="yfinance",
        actor="system:fundamentals",
    )

    assert len(fundamentals.collect_events()) == 1
    found = fundamentals.snapshot_at(dt.date(2025, 3, 7))
    assert found == FundamentalMetrics(market_cap=1.1e12)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_metric_is_rejected(bad: float) -> None:
    fundamentals = fundamentals_with()
    message = (
        rf"current_ratio is {bad}, but metrics must be finite; store an unknown "
        r"metric as None \(normalise_info does so for Yahoo data\)"
    )

    with pytest.raises(InvalidFundamentalsError, match=message) as caught:
        fundamentals.record(
            snapshot(current_ratio=bad),
            as_of=dt.date(2025, 3, 7),
            source="yfinance",
            actor="system:fundamentals",
        )

    assert caught.value.field == "current_ratio"
    assert fundamentals.collect_events() == []


def test_replayed_events_rebuild_snapshots() -> None:
    fundamentals = Fundamentals("AAPL")
    fetched = normalise_info(APPLE_LIKE)
    fundamentals.record(
        fetched,
        as_of=dt.date(2025, 3, 7),
        source="yfinance",
        actor="system:fundamentals",
    )
    events = fundamentals.collect_events()

    replayed: Aggregate | None = None
    for stored_event in events:
        replayed = stored_event.mutate(replayed)

    assert isinstance(replayed, Fundamentals)
    assert replayed.snapshots == {"2025-03-07": fetched}


def test_ratio_overflow_becomes_unknown_with_note() -> None:
    info = {"marketCap": 1e-300, "freeCashflow": 1e300}

    result = normalise_info(info)

    assert result.metrics.free_cash_flow_yield is None
    assert result.notes["free_cash_flow_yield"] == (
        "the inputs overflow to inf; treated as unknown"
    )
