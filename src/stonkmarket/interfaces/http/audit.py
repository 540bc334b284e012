"""The audit trail of configuration changes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from stonkmarket.application.audit_pages import (
    AuditFilter,
    AuditPage,
    decode_cursor,
    parse_instant,
)
from stonkmarket.interfaces.http.access_gate import admin_only
from stonkmarket.interfaces.http.context import AppContainer

Instant = Annotated[
    str | None,
    QueryParameter(
        max_length=64,
        description="an ISO 8601 date or date-time; UTC when it has no offset",
    ),
]


class AuditController(Controller):
    path = "/api/audit"
    tags = ("audit",)
    guards = [admin_only]  # noqa: RUF012 - Litestar reads the class attribute

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
        since: Instant = None,
        until: Instant = None,
        limit: Annotated[int, QueryParameter(description="rows, 1 to 500")] = 50,
        cursor: Annotated[
            str | None,
            QueryParameter(
                max_length=200,
                description="next_cursor of the previous page, unchanged",
            ),
        ] = None,
    ) -> AuditPage:
        """Return configuration changes, newest first, a page at a time.

        `since` is inclusive and `until` exclusive.
        """
        audit_filter = AuditFilter(
            subject=subject,
            actor=actor,
            since=parse_instant(since, "since"),
            until=parse_instant(until, "until"),
            before_position=None if cursor is None else decode_cursor(cursor),
        )
        return await container.queries.audit(audit_filter, limit)
