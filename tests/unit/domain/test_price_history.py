from __future__ import annotations

import datetime as dt
from uuid import NAMESPACE_URL, uuid5

import pytest

from stonkmarket.domain.errors import InvalidPriceBatchError, RestatementError
from stonkmarket.domain.price_history import (
    PriceHistory,
    check_batch,
    price_history_id,
)
from stonkmarket.domain.prices import PriceBatch

ORDER = "dates must rise strictly with no repeats"


def bars(*pairs: tuple[str, float], source: str = "yfinance") -> PriceBatch:
    """Build an AAPL batch from (ISO date, close) pairs."""
    return PriceBatch(
        ticker="AAPL",
        dates=tuple(dt.date.fromisoformat(day) for day, _ in pairs),
        closes=tuple(close for _, close in pairs),
        source=source,
    )


def history_with(*pairs: tuple[str, float]) -> PriceHistory:
    """Return an AAPL history holding the bars, with no pending events."""
    history = PriceHistory("AAPL")
    history.record(bars(*pairs), actor="system:ingest")
    history.collect_events()
    return history


def test_new_history_starts_empty() -> None:
    history = PriceHistory("AAPL")

    events = history.collect_events()

    assert len(events) == 1
    assert isinstance(events[0], PriceHistory.Started)
    assert events[0].ticker == "AAPL"
    assert history.closes == {}


def test_id_is_uuid5_of_prices_and_ticker() -> None:
    # Stored histories are found by this id: changing the rule orphans them.
    expected = uuid5(NAMESPACE_URL, "prices:AAPL")

    history = PriceHistory("AAPL")

    assert history.id == expected
    assert price_history_id("AAPL") == expected


def test_price_history_id_differs_from_symbol_id() -> None:
    assert price_history_id("AAPL") != uuid5(NAMESPACE_URL, "symbol:AAPL")


def test_new_bars_are_recorded() -> None:
    history = history_with()

    history.record(
        bars(("2024-01-02", 185.64), ("2024-01-03", 184.25)),
        actor="system:ingest",
        correlation_id="run-7",
    )

    events = history.collect_events()
    assert len(events) == 1
    recorded = events[0]
    assert isinstance(recorded, PriceHistory.BarsRecorded)
    assert recorded.ticker == "AAPL"
    assert recorded.dates == ["2024-01-02", "2024-01-03"]
    assert recorded.closes == [185.64, 184.25]
    assert recorded.source == "yfinance"
    assert recorded.actor == "system:ingest"
    assert recorded.correlation_id == "run-7"
    assert history.closes == {"2024-01-02": 185.64, "2024-01-03": 184.25}


def test_same_batch_twice_adds_no_event() -> None:
    batch = bars(("2024-01-02", 185.64), ("2024-01-03", 184.25))
    history = history_with()
    history.record(batch, actor="system:ingest")
    history.collect_events()

    history.record(batch, actor="system:ingest")

    assert history.collect_events() == []


def test_rounding_noise_is_not_a_restatement() -> None:
    history = history_with(("2024-01-02", 100.0))

    history.record(bars(("2024-01-02", 100.0 + 1e-12)), actor="system:ingest")

    assert history.collect_events() == []
    assert history.closes == {"2024-01-02": 100.0}


def test_empty_batch_adds_no_event() -> None:
    history = history_with(("2024-01-02", 100.0))

    history.record(bars(), actor="system:ingest")

    assert history.collect_events() == []


def test_changed_close_without_reason_is_rejected() -> None:
    history = history_with(("2024-01-02", 100.0), ("2024-01-03", 101.0))
    message = (
        r"AAPL has other closes stored for 1 of these dates \(first: 2024-01-03\); "
        "give a reason to restate them"
    )

    with pytest.raises(RestatementError, match=message) as caught:
        history.record(bars(("2024-01-03", 99.0)), actor="system:ingest")

    assert caught.value.field == "reason"
    assert history.collect_events() == []
    assert history.closes == {"2024-01-02": 100.0, "2024-01-03": 101.0}


