"""Stored events of every current class decode, and saved aggregates reload.

The hand-written states below are what the eventsourcing JSON transcoder
stores today. A change to an event class that breaks one of these tests would
also break every database that already holds such events: give new fields a
default, or add a class version and an upcaster instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from stonkmarket.domain.price_history import PriceHistory
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.domain.settings import DipFinderSettings
from stonkmarket.domain.symbol import Symbol
from stonkmarket.infrastructure.event_store import (
    EventsourcingStore,
    in_memory_env,
    sqlite_env,
)

SYMBOL_ID = uuid5(NAMESPACE_URL, "symbol:AAPL")
PRICES_ID = uuid5(NAMESPACE_URL, "prices:AAPL")
SETTINGS_ID = uuid5(NAMESPACE_URL, "dipfinder-settings")
STORED_AT = dt.datetime(2025, 3, 4, 21, 5, tzinfo=dt.UTC)


def stored(
    originator_id: UUID, version: int, topic: str, state: dict[str, Any]
) -> StoredEvent:
    """Build a stored event the way the JSON transcoder writes one."""
    timestamp = {"_type_": "datetime_iso", "_data_": STORED_AT.isoformat()}
    body = json.dumps({"timestamp": timestamp, **state}, separators=(",", ":"))
    return StoredEvent(
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=body.encode(),
    )


SYMBOL_STREAM = [
    stored(
        SYMBOL_ID,
        1,
        "stonkmarket.domain.symbol:Symbol.Added",
        {
            "originator_topic": "stonkmarket.domain.symbol:Symbol",
            "ticker": "AAPL",
            "min_dip_pct": 0.15,
            "min_days": 3,
            "actor": "alice",
            "correlation_id": "req-1",
        },
    ),
    stored(
        SYMBOL_ID,
        2,
        "stonkmarket.domain.symbol:Symbol.ThresholdsChanged",
        {
            "ticker": "AAPL",
            "min_dip_pct": None,
            "min_days": 5,
            "actor": "bob",
            "correlation_id": None,
        },
    ),
    stored(
        SYMBOL_ID,
        3,
        "stonkmarket.domain.symbol:Symbol.Removed",
        {"ticker": "AAPL", "actor": "system:cleanup", "correlation_id": "run-3"},
    ),
    stored(
        SYMBOL_ID,
        4,
        "stonkmarket.domain.symbol:Symbol.ReAdded",
        {
            "ticker": "AAPL",
            "min_dip_pct": 0.2,
            "min_days": None,
            "actor": "carol",
            "correlation_id": "req-4",
        },
    ),
]

PRICES_STREAM = [
    stored(
        PRICES_ID,
        1,
        "stonkmarket.domain.price_history:PriceHistory.Started",
        {
            "originator_topic": "stonkmarket.domain.price_history:PriceHistory",
            "ticker": "AAPL",
        },
    ),
    stored(
        PRICES_ID,
        2,
        "stonkmarket.domain.price_history:PriceHistory.BarsRecorded",
        {
            "ticker": "AAPL",
            "dates": ["2024-01-02", "2024-01-03"],
            "closes": [185.64, 184.25],
            "source": "yfinance",
            "actor": "system:ingest",
            "correlation_id": "run-7",
            "reference_closes": None,
        },
    ),
    stored(
        PRICES_ID,
        3,
        "stonkmarket.domain.price_history:PriceHistory.BarsRestated",
        {
            "ticker": "AAPL",
            "dates": ["2024-01-03"],
            "closes": [183.9],
            "previous_closes": [184.25],
            "reason": "exchange corrected the close",
            "source": "manual",
            "actor": "alice",
            "correlation_id": None,
        },
    ),
]

SETTINGS_STREAM = [
    stored(
        SETTINGS_ID,
        1,
        "stonkmarket.domain.settings:DipFinderSettings.Started",
        {"originator_topic": "stonkmarket.domain.settings:DipFinderSettings"},
    ),
    stored(
        SETTINGS_ID,
        2,
        "stonkmarket.domain.settings:DipFinderSettings.Changed",
        {
            "changes": {"history_years": 3, "benchmark": "QQQ"},
            "actor": "alice",
            "correlation_id": "req-8",
        },
    ),
]


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


@pytest.fixture
def open_sqlite(tmp_path: Path) -> Iterator[Callable[[], EventsourcingStore]]:
    """Open stores over one SQLite file; each call is a fresh process's view."""
    path = str(tmp_path / "events.sqlite")
    opened: list[EventsourcingStore] = []

    def open_store() -> EventsourcingStore:
        opened.append(EventsourcingStore(sqlite_env(path)))
        return opened[-1]

    yield open_store
    for each in reversed(opened):
        each.close()


