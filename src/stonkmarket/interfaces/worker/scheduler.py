"""The scheduler: requests each due tick of each enabled job, and mends runs
that no worker is carrying.

Any number of schedulers may run. Each one requests the run of a tick under
the tick's own id, so the event store accepts the first request and rejects
the rest. Only the scheduler whose request was stored hands it to a worker.
The schedule is read again from the jobs view every `reload_seconds`, so a
cron changed through the API takes effect without a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from uuid import UUID

import structlog

from stonkmarket.application.errors import ConflictError
from stonkmarket.application.job_commands import FinishRun, RequestTick
from stonkmarket.application.job_handlers import (
    TickTakenError,
    finish_run,
    request_tick,
)
from stonkmarket.application.job_views import JobRunView, JobView
from stonkmarket.domain.errors import RunStateError
from stonkmarket.domain.job_runs import RunStatus
from stonkmarket.domain.schedules import ticks_between
from stonkmarket.interfaces.worker.context import JobContext
from stonkmarket.interfaces.worker.lifecycle import record
from stonkmarket.interfaces.worker.runtime import JobRuntime

log = structlog.get_logger(__name__)
ACTOR = "system:scheduler"
WAKE_AFTER_SECONDS = 0.01


class Scheduler:
    """Fires due ticks and hands their runs to the workers."""

    def __init__(
        self,
        runtime: JobRuntime,
        *,
        poll_seconds: float = 1.0,
        reload_seconds: float = 15.0,
        requeue_after: dt.timedelta = dt.timedelta(minutes=2),
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.runtime = runtime
        self.context: JobContext = runtime.context
        self.poll_seconds = poll_seconds
        self.reload_seconds = reload_seconds
        self.requeue_after = requeue_after
        self.now = now or self.context.now
        self.since = self.now()
        self._jobs: list[JobView] = []
        self._loaded_at: dt.datetime | None = None
        self._swept_at: dt.datetime | None = None
        self._stopping = False

    async def run_forever(self) -> None:
        """Fire ticks until stopped; an error is logged and the loop goes on."""
        log.info("scheduler_started", since=self.since.isoformat())
        while not self._stopping:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("scheduler_step_failed", exc_info=exc)
            await asyncio.sleep(self._pause())

    def _pause(self) -> float:
        """Seconds until just after the next multiple of `poll_seconds`.

        Cron ticks fall on whole minutes, so waking just after a whole second
        fires a tick a few milliseconds late rather than up to a poll late.
        """
        into_poll = self.now().timestamp() % self.poll_seconds
        return self.poll_seconds - into_poll + WAKE_AFTER_SECONDS

    def stop(self) -> None:
        self._stopping = True

    async def step(self) -> list[UUID]:
        """Request and hand out every tick in (last step, now]; return their runs."""
        now = self.now()
        await self._reload(now)
        fired: list[UUID] = []
        for job in self._jobs:
            if not job.enabled or job.cron is None or job.timezone is None:
                continue
            for tick in ticks_between(job.cron, job.timezone, self.since, now):
                run_id = await self._fire(job.name, tick)
                if run_id is not None:
                    fired.append(run_id)
        self.since = now
        if self._swept_at is None or now - self._swept_at >= self.requeue_after / 2:
            self._swept_at = now
            await self.sweep(now)
        return fired

    async def _reload(self, now: dt.datetime) -> None:
        stale = (
            self._loaded_at is None
            or (now - self._loaded_at).total_seconds() >= self.reload_seconds
        )
        if stale:
            self._jobs = await self.context.container.jobs.schedules()
            self._loaded_at = now

    async def _fire(self, job: str, tick: dt.datetime) -> UUID | None:
        try:
            receipt = await record(
                self.context,
                request_tick,
                RequestTick(job=job, tick=tick, actor=ACTOR),
            )
        except TickTakenError:
            return None
        await self.runtime.enqueue(receipt.run_id)
        log.info(
            "job_tick_fired",
            job=job,
            tick=tick.isoformat(),
            run_id=str(receipt.run_id),
            delay_ms=round((self.now() - tick).total_seconds() * 1000),
        )
        return receipt.run_id

    async def sweep(self, now: dt.datetime) -> None:
        """Hand out runs left requested, and fail runs whose worker died.

        A request whose hand-over was lost (a scheduler stopped between the
        two) is handed out again; a worker that finds it already done does
        nothing. A running run whose lock no one has any more lost its
        worker: it ends failed.
        """
        for run in await self.context.container.jobs.unfinished_runs():
            if now - run.requested_at < self.requeue_after:
                continue
            if run.status == RunStatus.REQUESTED:
                await self.runtime.enqueue(run.run_id)
                log.warning("job_run_requeued", job=run.job, run_id=str(run.run_id))
            elif await self._orphaned(run, now):
                await self._fail_orphan(run)

    async def _orphaned(self, run: JobRunView, now: dt.datetime) -> bool:
        if run.started_at is None:
            return False
        started_long_ago = (now - run.started_at).total_seconds() > (
            self.context.lock_seconds
        )
        holder = await self.context.lock.owner(run.job)
        held_by_run = holder is not None and holder.startswith(str(run.run_id))
        return started_long_ago and not held_by_run

    async def _fail_orphan(self, run: JobRunView) -> None:
        error = (
            f"the worker {run.worker} stopped during attempt {run.attempt}: "
            "its lock expired without the run ending; request the job again"
        )
        try:
            await record(
                self.context,
                finish_run,
                FinishRun(run_id=run.run_id, error=error, actor=ACTOR),
            )
        except (RunStateError, ConflictError):
            # Another scheduler ended it first.
            return
        log.warning("job_run_orphaned", job=run.job, run_id=str(run.run_id))
