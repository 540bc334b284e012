"""The port projections write through, and the shape of a projection."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from stonkmarket.application.views import (
    AccountView,
    AuditEntry,
    FundamentalsView,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.adjustment import CleanSeries
from stonkmarket.domain.episodes import EpisodeEvent


class ViewChanges(Protocol):
    """The read models inside one transaction of the projection runner.

    `position` is the notification position of the event being applied.
    """

    position: int

    async def put_symbol(self, symbol: SymbolView) -> None: ...
    async def drop_symbol(self, ticker: str, at: dt.datetime) -> None: ...
    async def any_symbol(self, ticker: str) -> SymbolView | None: ...
    async def symbol(self, ticker: str) -> SymbolView | None: ...
    async def watched(self) -> list[SymbolView]: ...
    async def put_bars(
        self,
        ticker: str,
        dates: list[str],
        closes: list[float],
        references: list[float | None] | None,
    ) -> None: ...
    async def restate_bars(
        self, ticker: str, dates: list[str], closes: list[float]
    ) -> None: ...
    async def put_actions(self, ticker: str, actions: list[dict[str, Any]]) -> None: ...
    async def series(self, ticker: str) -> CleanSeries | None: ...
    async def settings(self) -> SettingsView: ...
    async def put_settings(self, settings: SettingsView) -> None: ...
    async def put_fundamentals(self, snapshot: FundamentalsView) -> None: ...
    async def fundamentals(
        self, ticker: str, day: dt.date
    ) -> FundamentalsView | None: ...
    async def put_audit(self, entry: AuditEntry) -> None: ...
    async def put_episodes(
        self, ticker: str, window: int, episodes: list[EpisodeEvent]
    ) -> None: ...
    async def recent_signals(
        self, ticker: str, window: int, benchmark: str, settings_version: int
    ) -> list[Signal]: ...
    async def put_alert_raised(self, signal: Signal) -> None: ...
    async def put_signals(
        self, signals: list[Signal], computed_at: dt.datetime
    ) -> None: ...
    async def put_account(self, account: AccountView) -> None: ...
    async def put_revoked_token(
        self,
        token_id: str,
        account_id: UUID,
        expires_at: dt.datetime,
        logged_out_at: dt.datetime,
    ) -> None: ...
    async def account_by_id(self, account_id: UUID) -> AccountView | None: ...


class Projection(Protocol):
    """Turns one event into changes of its views; ignores events it does not use."""

    name: str

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None: ...