def test_symbol_added_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(SYMBOL_STREAM[0])

    assert isinstance(event, Symbol.Added)
    assert event.originator_id == SYMBOL_ID
    assert event.originator_version == 1
    assert event.timestamp == STORED_AT
    assert event.ticker == "AAPL"
    assert event.min_dip_pct == 0.15
    assert event.min_days == 3
    assert event.actor == "alice"
    assert event.correlation_id == "req-1"


def test_symbol_thresholds_changed_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(SYMBOL_STREAM[1])

    assert isinstance(event, Symbol.ThresholdsChanged)
    assert event.originator_version == 2
    assert event.ticker == "AAPL"
    assert event.min_dip_pct is None
    assert event.min_days == 5
    assert event.actor == "bob"
    assert event.correlation_id is None


def test_symbol_removed_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(SYMBOL_STREAM[2])

    assert isinstance(event, Symbol.Removed)
    assert event.ticker == "AAPL"
    assert event.actor == "system:cleanup"
    assert event.correlation_id == "run-3"


def test_symbol_re_added_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(SYMBOL_STREAM[3])

    assert isinstance(event, Symbol.ReAdded)
    assert event.ticker == "AAPL"
    assert event.min_dip_pct == 0.2
    assert event.min_days is None
    assert event.actor == "carol"
    assert event.correlation_id == "req-4"


def test_price_history_started_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(PRICES_STREAM[0])

    assert isinstance(event, PriceHistory.Started)
    assert event.originator_id == PRICES_ID
    assert event.ticker == "AAPL"


def test_bars_recorded_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(PRICES_STREAM[1])

    assert isinstance(event, PriceHistory.BarsRecorded)
    assert event.ticker == "AAPL"
    assert event.dates == ["2024-01-02", "2024-01-03"]
    assert event.closes == [185.64, 184.25]
    assert event.source == "yfinance"
    assert event.actor == "system:ingest"
    assert event.correlation_id == "run-7"


def test_bars_restated_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(PRICES_STREAM[2])

    assert isinstance(event, PriceHistory.BarsRestated)
    assert event.ticker == "AAPL"
    assert event.dates == ["2024-01-03"]
    assert event.closes == [183.9]
    assert event.previous_closes == [184.25]
    assert event.reason == "exchange corrected the close"
    assert event.source == "manual"
    assert event.actor == "alice"
    assert event.correlation_id is None


def test_settings_started_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(SETTINGS_STREAM[0])

    assert isinstance(event, DipFinderSettings.Started)
    assert event.originator_id == SETTINGS_ID


def test_settings_changed_decodes(store: EventsourcingStore) -> None:
    event = store.app.mapper.to_domain_event(SETTINGS_STREAM[1])

    assert isinstance(event, DipFinderSettings.Changed)
    assert event.changes == {"history_years": 3, "benchmark": "QQQ"}
    assert event.actor == "alice"
    assert event.correlation_id == "req-8"


def symbol_today() -> Symbol:
    """Record, through today's classes, what SYMBOL_STREAM holds."""
    symbol = Symbol.add(
        "AAPL", min_dip_pct=0.15, min_days=3, actor="alice", correlation_id="req-1"
    )
    symbol.change_thresholds(min_dip_pct=None, min_days=5, actor="bob")
    symbol.remove(actor="system:cleanup", correlation_id="run-3")
    symbol.re_add(min_dip_pct=0.2, min_days=None, actor="carol", correlation_id="req-4")
    return symbol


def history_today() -> PriceHistory:
    """Record, through today's classes, what PRICES_STREAM holds."""
    history = PriceHistory("AAPL")
    first = PriceBatch(
        ticker="AAPL",
        dates=(dt.date(2024, 1, 2), dt.date(2024, 1, 3)),
        closes=(185.64, 184.25),
        source="yfinance",
    )
    correction = PriceBatch(
        ticker="AAPL", dates=(dt.date(2024, 1, 3),), closes=(183.9,), source="manual"
    )
    history.record(first, actor="system:ingest", correlation_id="run-7")
    history.record(correction, actor="alice", reason="exchange corrected the close")
    return history


