"""The audit trail of configuration changes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from stonkmarket.application.views import AuditEntry
from stonkmarket.interfaces.http.context import AppContainer


class AuditController(Controller):
    path = "/api/audit"
    tags = ("audit",)

    @get("/")
    async def audit(
        self,
        container: AppContainer,
        subject: Annotated[
            str | None,
            QueryParameter(description='what changed, e.g. "symbol:AAPL"'),
        ] = None,
        actor: Annotated[
            str | None, QueryParameter(description="who changed it")
        ] = None,
        before: Annotated[
            int | None,
            QueryParameter(
                ge=1, le=2**62, description="only entries older than this position"
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(description="rows, 1 to 500")] = 50,
    ) -> list[AuditEntry]:
        """Return configuration changes, newest first; page with `before`."""
        return await container.queries.audit(
            subject=subject, actor=actor, before_position=before, limit=limit
        )
