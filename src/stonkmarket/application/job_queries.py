"""Queries of jobs and runs: what the cron API and the scheduler read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from stonkmarket.application.audit_pages import decode_cursor, encode_cursor
from stonkmarket.application.errors import InvalidQueryError, NotFoundError
from stonkmarket.application.job_views import (
    JobLogLine,
    JobRunView,
    JobSummary,
    JobView,
    LastRun,
    RunPage,
    RunWithLog,
)
from stonkmarket.domain.jobs import definition_of
from stonkmarket.domain.schedules import next_runs

NEXT_RUNS = 5
MAX_RUNS_PAGE = 200


class JobReadModels(Protocol):
    """The job views as queries see them."""

    async def jobs(self) -> list[JobView]: ...
    async def job(self, name: str) -> JobView | None: ...
    async def last_runs(self) -> dict[str, JobRunView]: ...
    async def runs(
        self, job: str, limit: int, before_position: int | None = None
    ) -> list[JobRunView]: ...
    async def run(self, run_id: UUID) -> JobRunView | None: ...
    async def runs_in(self, statuses: Sequence[str]) -> list[JobRunView]: ...
    async def logs(self, run_ids: Sequence[UUID]) -> dict[UUID, list[JobLogLine]]: ...


class JobQueries:
    """Reads of jobs, their next run times, their runs and logs."""

    def __init__(self, views: JobReadModels) -> None:
        self.views = views

    async def schedules(self) -> list[JobView]:
        """Return every registered job as the scheduler needs it."""
        return await self.views.jobs()

    async def jobs(self, now: dt.datetime) -> list[JobSummary]:
        """Return every job, with its next run times after `now` and its last run."""
        last = await self.views.last_runs()
        return [
            _summary(job, last.get(job.name), now) for job in await self.views.jobs()
        ]

    async def job(self, name: str, now: dt.datetime) -> JobSummary:
        job = await self._job(name)
        last = await self.views.last_runs()
        return _summary(job, last.get(name), now)

    async def runs(self, name: str, limit: int, cursor: str | None) -> RunPage:
        """Return a page of the job's runs with their logs, newest first."""
        await self._job(name)
        if not 1 <= limit <= MAX_RUNS_PAGE:
            raise InvalidQueryError(
                f"limit must be from 1 to {MAX_RUNS_PAGE}, got {limit}",
                field="limit",
            )
        before = None if cursor is None else decode_cursor(cursor)
        runs = await self.views.runs(name, limit + 1, before)
        page, more = runs[:limit], len(runs) > limit
        logs = await self.views.logs([run.run_id for run in page])
        return RunPage(
            runs=[RunWithLog(run=run, log=logs[run.run_id]) for run in page],
            next_cursor=encode_cursor(page[-1].position) if more else None,
        )

    async def run(self, run_id: UUID) -> RunWithLog:
        """Return one run and its whole log."""
        run = await self.views.run(run_id)
        if run is None:
            raise NotFoundError(f"there is no job run {run_id}", field="run_id")
        logs = await self.views.logs([run_id])
        return RunWithLog(run=run, log=logs[run_id])

    async def unfinished_runs(self) -> list[JobRunView]:
        """Return the runs still requested or running, oldest first."""
        return await self.views.runs_in(["requested", "running"])

    async def _job(self, name: str) -> JobView:
        definition_of(name)
        job = await self.views.job(name)
        if job is None:
            raise NotFoundError(
                f"job {name} is not registered yet; start the service once",
                field="name",
            )
        return job


def _summary(job: JobView, last: JobRunView | None, now: dt.datetime) -> JobSummary:
    upcoming = (
        []
        if job.cron is None or job.timezone is None or not job.enabled
        else next_runs(job.cron, job.timezone, now, NEXT_RUNS)
    )
    return JobSummary(
        name=job.name,
        description=job.description,
        cron=job.cron,
        timezone=job.timezone,
        enabled=job.enabled,
        on_demand=job.cron is None,
        next_runs=upcoming,
        last_run=None if last is None else _last(last),
        updated_at=job.updated_at,
    )


def _last(run: JobRunView) -> LastRun:
    return LastRun(
        run_id=run.run_id,
        status=run.status,
        requested_at=run.requested_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
    )
