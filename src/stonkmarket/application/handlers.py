"""Command handlers: load the aggregate, ask the domain, save the events."""

from __future__ import annotations

import msgspec

from stonkmarket.application.commands import (
    AddSymbol,
    ChangeSettings,
    Receipt,
    RecordFundamentals,
    RecordPrices,
    RemoveSymbol,
    SymbolReceipt,
    UpdateSymbol,
)
from stonkmarket.application.errors import (
    ConflictError,
    NotFoundError,
    StaleVersionError,
)
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.views import SymbolView
from stonkmarket.domain.fundamentals import normalise_info
from stonkmarket.domain.fundamentals_history import Fundamentals, fundamentals_id
from stonkmarket.domain.price_history import PriceHistory, price_history_id
from stonkmarket.domain.settings import SETTINGS_ID, DipFinderSettings
from stonkmarket.domain.symbol import Symbol, symbol_id
from stonkmarket.domain.tickers import normalise_ticker


def add_symbol(store: EventStore, command: AddSymbol) -> SymbolReceipt:
    """Put a ticker on the watchlist, or back on it after a removal."""
    ticker = normalise_ticker(command.ticker)
    symbol = store.get(symbol_id(ticker), Symbol)
    if symbol is None:
        symbol = Symbol.add(
            ticker,
            min_dip_pct=command.min_dip_pct,
            min_days=command.min_days,
            actor=command.actor,
            correlation_id=command.correlation_id,
        )
    elif symbol.removed:
        symbol.re_add(
            min_dip_pct=command.min_dip_pct,
            min_days=command.min_days,
            actor=command.actor,
            correlation_id=command.correlation_id,
        )
    else:
        raise _already_watched(ticker)
    try:
        position = store.save(symbol)
    except ConflictError as exc:
        raise _already_watched(ticker) from exc
    return _symbol_receipt(symbol, position)


def update_symbol(store: EventStore, command: UpdateSymbol) -> SymbolReceipt:
    """Replace a watched ticker's thresholds."""
    symbol = _watched(store, command.ticker)
    symbol.change_thresholds(
        min_dip_pct=command.min_dip_pct,
        min_days=command.min_days,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    return _symbol_receipt(symbol, store.save(symbol))


def remove_symbol(store: EventStore, command: RemoveSymbol) -> Receipt:
    """Take a ticker off the watchlist; its prices stay recorded."""
    symbol = _watched(store, command.ticker)
    symbol.remove(actor=command.actor, correlation_id=command.correlation_id)
    return Receipt(subject=symbol.ticker, position=store.save(symbol))


def record_prices(store: EventStore, command: RecordPrices) -> Receipt:
    """Record a batch of closes; bars already stored unchanged are skipped."""
    ticker = normalise_ticker(command.batch.ticker)
    batch = msgspec.structs.replace(command.batch, ticker=ticker)
    history = store.get(price_history_id(ticker), PriceHistory)
    if history is None:
        history = PriceHistory(ticker)
    history.record(
        batch,
        actor=command.actor,
        reason=command.reason,
        correlation_id=command.correlation_id,
    )
    return Receipt(subject=ticker, position=store.save(history))


def change_settings(store: EventStore, command: ChangeSettings) -> Receipt:
    """Change some of the finder's knobs; unchanged values record nothing."""
    settings = store.get(SETTINGS_ID, DipFinderSettings)
    if settings is None:
        settings = DipFinderSettings()
    current_version = settings_version(settings)
    expected = command.expected_version
    if expected is not None and expected != current_version:
        raise _stale(expected, current_version)
    settings.change(
        command.changes, actor=command.actor, correlation_id=command.correlation_id
    )
    if not any(
        isinstance(e, DipFinderSettings.Changed) for e in settings.pending_events
    ):
        return Receipt(subject="dipfinder", position=0)
    try:
        position = store.save(settings)
    except ConflictError as exc:
        if expected is None:
            raise
        raise _stale(expected, expected + 1) from exc
    return Receipt(subject="dipfinder", position=position)


def settings_version(settings: DipFinderSettings) -> int:
    """The settings version: how many changes were recorded (0 for the defaults)."""
    saved_events = settings.version - len(settings.pending_events)
    return max(0, saved_events - 1)


def record_fundamentals(store: EventStore, command: RecordFundamentals) -> Receipt:
    """Normalise what the source reported and record it as a snapshot."""
    ticker = normalise_ticker(command.ticker)
    snapshot = normalise_info(command.info, command.statements)
    history = store.get(fundamentals_id(ticker), Fundamentals)
    if history is None:
        history = Fundamentals(ticker)
    history.record(
        snapshot,
        as_of=command.as_of,
        source=command.source,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    return Receipt(subject=ticker, position=store.save(history))


def _stale(expected: int, current: int) -> StaleVersionError:
    return StaleVersionError(
        f"the settings are at version {current}, not {expected}; "
        "reload them and apply the change again",
        field="If-Match",
    )


def _watched(store: EventStore, raw_ticker: str) -> Symbol:
    ticker = normalise_ticker(raw_ticker)
    symbol = store.get(symbol_id(ticker), Symbol)
    if symbol is None:
        raise NotFoundError(f"{ticker} is not on the watchlist", field="ticker")
    return symbol


def _symbol_receipt(symbol: Symbol, position: int) -> SymbolReceipt:
    view = SymbolView(
        ticker=symbol.ticker,
        min_dip_pct=symbol.min_dip_pct,
        min_days=symbol.min_days,
        added_at=symbol.created_on,
        updated_at=symbol.modified_on,
    )
    return SymbolReceipt(subject=symbol.ticker, position=position, symbol=view)


def _already_watched(ticker: str) -> ConflictError:
    return ConflictError(f"{ticker} is already on the watchlist", field="ticker")
