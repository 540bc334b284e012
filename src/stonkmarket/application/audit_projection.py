"""The audit trail: every configuration change with its values before and after."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from stonkmarket.application.view_changes import ViewChanges
from stonkmarket.application.views import AuditEntry
from stonkmarket.domain.settings import DipFinderSettings
from stonkmarket.domain.symbol import Symbol


class AuditProjection:
    """Every configuration change, with the values before and after it.

    Runs first, so it reads the views as they were before the event.
    """

    name = "audit_log"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        change = await self._change(event, views)
        if change is None:
            return
        subject, action, before, after = change
        await views.put_audit(
            AuditEntry(
                position=views.position,
                at=event.timestamp,
                actor=getattr(event, "actor", "unknown"),
                subject=subject,
                action=action,
                before=before,
                after=after,
                correlation_id=getattr(event, "correlation_id", None),
            )
        )

    async def _change(
        self, event: Aggregate.Event, views: ViewChanges
    ) -> AuditChange | None:
        if isinstance(event, DipFinderSettings.Changed):
            current = (await views.settings()).values
            previous = {name: current.get(name) for name in event.changes}
            return (
                "dipfinder_settings",
                "settings_changed",
                previous,
                dict(event.changes),
            )
        if not isinstance(event, SYMBOL_EVENTS):
            return None
        subject = f"symbol:{event.ticker}"
        known = await views.symbol(event.ticker)
        before = (
            None if known is None else _thresholds(known.min_dip_pct, known.min_days)
        )
        if isinstance(event, Symbol.Removed):
            return subject, "symbol_removed", before, None
        after = _thresholds(event.min_dip_pct, event.min_days)
        action = {
            Symbol.Added: "symbol_added",
            Symbol.ReAdded: "symbol_added_again",
            Symbol.ThresholdsChanged: "thresholds_changed",
        }[type(event)]
        return subject, action, before, after


AuditChange = tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]
SYMBOL_EVENTS = (Symbol.Added, Symbol.ReAdded, Symbol.ThresholdsChanged, Symbol.Removed)


def _thresholds(min_dip_pct: float | None, min_days: int | None) -> dict[str, Any]:
    return {"min_dip_pct": min_dip_pct, "min_days": min_days}
