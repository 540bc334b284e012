"""The event store as the application sees it."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


class EventStore(Protocol):
    """Loads aggregates by id and appends their new events atomically."""

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """Return the aggregate, or None when it was never created."""
        ...

    def save(self, *aggregates: Aggregate) -> int:
        """Append pending events; return the last one's position, 0 if none.

        Raises ConflictError when another writer changed an aggregate first.
        """
        ...

    def has_event(self, kind: type[Aggregate.Event]) -> bool:
        """Return True when at least one event of class `kind` is stored."""
        ...