def test_empty_reason_counts_as_no_reason() -> None:
    history = history_with(("2024-01-02", 100.0))

    with pytest.raises(RestatementError):
        history.record(bars(("2024-01-02", 90.0)), actor="alice", reason="")

    assert history.collect_events() == []


def test_restatement_message_lists_first_three_dates() -> None:
    history = history_with(
        ("2024-01-02", 100.0),
        ("2024-01-03", 101.0),
        ("2024-01-04", 102.0),
        ("2024-01-05", 103.0),
    )
    batch = bars(
        ("2024-01-02", 50.0),
        ("2024-01-03", 50.5),
        ("2024-01-04", 51.0),
        ("2024-01-05", 51.5),
    )
    message = (
        r"stored for 4 of these dates \(first: 2024-01-02, 2024-01-03, 2024-01-04\)"
    )

    with pytest.raises(RestatementError, match=message):
        history.record(batch, actor="system:ingest")


def test_rejected_restatement_drops_the_batch_new_bars_too() -> None:
    history = history_with(("2024-01-02", 100.0))

    with pytest.raises(RestatementError):
        history.record(
            bars(("2024-01-02", 90.0), ("2024-01-03", 91.0)), actor="system:ingest"
        )

    assert history.collect_events() == []
    assert history.closes == {"2024-01-02": 100.0}


def test_changed_close_with_reason_is_restated() -> None:
    history = history_with(("2024-01-02", 100.0), ("2024-01-03", 101.0))

    history.record(
        bars(("2024-01-03", 99.0), source="manual"),
        actor="alice",
        reason="exchange corrected the close",
        correlation_id="req-9",
    )

    events = history.collect_events()
    assert len(events) == 1
    restated = events[0]
    assert isinstance(restated, PriceHistory.BarsRestated)
    assert restated.ticker == "AAPL"
    assert restated.dates == ["2024-01-03"]
    assert restated.closes == [99.0]
    assert restated.previous_closes == [101.0]
    assert restated.reason == "exchange corrected the close"
    assert restated.source == "manual"
    assert restated.actor == "alice"
    assert restated.correlation_id == "req-9"
    assert history.closes == {"2024-01-02": 100.0, "2024-01-03": 99.0}


def test_mixed_batch_splits_into_new_and_restated() -> None:
    history = history_with(
        ("2024-01-02", 100.0), ("2024-01-03", 101.0), ("2024-01-04", 102.0)
    )
    batch = bars(
        ("2024-01-02", 100.0),
        ("2024-01-03", 95.0),
        ("2024-01-04", 102.0),
        ("2024-01-05", 96.0),
        ("2024-01-08", 97.0),
    )

    history.record(batch, actor="system:ingest", reason="source revised")

    recorded, restated = history.collect_events()
    assert isinstance(recorded, PriceHistory.BarsRecorded)
    assert recorded.dates == ["2024-01-05", "2024-01-08"]
    assert recorded.closes == [96.0, 97.0]
    assert isinstance(restated, PriceHistory.BarsRestated)
    assert restated.dates == ["2024-01-03"]
    assert restated.closes == [95.0]
    assert restated.previous_closes == [101.0]
    assert history.closes == {
        "2024-01-02": 100.0,
        "2024-01-03": 95.0,
        "2024-01-04": 102.0,
        "2024-01-05": 96.0,
        "2024-01-08": 97.0,
    }


def test_gap_fill_is_recorded_as_new() -> None:
    history = history_with(("2024-01-02", 100.0), ("2024-01-04", 102.0))

    history.record(bars(("2024-01-03", 101.0)), actor="system:ingest")

    events = history.collect_events()
    assert len(events) == 1
    recorded = events[0]
    assert isinstance(recorded, PriceHistory.BarsRecorded)
    assert recorded.dates == ["2024-01-03"]
    assert recorded.closes == [101.0]
    assert history.closes == {
        "2024-01-02": 100.0,
        "2024-01-03": 101.0,
        "2024-01-04": 102.0,
    }


