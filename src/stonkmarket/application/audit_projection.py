"""The audit trail: every configuration and account change, before and after."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from stonkmarket.application.view_changes import ViewChanges
from stonkmarket.application.views import AuditEntry
from stonkmarket.domain.account import Account
from stonkmarket.domain.job_runs import JobRun
from stonkmarket.domain.jobs import Job
from stonkmarket.domain.settings import DipFinderSettings
from stonkmarket.domain.symbol import Symbol
from stonkmarket.domain.token_logout import TokenLogout


class AuditProjection:
    """Every configuration and account change, with the values before and after.

    Runs first, so it reads the views as they were before the event. Account
    rows never hold a password hash.
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
        if isinstance(event, ACCOUNT_EVENTS):
            return _account_change(event)
        if isinstance(event, JOB_EVENTS):
            return await _job_change(event, views)
        if isinstance(event, TokenLogout.LoggedOut):
            after = {"expires_at": event.expires_at.isoformat()}
            return f"account:{event.username}", "logged_out", None, after
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
# Account.PasswordRehashed is left out: a sign-in stores the same password
# hashed with new parameters, which changes nothing anyone asked for.
ACCOUNT_EVENTS = (
    Account.Registered,
    Account.PasswordChanged,
    Account.Renamed,
    Account.RoleChanged,
    Account.TokensRevoked,
)


JOB_EVENTS = (Job.ScheduleChanged, Job.Enabled, Job.Disabled, JobRun.Requested)


async def _job_change(event: Aggregate.Event, views: ViewChanges) -> AuditChange | None:
    """Return the audit row of a schedule change, a switch, or a manual run."""
    if isinstance(event, JobRun.Requested):
        if event.tick is not None:
            return None
        after = {"run_id": str(event.originator_id), "params": dict(event.params)}
        return f"job:{event.job}", "run_requested", None, after
    assert isinstance(event, Job.ScheduleChanged | Job.Enabled | Job.Disabled)
    subject = f"job:{event.name}"
    if isinstance(event, Job.ScheduleChanged):
        known = await views.job_row(event.name)
        before = None if known is None else _schedule(known.cron, known.timezone)
        after = _schedule(event.cron, event.timezone)
        return subject, "schedule_changed", before, after
    enabled = isinstance(event, Job.Enabled)
    action = "job_enabled" if enabled else "job_disabled"
    return subject, action, {"enabled": not enabled}, {"enabled": enabled}


def _schedule(cron: str | None, timezone: str | None) -> dict[str, Any]:
    return {"cron": cron, "timezone": timezone}


def _thresholds(min_dip_pct: float | None, min_days: int | None) -> dict[str, Any]:
    return {"min_dip_pct": min_dip_pct, "min_days": min_days}


def _account_change(event: Aggregate.Event) -> AuditChange | None:
    """Return the audit row of an account event, under the name it has after it."""
    if isinstance(event, Account.Registered):
        after = {"username": event.username, "role": event.role}
        return f"account:{event.username}", "account_registered", None, after
    if isinstance(event, Account.Renamed):
        return (
            f"account:{event.new_username}",
            "username_changed",
            {"username": event.old_username},
            {"username": event.new_username},
        )
    if isinstance(event, Account.RoleChanged):
        return (
            f"account:{event.username}",
            "role_changed",
            {"role": event.old_role},
            {"role": event.new_role},
        )
    if isinstance(event, Account.PasswordChanged | Account.TokensRevoked):
        action = (
            "password_changed"
            if isinstance(event, Account.PasswordChanged)
            else "tokens_revoked"
        )
        after = {"not_before": event.not_before.isoformat()}
        return f"account:{event.username}", action, None, after
    return None
