"""One run from start to outcome: the lock, the run's events, and its log.

A run's steps are commands recorded on its JobRun, so the log is rebuilt from
events like every other view. An error a job raises ends the run as failed,
never as a silent success.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID, uuid4

import structlog

from stonkmarket.application.commands import Command, Receipt
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.job_commands import (
    FinishRun,
    ProgressRun,
    SkipRun,
    StartRun,
)
from stonkmarket.application.job_handlers import (
    finish_run,
    load_run,
    progress_run,
    skip_run,
    start_run,
)
from stonkmarket.application.job_locks import JobLockBusyError, held
from stonkmarket.domain.errors import RunStateError
from stonkmarket.domain.job_runs import JobRun, RunStatus
from stonkmarket.interfaces.worker.context import JobContext

log = structlog.get_logger(__name__)
STOPPED_MID_RUN = (
    "the worker {worker} was stopped during the run; bars and snapshots recorded "
    "before it stay recorded; request the job again for the rest"
)
C = TypeVar("C", bound=Command)
R = TypeVar("R", bound=Receipt)


@dataclass(kw_only=True)
class Outcome:
    """The end of a job's work: an error makes the run failed, or partial."""

    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    partial: bool = False


class RunLog:
    """Writes a run's log lines as Progressed events of the run."""

    def __init__(self, context: JobContext, run_id: UUID, job: str) -> None:
        self.context = context
        self.run_id = run_id
        self.job = job

    async def write(
        self, message: str, details: dict[str, Any] | None = None, level: str = "info"
    ) -> None:
        await record(
            self.context,
            progress_run,
            ProgressRun(
                run_id=self.run_id,
                message=message,
                details=details or {},
                level=level,
                actor=self.actor,
            ),
        )

    @property
    def actor(self) -> str:
        return f"system:{self.job}"


Work = Callable[[JobContext, dict[str, Any], RunLog], Awaitable[Outcome]]


async def record(
    context: JobContext, handler: Callable[[EventStore, C], R], command: C
) -> R:
    """Record a run step off the event loop, without waiting for the views."""
    return await asyncio.to_thread(handler, context.container.store, command)


async def perform_run(context: JobContext, run_id: UUID, jobs: dict[str, Work]) -> str:
    """Run the requested run `run_id` once; return the status it ended with.

    A run delivered twice does its work once: the second delivery finds it
    finished or its lock held. A run whose worker died (running, its lock
    expired) starts again as a second attempt.
    """
    task = asyncio.current_task()
    if task is not None:
        context.running.add(task)
    try:
        return await _perform(context, run_id, jobs)
    finally:
        context.running.discard(task)


async def _perform(context: JobContext, run_id: UUID, jobs: dict[str, Work]) -> str:
    run = await asyncio.to_thread(load_run, context.container.store, run_id)
    if run.finished:
        return run.status.value
    owner = f"{run_id}/{uuid4().hex[:12]}"
    try:
        async with held(
            context.lock,
            run.job,
            owner,
            ttl_seconds=context.lock_seconds,
            renew_every_seconds=context.renew_seconds,
        ):
            return await _run_holding_lock(context, run, jobs)
    except JobLockBusyError as busy:
        return await _busy(context, run, busy)


async def _busy(context: JobContext, run: JobRun, busy: JobLockBusyError) -> str:
    """Skip a requested run whose job is running elsewhere; leave a running one."""
    if run.status != RunStatus.REQUESTED:
        return run.status.value
    if busy.holder is not None and busy.holder.startswith(str(run.id)):
        return run.status.value
    reason = f"another run of {run.job} holds its lock ({busy.holder or 'unknown'})"
    try:
        await record(
            context,
            skip_run,
            SkipRun(run_id=run.id, reason=reason, actor=f"system:{run.job}"),
        )
    except RunStateError:
        return (
            await asyncio.to_thread(load_run, context.container.store, run.id)
        ).status.value
    log.info("job_run_skipped", job=run.job, run_id=str(run.id), reason=reason)
    return RunStatus.SKIPPED.value


async def _run_holding_lock(
    context: JobContext, run: JobRun, jobs: dict[str, Work]
) -> str:
    actor = f"system:{run.job}"
    try:
        await record(
            context,
            start_run,
            StartRun(run_id=run.id, worker=context.worker, actor=actor),
        )
    except RunStateError as exc:
        # Another worker finished it, or it has used up its attempts.
        log.info(
            "job_run_not_started", job=run.job, run_id=str(run.id), why=exc.message
        )
        if run.status == RunStatus.RUNNING:
            await _finish(context, run, Outcome(error=exc.message))
            return RunStatus.FAILED.value
        return run.status.value
    started = time.perf_counter()
    structlog.contextvars.bind_contextvars(job=run.job, run_id=str(run.id))
    try:
        outcome = await _work(context, run, jobs)
        await _finish(context, run, outcome)
    finally:
        structlog.contextvars.unbind_contextvars("job", "run_id")
    status = _status(outcome)
    log.info(
        "job_run_finished",
        job=run.job,
        run_id=str(run.id),
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    return status


async def _work(context: JobContext, run: JobRun, jobs: dict[str, Work]) -> Outcome:
    work = jobs.get(run.job)
    if work is None:
        return Outcome(error=f"this worker has no job {run.job}; upgrade it")
    try:
        return await work(context, dict(run.params), RunLog(context, run.id, run.job))
    except asyncio.CancelledError:
        # The process is stopping. Record that on the run, rather than leave
        # it running until a scheduler's sweep notices, then stop.
        stopped = Outcome(error=STOPPED_MID_RUN.format(worker=context.worker))
        await _finish(context, run, stopped)
        log.warning("job_run_interrupted", job=run.job, run_id=str(run.id))
        raise
    except Exception as exc:
        log.error("job_run_crashed", job=run.job, run_id=str(run.id), exc_info=exc)
        return Outcome(error=f"{type(exc).__name__}: {exc}")


async def _finish(context: JobContext, run: JobRun, outcome: Outcome) -> None:
    await record(
        context,
        finish_run,
        FinishRun(
            run_id=run.id,
            error=outcome.error,
            partial=outcome.partial,
            summary=outcome.summary,
            actor=f"system:{run.job}",
        ),
    )


def _status(outcome: Outcome) -> str:
    if outcome.error is None:
        return RunStatus.SUCCEEDED.value
    return (RunStatus.PARTIAL if outcome.partial else RunStatus.FAILED).value
