"""The jobs, job runs and job logs views in SQL: written by the projection
runner, read by the job queries and the scheduler."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Row, and_, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stonkmarket.application.job_views import JobLogLine, JobRunView, JobView
from stonkmarket.infrastructure.sql_views import upsert
from stonkmarket.infrastructure.tables import (
    dipfinder_signals,
    job_logs,
    job_runs,
    jobs,
    revoked_tokens,
)

SIGNAL_KEY = ("ticker", "window", "benchmark", "settings_version")


def _job(row: Row[Any]) -> JobView:
    return JobView(**row._asdict())


def _run(row: Row[Any]) -> JobRunView:
    return JobRunView(**row._asdict())


def _line(row: Row[Any]) -> JobLogLine:
    return JobLogLine(**row._asdict())


class SqlJobChanges:
    """The job views inside one transaction of the projection runner."""

    conn: AsyncConnection

    async def put_job(self, job: JobView) -> None:
        await upsert(self.conn, jobs, [msgspec.structs.asdict(job)])

    async def job_row(self, name: str) -> JobView | None:
        row = (await self.conn.execute(select(jobs).where(jobs.c.name == name))).first()
        return None if row is None else _job(row)

    async def put_run(self, run: JobRunView) -> None:
        await upsert(self.conn, job_runs, [msgspec.structs.asdict(run)])

    async def run_row(self, run_id: UUID) -> JobRunView | None:
        query = select(job_runs).where(job_runs.c.run_id == run_id)
        row = (await self.conn.execute(query)).first()
        return None if row is None else _run(row)

    async def put_run_log(self, line: JobLogLine) -> None:
        await upsert(self.conn, job_logs, [msgspec.structs.asdict(line)])

    async def expire_signals(self, before: dt.datetime) -> None:
        """Delete signals computed before `before`, but never the newest of a key.

        The newest signal of each ticker, window, benchmark and settings
        version stays, so a ticker whose prices stopped keeps its last signal.
        """
        signals = dipfinder_signals.c
        key = [signals[name] for name in SIGNAL_KEY]
        newest = select(*key, func.max(signals.as_of_date)).group_by(*key)
        await self.conn.execute(
            delete(dipfinder_signals).where(
                and_(
                    signals.computed_at < before,
                    tuple_(*key, signals.as_of_date).not_in(newest),
                )
            )
        )
        await self.conn.execute(
            delete(revoked_tokens).where(revoked_tokens.c.expires_at < before)
        )


class SqlJobReadModels:
    """Reads of the job views, one connection per call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def jobs(self) -> list[JobView]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(jobs).order_by(jobs.c.name))
            return [_job(row) for row in rows]

    async def job(self, name: str) -> JobView | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.name == name))).first()
            return None if row is None else _job(row)

    async def last_runs(self) -> dict[str, JobRunView]:
        """Return each job's newest run."""
        newest = select(job_runs.c.job, func.max(job_runs.c.position)).group_by(
            job_runs.c.job
        )
        query = select(job_runs).where(
            tuple_(job_runs.c.job, job_runs.c.position).in_(newest)
        )
        async with self.engine.connect() as conn:
            return {row.job: _run(row) for row in await conn.execute(query)}

    async def runs(
        self, job: str, limit: int, before_position: int | None = None
    ) -> list[JobRunView]:
        """Return up to `limit` runs of `job`, newest first."""
        query = select(job_runs).where(job_runs.c.job == job)
        if before_position is not None:
            query = query.where(job_runs.c.position < before_position)
        query = query.order_by(job_runs.c.position.desc()).limit(limit)
        async with self.engine.connect() as conn:
            return [_run(row) for row in await conn.execute(query)]

    async def run(self, run_id: UUID) -> JobRunView | None:
        async with self.engine.connect() as conn:
            query = select(job_runs).where(job_runs.c.run_id == run_id)
            row = (await conn.execute(query)).first()
            return None if row is None else _run(row)

    async def runs_in(self, statuses: Sequence[str]) -> list[JobRunView]:
        """Return every run whose status is one of `statuses`, oldest first."""
        query = (
            select(job_runs)
            .where(job_runs.c.status.in_(list(statuses)))
            .order_by(job_runs.c.position)
        )
        async with self.engine.connect() as conn:
            return [_run(row) for row in await conn.execute(query)]

    async def logs(self, run_ids: Sequence[UUID]) -> dict[UUID, list[JobLogLine]]:
        """Return the log lines of each run, oldest first."""
        found: dict[UUID, list[JobLogLine]] = {run_id: [] for run_id in run_ids}
        if not run_ids:
            return found
        query = (
            select(job_logs)
            .where(job_logs.c.run_id.in_(list(run_ids)))
            .order_by(job_logs.c.position)
        )
        async with self.engine.connect() as conn:
            for row in await conn.execute(query):
                found[row.run_id].append(_line(row))
        return found
