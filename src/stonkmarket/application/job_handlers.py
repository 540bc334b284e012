"""Command handlers of jobs and runs: load, ask the domain, save."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from stonkmarket.application.errors import ConflictError, NotFoundError
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.job_commands import (
    ChangeSchedule,
    ExpireSignals,
    FinishRun,
    JobReceipt,
    ProgressRun,
    RequestRun,
    RequestTick,
    RunReceipt,
    SkipRun,
    StartRun,
)
from stonkmarket.application.job_params import check_params
from stonkmarket.application.job_views import JobView
from stonkmarket.domain.job_runs import JobRun
from stonkmarket.domain.jobs import DEFAULT_JOBS, Job, definition_of, job_id


class TickTakenError(ConflictError):
    """Raised when another scheduler already requested the run of a tick."""


def register_default_jobs(store: EventStore, actor: str = "system:setup") -> int:
    """Register every job that is not registered yet; return the last position.

    Another process registering at the same moment wins the race harmlessly.
    """
    position = 0
    for definition in DEFAULT_JOBS:
        if store.get(job_id(definition.name), Job) is not None:
            continue
        try:
            position = store.save(Job.register(definition, actor=actor))
        except ConflictError:
            continue
    return position


def change_schedule(store: EventStore, command: ChangeSchedule) -> JobReceipt:
    """Change a job's cron, timezone or switch; an unchanged job records nothing."""
    definition_of(command.name)
    job = store.get(job_id(command.name), Job)
    if job is None:
        raise NotFoundError(
            f"job {command.name} is not registered yet; start the service once",
            field="name",
        )
    job.change(
        cron=command.cron,
        timezone=command.timezone,
        enabled=command.enabled,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    position = store.save(job) if job.pending_events else 0
    view = JobView(
        name=job.name,
        description=job.description,
        cron=job.cron,
        timezone=job.timezone,
        enabled=job.enabled,
        updated_at=job.modified_on,
    )
    return JobReceipt(subject=job.name, position=position, job=view)


def request_run(store: EventStore, command: RequestRun) -> RunReceipt:
    """Request a run of a job now, whatever its schedule or switch."""
    definition_of(command.job)
    params = check_params(command.job, command.params)
    run = JobRun.on_demand(
        command.job,
        params,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    return _receipt(run, store.save(run))


def request_tick(store: EventStore, command: RequestTick) -> RunReceipt:
    """Request the run of a scheduled tick; TickTakenError when already requested."""
    definition_of(command.job)
    run = JobRun.for_tick(command.job, command.tick, actor=command.actor)
    try:
        position = store.save(run)
    except ConflictError as exc:
        raise TickTakenError(
            f"the {command.tick.isoformat()} run of {command.job} was already "
            "requested",
            field="tick",
        ) from exc
    return _receipt(run, position)


def start_run(store: EventStore, command: StartRun) -> RunReceipt:
    return _step(store, command.run_id, lambda run: run.start(worker=command.worker))


def progress_run(store: EventStore, command: ProgressRun) -> RunReceipt:
    return _step(
        store,
        command.run_id,
        lambda run: run.progress(command.message, command.details, level=command.level),
    )


def finish_run(store: EventStore, command: FinishRun) -> RunReceipt:
    def finish(run: JobRun) -> None:
        if command.error is None:
            run.succeed(command.summary)
        else:
            run.fail(command.error, command.summary, partial=command.partial)

    return _step(store, command.run_id, finish)


def skip_run(store: EventStore, command: SkipRun) -> RunReceipt:
    return _step(store, command.run_id, lambda run: run.skip(command.reason))


def expire_signals(store: EventStore, command: ExpireSignals) -> RunReceipt:
    return _step(store, command.run_id, lambda run: run.expire_signals(command.before))


def load_run(store: EventStore, run_id: UUID) -> JobRun:
    """Return the run, or raise NotFoundError."""
    run = store.get(run_id, JobRun)
    if run is None:
        raise NotFoundError(f"there is no job run {run_id}", field="run_id")
    return run


def _step(
    store: EventStore, run_id: UUID, change: Callable[[JobRun], None]
) -> RunReceipt:
    run = load_run(store, run_id)
    change(run)
    return _receipt(run, store.save(run))


def _receipt(run: JobRun, position: int) -> RunReceipt:
    return RunReceipt(subject=run.job, position=position, run_id=run.id, job=run.job)
