from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

from stonkmarket.application.commands import (
    AddSymbol,
    ChangeSettings,
    RecordPrices,
    RemoveSymbol,
    UpdateSymbol,
)
from stonkmarket.application.errors import ConflictError, NotFoundError
from stonkmarket.application.handlers import (
    add_symbol,
    change_settings,
    record_prices,
    remove_symbol,
    update_symbol,
)
from stonkmarket.domain.errors import (
    InvalidTickerError,
    RestatementError,
    SymbolRemovedError,
)
from stonkmarket.domain.price_history import PriceHistory, price_history_id
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.domain.settings import SETTINGS_ID, DipFinderSettings
from stonkmarket.domain.symbol import Symbol, symbol_id
from stonkmarket.infrastructure.event_store import (
    EventsourcingStore,
    in_memory_env,
    sqlite_env,
)


class RivalFirstStore(EventsourcingStore):
    """Lets a rival request save between this store's load and its save."""

    def __init__(self, env: Mapping[str, str], rival: Callable[[], object]) -> None:
        super().__init__(env)
        self.rival = rival

    def save(self, *aggregates: Aggregate) -> int:
        self.rival()
        return super().save(*aggregates)


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


@pytest.fixture
def events_file(tmp_path: Path) -> str:
    return str(tmp_path / "events.sqlite")


@pytest.fixture
def two_writers(
    events_file: str,
) -> Iterator[tuple[EventsourcingStore, EventsourcingStore]]:
    """Two stores over one SQLite file, like two API processes."""
    first = EventsourcingStore(sqlite_env(events_file))
    second = EventsourcingStore(sqlite_env(events_file))
    yield first, second
    second.close()
    first.close()


@pytest.fixture
def race_loser(events_file: str) -> Iterator[EventsourcingStore]:
    """A store that loses every race: bob adds AAPL just before it saves."""
    winner = EventsourcingStore(sqlite_env(events_file))
    rival_add = AddSymbol(ticker="AAPL", actor="bob")
    loser = RivalFirstStore(
        sqlite_env(events_file), rival=lambda: add_symbol(winner, rival_add)
    )
    yield loser
    loser.close()
    winner.close()


def prices(
    ticker: str, *pairs: tuple[str, float], reason: str | None = None
) -> RecordPrices:
    """Build a RecordPrices command from (ISO date, close) pairs."""
    batch = PriceBatch(
        ticker=ticker,
        dates=tuple(dt.date.fromisoformat(day) for day, _ in pairs),
        closes=tuple(close for _, close in pairs),
        source="yfinance",
    )
    return RecordPrices(batch=batch, reason=reason, actor="system:ingest")


def test_add_symbol_stores_normalised_ticker(store: EventsourcingStore) -> None:
    command = AddSymbol(ticker=" brk.b ", min_dip_pct=0.2, min_days=5, actor="alice")

    receipt = add_symbol(store, command)

    assert receipt.subject == "BRK-B"
    assert receipt.position == 1
    symbol = store.get(symbol_id("BRK-B"), Symbol)
    assert symbol is not None
    assert symbol.ticker == "BRK-B"
    assert symbol.min_dip_pct == 0.2
    assert symbol.min_days == 5


def test_adding_watched_ticker_again_conflicts(store: EventsourcingStore) -> None:
    add_symbol(store, AddSymbol(ticker="AAPL", actor="alice"))

    with pytest.raises(
        ConflictError, match="AAPL is already on the watchlist"
    ) as caught:
        add_symbol(store, AddSymbol(ticker="aapl", actor="bob"))

    assert caught.value.field == "ticker"
    assert store.head() == 1


def test_add_rejects_malformed_ticker(store: EventsourcingStore) -> None:
    with pytest.raises(InvalidTickerError) as caught:
        add_symbol(store, AddSymbol(ticker="aa$", actor="alice"))

    assert caught.value.field == "ticker"
    assert store.head() == 0


def test_add_after_remove_re_adds(store: EventsourcingStore) -> None:
    add_symbol(store, AddSymbol(ticker="AAPL", min_dip_pct=0.1, actor="alice"))
    removal = remove_symbol(store, RemoveSymbol(ticker="AAPL", actor="alice"))

    receipt = add_symbol(store, AddSymbol(ticker="AAPL", min_days=9, actor="bob"))

    assert receipt.subject == "AAPL"
    assert receipt.position > removal.position
    symbol = store.get(symbol_id("AAPL"), Symbol)
    assert symbol is not None
    assert symbol.removed is False
    assert symbol.min_dip_pct is None
    assert symbol.min_days == 9
    assert symbol.version == 3


def test_update_symbol_replaces_thresholds(store: EventsourcingStore) -> None:
    add_symbol(store, AddSymbol(ticker="AAPL", actor="alice"))
    command = UpdateSymbol(ticker="aapl", min_dip_pct=0.3, min_days=4, actor="bob")

    receipt = update_symbol(store, command)

    assert receipt.subject == "AAPL"
    assert receipt.position == 2
    symbol = store.get(symbol_id("AAPL"), Symbol)
    assert symbol is not None
    assert symbol.min_dip_pct == 0.3
    assert symbol.min_days == 4