def test_reason_without_changes_records_only_new_bars() -> None:
    history = history_with(("2024-01-02", 100.0))

    history.record(
        bars(("2024-01-02", 100.0), ("2024-01-03", 101.0)),
        actor="alice",
        reason="backfill",
    )

    events = history.collect_events()
    assert [type(e) for e in events] == [PriceHistory.BarsRecorded]


def test_dates_going_backwards_are_rejected() -> None:
    batch = bars(("2024-01-03", 100.0), ("2024-01-02", 101.0))
    message = f"{ORDER}; 2024-01-02 follows 2024-01-03"

    with pytest.raises(InvalidPriceBatchError, match=message) as caught:
        check_batch(batch)

    assert caught.value.field == "dates"


def test_repeated_date_is_rejected() -> None:
    batch = bars(("2024-01-02", 100.0), ("2024-01-02", 101.0))
    message = f"{ORDER}; 2024-01-02 follows 2024-01-02"

    with pytest.raises(InvalidPriceBatchError, match=message) as caught:
        check_batch(batch)

    assert caught.value.field == "dates"


def test_unordered_batch_records_no_event() -> None:
    history = history_with(("2024-01-02", 100.0))

    with pytest.raises(InvalidPriceBatchError):
        history.record(
            bars(("2024-01-04", 100.0), ("2024-01-03", 101.0)), actor="system:ingest"
        )

    assert history.collect_events() == []
    assert history.closes == {"2024-01-02": 100.0}


def test_closes_at_the_bounds_are_accepted() -> None:
    check_batch(bars(("2024-01-02", 1e-6), ("2024-01-03", 1e9)))


@pytest.mark.parametrize(
    ("close", "shown"),
    [
        pytest.param(float("nan"), "nan", id="nan"),
        pytest.param(float("inf"), "inf", id="infinity"),
        pytest.param(float("-inf"), "-inf", id="minus-infinity"),
        pytest.param(0.0, "0.0", id="zero"),
        pytest.param(-1.5, "-1.5", id="negative"),
        # Neighbours this far apart would overflow a float when divided.
        pytest.param(5e-324, "5e-324", id="subnormal"),
        pytest.param(9.99e-7, "9.99e-07", id="below-a-millionth"),
        pytest.param(1.0000001e9, "1000000100.0", id="above-a-billion"),
    ],
)
def test_unusable_close_is_rejected(close: float, shown: str) -> None:
    batch = bars(("2024-01-02", 100.0), ("2024-01-03", close))
    message = (
        rf"close on 2024-01-03 is {shown}; closes must be from 1e-06 to 1e\+09 "
        r"\(leave a missing day out\)"
    )

    with pytest.raises(InvalidPriceBatchError, match=message) as caught:
        check_batch(batch)

    assert caught.value.field == "closes"


def test_unusable_close_records_no_event() -> None:
    history = history_with()

    with pytest.raises(InvalidPriceBatchError):
        history.record(
            bars(("2024-01-02", 100.0), ("2024-01-03", float("nan"))),
            actor="system:ingest",
        )

    assert history.collect_events() == []
    assert history.closes == {}


def test_fewer_closes_than_dates_is_rejected() -> None:
    batch = PriceBatch(
        ticker="AAPL",
        dates=(dt.date(2024, 1, 2), dt.date(2024, 1, 3)),
        closes=(100.0,),
        source="yfinance",
    )

    with pytest.raises(
        InvalidPriceBatchError, match="2 dates but 1 closes; send one close per date"
    ) as caught:
        check_batch(batch)

    assert caught.value.field == "closes"


def test_more_closes_than_dates_is_rejected() -> None:
    batch = PriceBatch(
        ticker="AAPL",
        dates=(dt.date(2024, 1, 2),),
        closes=(100.0, 101.0),
        source="yfinance",
    )

    with pytest.raises(InvalidPriceBatchError, match="1 dates but 2 closes") as caught:
        check_batch(batch)

    assert caught.value.field == "closes"