def settings_today() -> DipFinderSettings:
    """Record, through today's classes, what SETTINGS_STREAM holds."""
    settings = DipFinderSettings()
    settings.change(
        {"history_years": 3, "benchmark": "QQQ"}, actor="alice", correlation_id="req-8"
    )
    return settings


def without_timestamp(event: StoredEvent) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(event.state)
    del state["timestamp"]
    return state


@pytest.mark.parametrize(
    ("record_today", "stream"),
    [
        pytest.param(symbol_today, SYMBOL_STREAM, id="symbol"),
        pytest.param(history_today, PRICES_STREAM, id="price-history"),
        pytest.param(settings_today, SETTINGS_STREAM, id="settings"),
    ],
)
def test_hand_written_states_match_current_classes(
    store: EventsourcingStore,
    record_today: Callable[[], Aggregate],
    stream: list[StoredEvent],
) -> None:
    # Guards the fixtures above: a field added to an event class shows up here
    # as a key the hand-written state lacks.
    events = record_today().collect_events()

    encoded = [store.app.mapper.to_stored_event(event) for event in events]

    assert [e.topic for e in encoded] == [e.topic for e in stream]
    assert [e.originator_id for e in encoded] == [e.originator_id for e in stream]
    assert [e.originator_version for e in encoded] == [
        e.originator_version for e in stream
    ]
    assert [without_timestamp(e) for e in encoded] == [
        without_timestamp(e) for e in stream
    ]


def test_stored_symbol_stream_replays(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(SYMBOL_STREAM)

    symbol = store.get(SYMBOL_ID, Symbol)

    assert symbol is not None
    assert symbol.ticker == "AAPL"
    assert symbol.min_dip_pct == 0.2
    assert symbol.min_days is None
    assert symbol.removed is False
    assert symbol.version == 4


def test_stored_price_stream_replays(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(PRICES_STREAM)

    history = store.get(PRICES_ID, PriceHistory)

    assert history is not None
    assert history.ticker == "AAPL"
    assert history.closes == {"2024-01-02": 185.64, "2024-01-03": 183.9}
    assert history.version == 3


def test_stored_settings_stream_replays(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(SETTINGS_STREAM)

    settings = store.get(SETTINGS_ID, DipFinderSettings)

    assert settings is not None
    assert settings.values["history_years"] == 3
    assert settings.values["benchmark"] == "QQQ"
    assert settings.values["min_dip_abs"] == 0.10
    assert settings.version == 2


@pytest.mark.parametrize(
    "record_today",
    [
        pytest.param(symbol_today, id="symbol"),
        pytest.param(history_today, id="price-history"),
        pytest.param(settings_today, id="settings"),
    ],
)
def test_saved_aggregate_reloads_from_sqlite_file(
    open_sqlite: Callable[[], EventsourcingStore],
    record_today: Callable[[], Aggregate],
) -> None:
    aggregate = record_today()
    open_sqlite().save(aggregate)

    reloaded = open_sqlite().get(aggregate.id, type(aggregate))

    assert reloaded is not None
    assert vars(reloaded) == vars(aggregate)


def test_reloaded_history_keeps_restated_close(
    open_sqlite: Callable[[], EventsourcingStore],
) -> None:
    open_sqlite().save(history_today())

    reloaded = open_sqlite().get(PRICES_ID, PriceHistory)

    assert reloaded is not None
    assert reloaded.closes == {"2024-01-02": 185.64, "2024-01-03": 183.9}


def test_bars_recorded_before_reference_closes_decode(
    store: EventsourcingStore,
) -> None:
    # The first version of BarsRecorded had no reference_closes field.
    first_version = stored(
        PRICES_ID,
        2,
        "stonkmarket.domain.price_history:PriceHistory.BarsRecorded",
        {
            "ticker": "AAPL",
            "dates": ["2024-01-02"],
            "closes": [185.64],
            "source": "sample",
            "actor": "system:demo",
            "correlation_id": None,
        },
    )

    event = store.app.mapper.to_domain_event(first_version)

    assert isinstance(event, PriceHistory.BarsRecorded)
    assert event.reference_closes is None
    assert event.closes == [185.64]
