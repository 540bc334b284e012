"""The event store, on the `eventsourcing` library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from uuid import UUID

import psycopg
import psycopg.sql
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.utils import get_topic
from sqlalchemy.engine import make_url

from stonkmarket.application.errors import ConflictError

A = TypeVar("A", bound=Aggregate)


class Stonkmarket(Application[UUID]):
    """Every aggregate of the product in one ordered notification log."""

    name = "stonkmarket"


class EventsourcingStore:
    """The EventStore port over an `eventsourcing` application."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.app = Stonkmarket(env=dict(env))

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, kind):
            raise TypeError(f"{aggregate_id} is a {type(aggregate).__name__}")
        return aggregate

    def save(self, *aggregates: Aggregate) -> int:
        try:
            recordings = self.app.save(*aggregates)
        except IntegrityError as exc:
            raise ConflictError(
                "another request changed the same record first; reload and retry"
            ) from exc
        return recordings[-1].notification.id if recordings else 0

    def has_event(self, kind: type[Aggregate.Event]) -> bool:
        # The events table has no index on topic, so this may read all of it:
        # fine once at start-up, too slow for every request.
        found = self.app.recorder.select_notifications(
            start=None, limit=1, topics=[get_topic(kind)]
        )
        return len(found) > 0

    def head(self) -> int:
        """Position of the newest stored event, 0 when the store is empty."""
        return self.app.recorder.max_notification_id() or 0

    def events_after(
        self, position: int, limit: int
    ) -> list[tuple[int, Aggregate.Event]]:
        """Up to `limit` events stored after `position`, oldest first."""
        notifications = self.app.recorder.select_notifications(
            start=position, limit=limit, inclusive_of_start=False
        )
        return [(n.id, self._decoded(n)) for n in notifications]

    def _decoded(self, notification: Notification) -> Aggregate.Event:
        stored = self.app.mapper.to_domain_event(notification)
        if not isinstance(stored, Aggregate.Event):
            raise TypeError(f"event {notification.id} is not an aggregate event")
        return stored

    def close(self) -> None:
        self.app.close()


def sqlite_env(path: str) -> dict[str, str]:
    """Settings for a SQLite event store in a file."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "10",
    }


def in_memory_env() -> dict[str, str]:
    """Settings for an event store that lives only in this process."""
    return {"PERSISTENCE_MODULE": "eventsourcing.popo"}


EVENTS_SCHEMA = "stonkmarket_events"


def postgres_env(database_url: str, pool_size: int) -> dict[str, str]:
    """Settings for a PostgreSQL event store in its own schema.

    The schema keeps the event tables apart from the read models, so Alembic
    never reads them.
    """
    url = make_url(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": EVENTS_SCHEMA,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }


# Key of the advisory lock that lets one process at a time set the store up.
SETUP_LOCK = 7_361_024_820


def open_postgres_store(database_url: str, pool_size: int) -> EventsourcingStore:
    """Open the PostgreSQL event store, creating its schema and tables if needed.

    eventsourcing replaces its insert function on every start, and two
    processes doing that at once fail with "tuple concurrently updated", so
    starts take turns under an advisory lock.
    """
    with _connect(database_url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
        try:
            conn.execute(
                psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    psycopg.sql.Identifier(EVENTS_SCHEMA)
                )
            )
            return EventsourcingStore(postgres_env(database_url, pool_size))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))


def _connect(database_url: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(database_url)
    return psycopg.connect(
        dbname=url.database,
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        connect_timeout=5,
        autocommit=True,
    )
