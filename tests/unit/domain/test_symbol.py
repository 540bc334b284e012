from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

import pytest

from stonkmarket.domain.errors import (
    DomainError,
    SymbolRemovedError,
    ThresholdOutOfRangeError,
)
from stonkmarket.domain.symbol import Symbol, check_thresholds, symbol_id

DIP_PCT_RANGE = "min_dip_pct must be a fraction between 0 and 1 exclusive"
DAYS_RANGE = "min_days must be a whole number of days from 0 to 365"
REMOVED = "AAPL was removed from the watchlist; add it again first"


def watched(ticker: str = "AAPL") -> Symbol:
    """Return a freshly added symbol whose Added event is already collected."""
    symbol = Symbol.add(ticker, min_dip_pct=0.15, min_days=3, actor="alice")
    symbol.collect_events()
    return symbol


def removed() -> Symbol:
    symbol = watched()
    symbol.remove(actor="alice")
    symbol.collect_events()
    return symbol


def test_add_records_one_added_event_with_the_values() -> None:
    symbol = Symbol.add("AAPL", min_dip_pct=0.15, min_days=3, actor="alice")

    events = symbol.collect_events()

    assert len(events) == 1
    added = events[0]
    assert isinstance(added, Symbol.Added)
    assert added.ticker == "AAPL"
    assert added.min_dip_pct == 0.15
    assert added.min_days == 3


def test_add_sets_the_state() -> None:
    symbol = Symbol.add("AAPL", min_dip_pct=0.2, min_days=10, actor="alice")

    assert symbol.ticker == "AAPL"
    assert symbol.min_dip_pct == 0.2
    assert symbol.min_days == 10
    assert symbol.removed is False
    assert symbol.version == 1


def test_add_without_thresholds_keeps_none() -> None:
    symbol = Symbol.add("AAPL", min_dip_pct=None, min_days=None, actor="alice")

    assert symbol.min_dip_pct is None
    assert symbol.min_days is None


def test_id_is_uuid5_of_symbol_and_ticker() -> None:
    # Stored symbols are found by this id: changing the rule orphans them.
    expected = uuid5(NAMESPACE_URL, "symbol:AAPL")

    symbol = Symbol.add("AAPL", min_dip_pct=None, min_days=None, actor="alice")

    assert symbol.id == expected
    assert symbol_id("AAPL") == expected


def test_same_ticker_gives_same_id() -> None:
    first = Symbol.add("MSFT", min_dip_pct=0.1, min_days=1, actor="alice")
    second = Symbol.add("MSFT", min_dip_pct=0.3, min_days=9, actor="bob")

    assert first.id == second.id


def test_different_tickers_give_different_ids() -> None:
    assert symbol_id("BRK-A") != symbol_id("BRK-B")


@pytest.mark.parametrize("min_dip_pct", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_add_rejects_dip_pct_out_of_range(min_dip_pct: float) -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=DIP_PCT_RANGE) as caught:
        Symbol.add("AAPL", min_dip_pct=min_dip_pct, min_days=3, actor="alice")

    assert caught.value.field == "min_dip_pct"


@pytest.mark.parametrize("min_days", [-1, 366])
def test_add_rejects_min_days_out_of_range(min_days: int) -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=DAYS_RANGE) as caught:
        Symbol.add("AAPL", min_dip_pct=0.15, min_days=min_days, actor="alice")

    assert caught.value.field == "min_days"


def test_rejection_message_shows_the_value() -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=r"got 366$"):
        check_thresholds(0.15, 366)


@pytest.mark.parametrize("min_days", [0, 365])
def test_min_days_boundaries_are_accepted(min_days: int) -> None:
    symbol = Symbol.add("AAPL", min_dip_pct=0.15, min_days=min_days, actor="alice")

    assert symbol.min_days == min_days


def test_fractional_min_days_is_rejected() -> None:
    with pytest.raises(ThresholdOutOfRangeError, match=DAYS_RANGE):
        check_thresholds(0.15, 1.5)  # type: ignore[arg-type]


def test_change_thresholds_records_the_new_values() -> None:
    symbol = watched()

    symbol.change_thresholds(min_dip_pct=0.25, min_days=7, actor="bob")

    events = symbol.collect_events()
    assert len(events) == 1
    changed = events[0]
    assert isinstance(changed, Symbol.ThresholdsChanged)
    assert changed.ticker == "AAPL"
    assert changed.min_dip_pct == 0.25
    assert changed.min_days == 7
    assert symbol.min_dip_pct == 0.25
    assert symbol.min_days == 7


