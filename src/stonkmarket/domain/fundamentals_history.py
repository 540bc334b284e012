"""The Fundamentals aggregate: the fundamentals snapshots fetched for one ticker."""

from __future__ import annotations

import datetime as dt
import math
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import InvalidFundamentalsError
from stonkmarket.domain.fundamentals import FundamentalMetrics, NormalisedFundamentals


class Fundamentals(Aggregate):
    """The snapshots of one ticker, keyed by the date they were fetched."""

    class Started(Aggregate.Created):
        ticker: str

    class SnapshotRecorded(Aggregate.Event):
        ticker: str
        as_of: str
        source: str
        metrics: dict[str, float | None]
        notes: dict[str, str]
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(ticker: str, *_: object, **__: object) -> UUID:
        return fundamentals_id(ticker)

    @event(Started)
    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.snapshots: dict[str, NormalisedFundamentals] = {}

    def record(
        self,
        snapshot: NormalisedFundamentals,
        *,
        as_of: dt.date,
        source: str,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Store the snapshot fetched on `as_of`, replacing that day's earlier one.

        A snapshot equal to the one stored for `as_of` adds nothing, so a
        retried fetch does not grow the history.
        """
        check_snapshot(snapshot)
        day = as_of.isoformat()
        if self.snapshots.get(day) == snapshot:
            return
        self._snapshot_recorded(
            self.ticker,
            day,
            source,
            msgspec.structs.asdict(snapshot.metrics),
            dict(snapshot.notes),
            actor,
            correlation_id,
        )

    def snapshot_at(self, day: dt.date) -> FundamentalMetrics | None:
        """Return the newest metrics fetched on or before `day`, None before any."""
        cutoff = day.isoformat()
        # ISO dates sort in date order, so the largest key is the newest.
        earlier = [as_of for as_of in self.snapshots if as_of <= cutoff]
        if not earlier:
            return None
        return self.snapshots[max(earlier)].metrics

    @event(SnapshotRecorded)
    def _snapshot_recorded(
        self,
        ticker: str,
        as_of: str,
        source: str,
        metrics: dict[str, float | None],
        notes: dict[str, str],
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.snapshots[as_of] = NormalisedFundamentals(
            metrics=msgspec.convert(metrics, FundamentalMetrics), notes=dict(notes)
        )


def check_snapshot(snapshot: NormalisedFundamentals) -> None:
    """Raise InvalidFundamentalsError unless every metric is finite or None."""
    for field, value in msgspec.structs.asdict(snapshot.metrics).items():
        if value is not None and not math.isfinite(value):
            raise InvalidFundamentalsError(
                f"{field} is {value}, but metrics must be finite; store an "
                "unknown metric as None (normalise_info does so for Yahoo data)",
                field=field,
            )


def fundamentals_id(ticker: str) -> UUID:
    """Return the Fundamentals aggregate's id, one per ticker."""
    return uuid5(NAMESPACE_URL, f"fundamentals:{ticker}")