def test_update_unknown_ticker_is_not_found(store: EventsourcingStore) -> None:
    command = UpdateSymbol(ticker="msft", min_dip_pct=0.3, actor="bob")

    with pytest.raises(NotFoundError, match="MSFT is not on the watchlist") as caught:
        update_symbol(store, command)

    assert caught.value.field == "ticker"


def test_remove_unknown_ticker_is_not_found(store: EventsourcingStore) -> None:
    with pytest.raises(NotFoundError, match="MSFT is not on the watchlist") as caught:
        remove_symbol(store, RemoveSymbol(ticker="MSFT", actor="bob"))

    assert caught.value.field == "ticker"


def test_update_removed_symbol_is_rejected(store: EventsourcingStore) -> None:
    add_symbol(store, AddSymbol(ticker="AAPL", actor="alice"))
    remove_symbol(store, RemoveSymbol(ticker="AAPL", actor="alice"))

    with pytest.raises(SymbolRemovedError, match="AAPL was removed"):
        update_symbol(store, UpdateSymbol(ticker="AAPL", min_days=3, actor="bob"))

    assert store.head() == 2


def test_record_prices_normalises_ticker(store: EventsourcingStore) -> None:
    command = prices("brk.b", ("2024-01-02", 362.0), ("2024-01-03", 360.5))

    receipt = record_prices(store, command)

    assert receipt.subject == "BRK-B"
    assert receipt.position > 0
    history = store.get(price_history_id("BRK-B"), PriceHistory)
    assert history is not None
    assert history.ticker == "BRK-B"
    assert history.closes == {"2024-01-02": 362.0, "2024-01-03": 360.5}


def test_record_same_prices_twice_returns_zero(store: EventsourcingStore) -> None:
    command = prices("AAPL", ("2024-01-02", 185.64), ("2024-01-03", 184.25))
    record_prices(store, command)

    receipt = record_prices(store, command)

    assert receipt.position == 0
    assert store.head() == 2


def test_record_changed_close_needs_reason(store: EventsourcingStore) -> None:
    record_prices(store, prices("AAPL", ("2024-01-02", 185.64)))

    with pytest.raises(RestatementError) as caught:
        record_prices(store, prices("AAPL", ("2024-01-02", 180.0)))

    assert caught.value.field == "reason"
    assert store.head() == 2


def test_record_with_reason_restates_close(store: EventsourcingStore) -> None:
    record_prices(store, prices("AAPL", ("2024-01-02", 185.64)))
    restatement = prices(
        "AAPL", ("2024-01-02", 180.0), reason="source corrected the close"
    )

    receipt = record_prices(store, restatement)

    assert receipt.position == 3
    history = store.get(price_history_id("AAPL"), PriceHistory)
    assert history is not None
    assert history.closes == {"2024-01-02": 180.0}


def test_change_settings_stores_new_value(store: EventsourcingStore) -> None:
    command = ChangeSettings(changes={"history_years": 3}, actor="alice")

    receipt = change_settings(store, command)

    assert receipt.subject == "dipfinder"
    assert receipt.position > 0
    settings = store.get(SETTINGS_ID, DipFinderSettings)
    assert settings is not None
    assert settings.values["history_years"] == 3


def test_change_settings_unchanged_returns_zero(store: EventsourcingStore) -> None:
    command = ChangeSettings(changes={"history_years": 3}, actor="alice")
    change_settings(store, command)
    head = store.head()

    receipt = change_settings(store, command)

    assert receipt.position == 0
    assert store.head() == head


def test_default_value_on_fresh_store_returns_zero(store: EventsourcingStore) -> None:
    command = ChangeSettings(changes={"benchmark": "spy"}, actor="alice")

    receipt = change_settings(store, command)

    assert receipt.position == 0


def test_second_store_saving_same_new_symbol_conflicts(
    two_writers: tuple[EventsourcingStore, EventsourcingStore],
) -> None:
    first, second = two_writers
    ours = Symbol.add("AAPL", min_dip_pct=None, min_days=None, actor="alice")
    theirs = Symbol.add("AAPL", min_dip_pct=0.2, min_days=None, actor="bob")
    first.save(ours)

    with pytest.raises(ConflictError, match="another request changed the same"):
        second.save(theirs)

    stored = [event for _, event in second.events_after(0, limit=10)]
    assert len(stored) == 1
    assert isinstance(stored[0], Symbol.Added)
    assert stored[0].actor == "alice"


def test_racing_add_symbol_loses_with_conflict(race_loser: EventsourcingStore) -> None:
    command = AddSymbol(ticker="AAPL", actor="alice")

    with pytest.raises(
        ConflictError, match="AAPL is already on the watchlist"
    ) as caught:
        add_symbol(race_loser, command)

    assert caught.value.field == "ticker"
    assert isinstance(caught.value.__cause__, ConflictError)
    stored = [event for _, event in race_loser.events_after(0, limit=10)]
    assert len(stored) == 1
    assert isinstance(stored[0], Symbol.Added)
    assert stored[0].actor == "bob"
