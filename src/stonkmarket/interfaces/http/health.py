"""Health routes: a detailed status for people, liveness and readiness probes."""

from __future__ import annotations

import asyncio

import structlog
from eventsourcing.persistence import PersistenceError
from litestar import Controller, Response, get
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.http.context import AppContainer
from stonkmarket.interfaces.http.schemas import Health

log = structlog.get_logger(__name__)

# A database check that takes longer than this many seconds counts as the
# database being down.
CHECK_SECONDS = 2.0
DATABASE_ERRORS = (OSError, SQLAlchemyError, PersistenceError, TimeoutError)


class HealthController(Controller):
    path = "/api/health"
    tags = ("health",)

    @get("/")
    async def health(self, container: AppContainer) -> Response[Health]:
        """Report the status and how far the read models lag the event store.

        Returns 503 when the database does not respond. The status is
        `degraded` when this process failed to apply some events (logged), or
        when the hot store is unavailable and reads go to the database.
        """
        try:
            position, head = await asyncio.wait_for(
                _positions(container), CHECK_SECONDS
            )
        except DATABASE_ERRORS as exc:
            return _database_down(exc)
        cache = await container.hot_store.status()
        failed = len(container.runner.failures)
        healthy = cache.available and not failed
        return Response(
            Health(
                status="ok" if healthy else "degraded",
                database="ok",
                cache="ok" if cache.available else "unavailable",
                cache_kind=cache.kind,
                position=position,
                head=head,
                lag=head - position,
                failed_events=failed or None,
            )
        )

    @get("/live")
    async def live(self) -> Health:
        """Report that the process is running."""
        return Health(status="alive")

    @get("/ready")
    async def ready(self, container: AppContainer) -> Response[Health]:
        """Report ready when the database responds, and whether the cache does.

        An unavailable cache does not make the process unready, because reads
        then go to the database.
        """
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                async with container.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except DATABASE_ERRORS as exc:
            return _database_down(exc)
        cache = await container.hot_store.status()
        return Response(
            Health(
                status="ready",
                database="ok",
                cache="ok" if cache.available else "unavailable",
                cache_kind=cache.kind,
            )
        )


async def _positions(container: Container) -> tuple[int, int]:
    position = await container.runner.position()
    head = await asyncio.to_thread(container.store.head)
    return position, head


def _database_down(exc: BaseException) -> Response[Health]:
    log.warning("database_unavailable", error=f"{type(exc).__name__}: {exc}")
    return Response(
        Health(
            status="unavailable",
            database="unavailable",
            error=f"the database did not respond: {type(exc).__name__}",
        ),
        status_code=503,
    )
