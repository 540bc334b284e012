"""The projections: how far each has read, and rebuilding them."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath

from stonkmarket.infrastructure.projection_runner import ProjectionStatus
from stonkmarket.interfaces.http.access_gate import admin_only
from stonkmarket.interfaces.http.context import AppContainer
from stonkmarket.interfaces.http.schemas import Rebuilt


class ProjectionController(Controller):
    path = "/api/projections"
    tags = ("projections",)
    guards = [admin_only]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/")
    async def status(self, container: AppContainer) -> list[ProjectionStatus]:
        """Return each projection's position, the newest event and the lag."""
        return await container.runner.status()

    @post("/{name:str}/rebuild")
    async def rebuild(self, container: AppContainer, name: FromPath[str]) -> Rebuilt:
        """Empty the views and replay every event; `all` or any projection's name.

        The projections read each other's rows, so naming one rebuilds all.
        """
        replayed = await container.runner.rebuild(name)
        return Rebuilt(events_replayed=replayed)
