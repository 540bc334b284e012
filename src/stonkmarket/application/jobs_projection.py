"""The jobs, job runs and job logs views, from Job and JobRun events.

A run's log is its events: each one adds a line, so a replay writes the same
log. A cleanup run's SignalsExpired event also expires old signals and
logouts, so a rebuilt view drops what the live one dropped.
"""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.domain import Aggregate

from stonkmarket.application.job_views import JobLogLine, JobRunView, JobView
from stonkmarket.application.view_changes import ViewChanges
from stonkmarket.domain.job_runs import JobRun, RunStatus
from stonkmarket.domain.jobs import Job

JOB_CHANGES = (Job.ScheduleChanged, Job.Enabled, Job.Disabled)
RUN_ENDS = (JobRun.Succeeded, JobRun.Failed, JobRun.Skipped)
END_LEVELS = {
    RunStatus.SUCCEEDED: "info",
    RunStatus.SKIPPED: "warning",
    RunStatus.PARTIAL: "error",
    RunStatus.FAILED: "error",
}


class JobsProjection:
    """One row per job, one per run, and a log line per run event."""

    name = "jobs"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, Job.Registered):
            await views.put_job(
                JobView(
                    name=event.name,
                    description=event.description,
                    cron=event.cron,
                    timezone=event.timezone,
                    enabled=event.enabled,
                    updated_at=event.timestamp,
                )
            )
        elif isinstance(event, JOB_CHANGES):
            await self._change_job(event, views)
        elif isinstance(event, JobRun.Requested):
            await self._requested(event, views)
        elif isinstance(event, JobRun.Event):
            await self._run_step(event, views)

    async def _change_job(
        self,
        event: Job.ScheduleChanged | Job.Enabled | Job.Disabled,
        views: ViewChanges,
    ) -> None:
        job = await views.job_row(event.name)
        if job is None:
            raise ValueError(f"job {event.name} has no row to change")
        changes: dict[str, Any] = {"updated_at": event.timestamp}
        if isinstance(event, Job.ScheduleChanged):
            changes |= {"cron": event.cron, "timezone": event.timezone}
        else:
            changes["enabled"] = isinstance(event, Job.Enabled)
        await views.put_job(msgspec.structs.replace(job, **changes))

    async def _requested(self, event: JobRun.Requested, views: ViewChanges) -> None:
        run = JobRunView(
            run_id=event.originator_id,
            job=event.job,
            trigger=event.trigger,
            tick=event.tick,
            status=RunStatus.REQUESTED.value,
            attempt=0,
            params=dict(event.params),
            actor=event.actor,
            correlation_id=event.correlation_id,
            requested_at=event.timestamp,
            position=views.position,
        )
        await views.put_run(run)
        when = "manually" if event.tick is None else f"for {event.tick.isoformat()}"
        await _log(views, event, f"requested {when} by {event.actor}", event.params)

    async def _run_step(self, event: Aggregate.Event, views: ViewChanges) -> None:
        run = await views.run_row(event.originator_id)
        if run is None:
            raise ValueError(f"job run {event.originator_id} has no row to change")
        if isinstance(event, JobRun.Started):
            changed = msgspec.structs.replace(
                run,
                status=RunStatus.RUNNING.value,
                attempt=event.attempt,
                worker=event.worker,
                started_at=event.timestamp,
            )
            await views.put_run(changed)
            await _log(
                views, event, f"attempt {event.attempt} started on {event.worker}"
            )
        elif isinstance(event, JobRun.Progressed):
            await _log(views, event, event.message, event.details, event.level)
        elif isinstance(event, JobRun.SignalsExpired):
            await views.expire_signals(event.before)
            await _log(
                views,
                event,
                f"expired signals and logouts dated before {event.before.isoformat()}",
            )
        elif isinstance(event, RUN_ENDS):
            await views.put_run(_ended(run, event))
            status, message = _ending(event)
            await _log(views, event, message, _summary(event), END_LEVELS[status])


def _ended(run: JobRunView, event: Aggregate.Event) -> JobRunView:
    status, _ = _ending(event)
    duration = (
        None
        if run.started_at is None
        else round((event.timestamp - run.started_at).total_seconds() * 1000)
    )
    error = None
    if isinstance(event, JobRun.Failed):
        error = event.error
    elif isinstance(event, JobRun.Skipped):
        error = event.reason
    return msgspec.structs.replace(
        run,
        status=status.value,
        finished_at=event.timestamp,
        duration_ms=duration,
        error=error,
        summary=_summary(event),
    )


def _ending(event: Aggregate.Event) -> tuple[RunStatus, str]:
    if isinstance(event, JobRun.Succeeded):
        return RunStatus.SUCCEEDED, "succeeded"
    if isinstance(event, JobRun.Failed):
        status = RunStatus.PARTIAL if event.partial else RunStatus.FAILED
        return status, f"{status.value}: {event.error}"
    assert isinstance(event, JobRun.Skipped)
    return RunStatus.SKIPPED, f"skipped: {event.reason}"


def _summary(event: Aggregate.Event) -> dict[str, Any] | None:
    summary = getattr(event, "summary", None)
    return dict(summary) if summary else None


async def _log(
    views: ViewChanges,
    event: Aggregate.Event,
    message: str,
    details: dict[str, Any] | None = None,
    level: str = "info",
) -> None:
    await views.put_run_log(
        JobLogLine(
            run_id=event.originator_id,
            position=views.position,
            at=event.timestamp,
            level=level,
            message=message,
            details=dict(details) if details else None,
        )
    )
