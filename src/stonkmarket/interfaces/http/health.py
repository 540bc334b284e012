"""Health routes for people and for orchestrators."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from sqlalchemy import text

from stonkmarket.interfaces.http.context import AppContainer
from stonkmarket.interfaces.http.schemas import Health


class HealthController(Controller):
    path = "/api/health"
    tags = ("health",)

    @get("/")
    async def health(self, container: AppContainer) -> Health:
        """Report the status and how far the read models trail the event store.

        `degraded` means this process could not apply some events (see the log).
        """
        position = await container.runner.position()
        head = await asyncio.to_thread(container.store.head)
        failed = len(container.runner.failures)
        return Health(
            status="degraded" if failed else "ok",
            position=position,
            head=head,
            lag=head - position,
            failed_events=failed or None,
        )

    @get("/live")
    async def live(self) -> Health:
        """Report that the process is running."""
        return Health(status="alive")

    @get("/ready")
    async def ready(self, container: AppContainer) -> Response[Health]:
        """Report ready when the read-model database responds to a query."""
        try:
            async with container.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return Response(Health(status="unavailable"), status_code=503)
        return Response(Health(status="ready"))