def test_change_to_none_falls_back_to_defaults() -> None:
    symbol = watched()

    symbol.change_thresholds(min_dip_pct=None, min_days=None, actor="bob")

    assert symbol.min_dip_pct is None
    assert symbol.min_days is None


def test_bad_change_records_no_event() -> None:
    symbol = watched()

    with pytest.raises(ThresholdOutOfRangeError) as caught:
        symbol.change_thresholds(min_dip_pct=1.5, min_days=7, actor="bob")

    assert caught.value.field == "min_dip_pct"
    assert symbol.collect_events() == []
    assert symbol.min_dip_pct == 0.15
    assert symbol.min_days == 3


def test_remove_records_removed_event() -> None:
    symbol = watched()

    symbol.remove(actor="bob")

    events = symbol.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], Symbol.Removed)
    assert events[0].ticker == "AAPL"
    assert symbol.removed is True


def test_removed_symbol_rejects_threshold_change() -> None:
    symbol = removed()

    with pytest.raises(SymbolRemovedError, match=REMOVED) as caught:
        symbol.change_thresholds(min_dip_pct=0.2, min_days=5, actor="bob")

    assert caught.value.field == "ticker"
    assert symbol.collect_events() == []


def test_removed_symbol_rejects_second_removal() -> None:
    symbol = removed()

    with pytest.raises(SymbolRemovedError, match=REMOVED) as caught:
        symbol.remove(actor="bob")

    assert caught.value.field == "ticker"
    assert symbol.collect_events() == []


def test_removed_symbol_is_checked_before_thresholds() -> None:
    symbol = removed()

    with pytest.raises(SymbolRemovedError):
        symbol.change_thresholds(min_dip_pct=5.0, min_days=5, actor="bob")


def test_re_add_after_removal_watches_again() -> None:
    symbol = removed()

    symbol.re_add(min_dip_pct=0.3, min_days=None, actor="carol")

    events = symbol.collect_events()
    assert len(events) == 1
    re_added = events[0]
    assert isinstance(re_added, Symbol.ReAdded)
    assert re_added.ticker == "AAPL"
    assert re_added.min_dip_pct == 0.3
    assert re_added.min_days is None
    assert symbol.removed is False
    assert symbol.min_dip_pct == 0.3
    assert symbol.min_days is None


def test_re_added_symbol_accepts_changes() -> None:
    symbol = removed()
    symbol.re_add(min_dip_pct=0.3, min_days=None, actor="carol")

    symbol.change_thresholds(min_dip_pct=0.4, min_days=2, actor="carol")

    assert symbol.min_dip_pct == 0.4
    assert symbol.min_days == 2
    assert symbol.version == 4


def test_re_add_rejects_thresholds_out_of_range() -> None:
    symbol = removed()

    with pytest.raises(ThresholdOutOfRangeError, match=DAYS_RANGE) as caught:
        symbol.re_add(min_dip_pct=0.3, min_days=400, actor="carol")

    assert caught.value.field == "min_days"
    assert symbol.collect_events() == []
    assert symbol.removed is True


def test_re_add_of_watched_symbol_is_rejected() -> None:
    symbol = watched()

    with pytest.raises(DomainError):
        symbol.re_add(min_dip_pct=0.3, min_days=None, actor="carol")


def test_every_event_carries_actor_and_correlation_id() -> None:
    symbol = Symbol.add(
        "AAPL", min_dip_pct=0.15, min_days=3, actor="alice", correlation_id="req-1"
    )
    symbol.change_thresholds(
        min_dip_pct=0.2, min_days=4, actor="bob", correlation_id="req-2"
    )
    symbol.remove(actor="system:cleanup", correlation_id="run-3")
    symbol.re_add(min_dip_pct=None, min_days=None, actor="carol", correlation_id="r4")

    added, changed, removal, re_added = symbol.collect_events()

    assert isinstance(added, Symbol.Added)
    assert (added.actor, added.correlation_id) == ("alice", "req-1")
    assert isinstance(changed, Symbol.ThresholdsChanged)
    assert (changed.actor, changed.correlation_id) == ("bob", "req-2")
    assert isinstance(removal, Symbol.Removed)
    assert (removal.actor, removal.correlation_id) == ("system:cleanup", "run-3")
    assert isinstance(re_added, Symbol.ReAdded)
    assert (re_added.actor, re_added.correlation_id) == ("carol", "r4")


def test_correlation_id_defaults_to_none() -> None:
    symbol = Symbol.add("AAPL", min_dip_pct=None, min_days=None, actor="alice")

    (added,) = symbol.collect_events()

    assert isinstance(added, Symbol.Added)
    assert added.correlation_id is None
