"""Apply stored events to the projections in notification order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import msgspec
import structlog
from eventsourcing.domain import Aggregate
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stonkmarket.application.errors import NotFoundError, ProjectionTimeoutError
from stonkmarket.application.view_changes import Projection
from stonkmarket.infrastructure.event_store import EventsourcingStore
from stonkmarket.infrastructure.sql_views import upsert
from stonkmarket.infrastructure.tables import VIEW_TABLES, projection_tracking
from stonkmarket.infrastructure.view_writer import SqlViewChanges

log = structlog.get_logger(__name__)

Hook = Callable[[], Awaitable[None]]

# Key of the PostgreSQL advisory lock that lets one runner project at a time.
RUNNER_LOCK = 7_361_024_819


class ProjectionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How far one projection has read the event store."""

    name: str
    position: int
    head: int
    lag: int


class ProjectionFailure(msgspec.Struct, frozen=True, kw_only=True):
    """An event a projection could not apply; its views miss that change."""

    projection: str
    position: int
    error: str


class ProjectionRunner:
    """Applies each batch of events and its tracking position in one transaction.

    A crash between batches loses nothing and doubles nothing: the views and
    the position they reflect are committed together.
    """

    def __init__(
        self,
        store: EventsourcingStore,
        engine: AsyncEngine,
        projections: Sequence[Projection],
        *,
        batch_size: int = 50,
        on_change: Hook | None = None,
        on_idle: Hook | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.projections = list(projections)
        self.batch_size = batch_size
        # Called after each committed batch, and after a rebuild empties the views.
        self.on_change = on_change
        # Called by the background loop each time it finds no event to apply.
        self.on_idle = on_idle
        self._one_batch_at_a_time = asyncio.Lock()
        self._stopping = False
        self.failures: list[ProjectionFailure] = []

    async def position(self) -> int:
        """Return the position every projection has reached (0 before any event)."""
        async with self.engine.connect() as conn:
            return await self._position(conn)

    async def _position(self, conn: AsyncConnection) -> int:
        lowest = await conn.scalar(select(func.min(projection_tracking.c.position)))
        count = await conn.scalar(select(func.count()).select_from(projection_tracking))
        if count != len(self.projections):
            return 0
        return int(lowest or 0)

    async def run_once(self) -> int:
        """Project the next batch; return how many events it held."""
        async with self._one_batch_at_a_time:
            return await self._apply_next_batch()

    async def _apply_next_batch(self) -> int:
        async with self.engine.begin() as conn:
            await _lock_runners(conn)
            applied = await self._apply_batch(conn)
        if applied:
            await self._changed()
        return applied

    async def _apply_batch(self, conn: AsyncConnection) -> int:
        """Apply the next batch inside the transaction of `conn`."""
        start = await self._position(conn)
        batch = await asyncio.to_thread(self.store.events_after, start, self.batch_size)
        if not batch:
            return 0
        views = SqlViewChanges(conn)
        for position, stored_event in batch:
            views.position = position
            for projection in self.projections:
                await self._apply(projection, stored_event, views)
        last = batch[-1][0]
        await upsert(
            conn,
            projection_tracking,
            [{"name": p.name, "position": last} for p in self.projections],
        )
        log.debug("projection_batch_applied", events=len(batch), position=last)
        return len(batch)

    async def _changed(self) -> None:
        if self.on_change is not None:
            await self.on_change()

    async def _apply(
        self, projection: Projection, event: Aggregate.Event, views: SqlViewChanges
    ) -> None:
        """Apply one event, logging and skipping an event that fails.

        Whatever the projection raises (a rule, a bug, a numeric warning
        turned error) is recorded as a failure, and /api/health reports
        degraded. Database and connection errors still end the batch, so
        nothing half-written is kept and the batch is tried again.
        """
        try:
            await projection.apply(event, views)
        except (SQLAlchemyError, OSError):
            raise
        except Exception as exc:
            failure = ProjectionFailure(
                projection=projection.name, position=views.position, error=str(exc)
            )
            self.failures.append(failure)
            log.error(
                "projection_failed",
                projection=projection.name,
                position=views.position,
                exc_info=exc,
            )

    async def catch_up(self) -> int:
        """Project until no stored event is left; return how many were applied."""
        applied = 0
        while count := await self.run_once():
            applied += count
        return applied

    async def run_forever(self, poll_seconds: float = 0.5) -> None:
        """Keep the views current, polling the event store when idle, until `stop`."""
        while not self._stopping:
            if not await self.run_once():
                if self.on_idle is not None:
                    await self._idle(self.on_idle)
                await asyncio.sleep(poll_seconds)

    def stop(self) -> None:
        """Ask `run_forever` to return after its current step.

        A client library can turn a cancellation into an error of its own,
        which the idle hook logs and passes. The flag ends the loop anyway.
        """
        self._stopping = True

    async def _idle(self, hook: Hook) -> None:
        try:
            await hook()
        except Exception as exc:
            # A hook that fails must not stop the views from being projected.
            log.error("projection_idle_hook_failed", exc_info=exc)

    async def wait_for(self, position: int, limit_seconds: float = 10.0) -> None:
        """Return once the views reflect `position`, or raise ProjectionTimeoutError.

        Projects the missing batches itself rather than waiting for the
        background loop, so a reader never waits on a poll interval.
        """
        deadline = time.monotonic() + limit_seconds
        while await self.position() < position:
            if time.monotonic() > deadline:
                raise ProjectionTimeoutError(
                    f"the read models did not reach event {position} within "
                    f"{limit_seconds:g} s; the change is stored, retry the read shortly"
                )
            if not await self.run_once():
                await asyncio.sleep(0.01)

    async def status(self) -> list[ProjectionStatus]:
        """Report each projection's position, the newest event, and the lag."""
        head = await asyncio.to_thread(self.store.head)
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(projection_tracking))
            positions = {row.name: row.position for row in rows}
        return [
            ProjectionStatus(
                name=p.name,
                position=positions.get(p.name, 0),
                head=head,
                lag=head - positions.get(p.name, 0),
            )
            for p in self.projections
        ]

    async def rebuild(self, name: str = "all") -> int:
        """Empty every view and replay every event, all in one transaction.

        Readers see the old rows until the rebuilt ones are committed, never
        an empty or half-filled view. Other runners, and writes waiting for
        their views, wait for the commit. `name` is "all" or a projection's
        name. The projections read each other's rows, so naming one rebuilds
        them all.
        """
        known = sorted(p.name for p in self.projections)
        if name != "all" and name not in known:
            raise NotFoundError(
                f"no projection is named {name!r}; known: all, {', '.join(known)}",
                field="name",
            )
        replayed = 0
        async with self._one_batch_at_a_time, self.engine.begin() as conn:
            await _lock_runners(conn)
            for table in (*VIEW_TABLES, projection_tracking):
                await conn.execute(delete(table))
            while applied := await self._apply_batch(conn):
                replayed += applied
        await self._changed()
        log.info("projections_rebuilt", events=replayed)
        return replayed


async def _lock_runners(conn: AsyncConnection) -> None:
    """Let one runner of all processes write the views until `conn` commits."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUNNER_LOCK}
        )
