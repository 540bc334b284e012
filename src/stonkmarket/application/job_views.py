"""Read-model shapes of jobs, their runs and the runs' logs."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec


class JobView(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the jobs view. A job with no cron runs only on demand."""

    name: str
    description: str
    cron: str | None
    timezone: str | None
    enabled: bool
    updated_at: dt.datetime


class JobRunView(msgspec.Struct, frozen=True, kw_only=True):
    """One run of a job: what asked for it, where it is, how it ended.

    `tick` is the scheduled instant of a scheduled run, null for a manual one;
    `duration_ms` runs from the last start to the end.
    """

    run_id: UUID
    job: str
    trigger: str
    tick: dt.datetime | None
    status: str
    attempt: int
    params: dict[str, Any]
    actor: str
    correlation_id: str | None
    requested_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration_ms: int | None = None
    worker: str | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None
    position: int = 0


class JobLogLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a run's log, from one of the run's events."""

    run_id: UUID
    position: int
    at: dt.datetime
    level: str
    message: str
    details: dict[str, Any] | None = None


class LastRun(msgspec.Struct, frozen=True, kw_only=True):
    run_id: UUID
    status: str
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    duration_ms: int | None


class JobSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A job with its next five run times (UTC) and its last run."""

    name: str
    description: str
    cron: str | None
    timezone: str | None
    enabled: bool
    on_demand: bool
    next_runs: list[dt.datetime]
    last_run: LastRun | None
    updated_at: dt.datetime


class RunWithLog(msgspec.Struct, frozen=True, kw_only=True):
    """A run and every line of its log, oldest first."""

    run: JobRunView
    log: list[JobLogLine]


class RunPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a job's runs with their logs, newest first, and the next cursor."""

    runs: list[RunWithLog]
    next_cursor: str | None
