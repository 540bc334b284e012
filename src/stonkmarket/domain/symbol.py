"""The Symbol aggregate: one ticker on the watchlist and its dip thresholds."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import (
    SymbolRemovedError,
    SymbolWatchedError,
    ThresholdOutOfRangeError,
)


def check_thresholds(min_dip_pct: float | None, min_days: int | None) -> None:
    """Raise ThresholdOutOfRangeError unless both thresholds are in range."""
    if min_dip_pct is not None and not 0.0 < min_dip_pct < 1.0:
        raise ThresholdOutOfRangeError(
            f"min_dip_pct must be a fraction between 0 and 1 exclusive "
            f"(0.15 means 15 %), got {min_dip_pct}",
            field="min_dip_pct",
        )
    whole = isinstance(min_days, int) and not isinstance(min_days, bool)
    if min_days is not None and not (whole and 0 <= min_days <= 365):
        raise ThresholdOutOfRangeError(
            f"min_days must be a whole number of days from 0 to 365, got {min_days}",
            field="min_days",
        )


class Symbol(Aggregate):
    """A watched ticker; its thresholds override the finder's defaults."""

    class Added(Aggregate.Created):
        ticker: str
        min_dip_pct: float | None
        min_days: int | None
        actor: str
        correlation_id: str | None

    class ThresholdsChanged(Aggregate.Event):
        ticker: str
        min_dip_pct: float | None
        min_days: int | None
        actor: str
        correlation_id: str | None

    class Removed(Aggregate.Event):
        ticker: str
        actor: str
        correlation_id: str | None

    class ReAdded(Aggregate.Event):
        ticker: str
        min_dip_pct: float | None
        min_days: int | None
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(ticker: str, *_: object, **__: object) -> UUID:
        return symbol_id(ticker)

    @event(Added)
    def __init__(
        self,
        ticker: str,
        min_dip_pct: float | None,
        min_days: int | None,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        self.ticker = ticker
        self.min_dip_pct = min_dip_pct
        self.min_days = min_days
        self.removed = False

    @classmethod
    def add(
        cls,
        ticker: str,
        *,
        min_dip_pct: float | None,
        min_days: int | None,
        actor: str,
        correlation_id: str | None = None,
    ) -> Symbol:
        """Start watching `ticker` (already in Yahoo form)."""
        check_thresholds(min_dip_pct, min_days)
        return cls(ticker, min_dip_pct, min_days, actor, correlation_id)

    def change_thresholds(
        self,
        *,
        min_dip_pct: float | None,
        min_days: int | None,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Replace both thresholds; None means "use the finder's default"."""
        self.check_not_removed()
        check_thresholds(min_dip_pct, min_days)
        if (min_dip_pct, min_days) == (self.min_dip_pct, self.min_days):
            return
        self._thresholds_changed(
            self.ticker, min_dip_pct, min_days, actor, correlation_id
        )

    def remove(self, *, actor: str, correlation_id: str | None = None) -> None:
        """Stop watching the ticker; its price history stays."""
        self.check_not_removed()
        self._removed(self.ticker, actor, correlation_id)

    def re_add(
        self,
        *,
        min_dip_pct: float | None,
        min_days: int | None,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Watch a removed ticker again, with fresh thresholds."""
        if not self.removed:
            raise SymbolWatchedError(
                f"{self.ticker} is already on the watchlist", field="ticker"
            )
        check_thresholds(min_dip_pct, min_days)
        self._re_added(self.ticker, min_dip_pct, min_days, actor, correlation_id)

    def check_not_removed(self) -> None:
        if self.removed:
            raise SymbolRemovedError(
                f"{self.ticker} was removed from the watchlist; add it again first",
                field="ticker",
            )

    @event(ThresholdsChanged)
    def _thresholds_changed(
        self,
        ticker: str,
        min_dip_pct: float | None,
        min_days: int | None,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.min_dip_pct = min_dip_pct
        self.min_days = min_days

    @event(Removed)
    def _removed(self, ticker: str, actor: str, correlation_id: str | None) -> None:
        self.removed = True

    @event(ReAdded)
    def _re_added(
        self,
        ticker: str,
        min_dip_pct: float | None,
        min_days: int | None,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.min_dip_pct = min_dip_pct
        self.min_days = min_days
        self.removed = False


def symbol_id(ticker: str) -> UUID:
    """Return the Symbol's id, the same for the same ticker every time."""
    return uuid5(NAMESPACE_URL, f"symbol:{ticker}")
