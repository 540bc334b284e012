"""Commands and receipts of jobs and their runs."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec

from stonkmarket.application.commands import Command, Receipt
from stonkmarket.application.job_views import JobView


class ChangeSchedule(Command, frozen=True, kw_only=True):
    """Change a job's cron, timezone or switch; None leaves a value unchanged."""

    name: str
    cron: str | None = None
    timezone: str | None = None
    enabled: bool | None = None


class RequestRun(Command, frozen=True, kw_only=True):
    """Ask for a run of `job` now, with a fresh run id."""

    job: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class RequestTick(Command, frozen=True, kw_only=True):
    """Ask for the run of `job` at a scheduled `tick`; the tick gives its id."""

    job: str
    tick: dt.datetime


class StartRun(Command, frozen=True, kw_only=True):
    run_id: UUID
    worker: str


class ProgressRun(Command, frozen=True, kw_only=True):
    run_id: UUID
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    level: str = "info"


class FinishRun(Command, frozen=True, kw_only=True):
    """End a run: succeeded without `error`, failed (or partial) with one."""

    run_id: UUID
    error: str | None = None
    partial: bool = False
    summary: dict[str, Any] = msgspec.field(default_factory=dict)


class SkipRun(Command, frozen=True, kw_only=True):
    run_id: UUID
    reason: str


class ExpireSignals(Command, frozen=True, kw_only=True):
    """Record, on a cleanup run, that signals computed before `before` expire."""

    run_id: UUID
    before: dt.datetime


class JobReceipt(Receipt, frozen=True, kw_only=True):
    job: JobView


class RunReceipt(Receipt, frozen=True, kw_only=True):
    """The run a command requested or changed."""

    run_id: UUID
    job: str
