"""The Job aggregate: a command the product runs on a schedule or on demand."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import OnDemandJobError, UnknownJobError
from stonkmarket.domain.schedules import check_schedule

NEW_YORK = "America/New_York"


class JobDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A job as first registered; `cron` None means it runs only on demand."""

    name: str
    description: str
    cron: str | None = None
    timezone: str | None = None


DEFAULT_JOBS: tuple[JobDefinition, ...] = (
    JobDefinition(
        name="ingest_prices",
        description="fetch new daily bars of every watched ticker and the benchmark",
        cron="30 17 * * 1-5",
        timezone=NEW_YORK,
    ),
    JobDefinition(
        name="refresh_fundamentals",
        description="fetch a fundamentals snapshot of every watched ticker",
        cron="0 6 * * 6",
        timezone=NEW_YORK,
    ),
    JobDefinition(
        name="cleanup",
        description="expire signals older than 7 days and forget expired logouts",
        cron="0 3 * * *",
        timezone="UTC",
    ),
    JobDefinition(
        name="dipfinder_run",
        description="recompute the signals of given tickers and windows",
    ),
    JobDefinition(
        name="rebuild_projections",
        description="empty the read models and replay every event",
    ),
)
JOB_NAMES = tuple(job.name for job in DEFAULT_JOBS)


def definition_of(name: str) -> JobDefinition:
    """Return the definition of the job `name`, or raise UnknownJobError."""
    for job in DEFAULT_JOBS:
        if job.name == name:
            return job
    raise UnknownJobError(
        f"there is no job {name[:64]!r}; the jobs are {', '.join(JOB_NAMES)}",
        field="name",
    )


class Job(Aggregate):
    """A job's schedule and whether the scheduler starts it."""

    class Registered(Aggregate.Created):
        name: str
        description: str
        cron: str | None
        timezone: str | None
        enabled: bool
        actor: str

    class ScheduleChanged(Aggregate.Event):
        name: str
        cron: str
        timezone: str
        actor: str
        correlation_id: str | None

    class Enabled(Aggregate.Event):
        name: str
        actor: str
        correlation_id: str | None

    class Disabled(Aggregate.Event):
        name: str
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(name: str, *_: object, **__: object) -> UUID:
        return job_id(name)

    @event(Registered)
    def __init__(
        self,
        name: str,
        description: str,
        cron: str | None,
        timezone: str | None,
        enabled: bool,
        actor: str,
    ) -> None:
        self.name = name
        self.description = description
        self.cron = cron
        self.timezone = timezone
        self.enabled = enabled

    @classmethod
    def register(cls, definition: JobDefinition, *, actor: str) -> Job:
        """Register a job with its default schedule, enabled."""
        if definition.cron is not None:
            check_schedule(definition.cron, definition.timezone or "UTC")
        return cls(
            definition.name,
            definition.description,
            definition.cron,
            definition.timezone,
            True,
            actor,
        )

    @property
    def on_demand(self) -> bool:
        return self.cron is None

    def change(
        self,
        *,
        cron: str | None,
        timezone: str | None,
        enabled: bool | None,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Change the schedule and the switch; None leaves a value as it is.

        Every rule is checked before any event is recorded, so a bad value
        changes nothing.
        """
        if cron is not None:
            # Fields are kept one space apart, so a schedule reads the same
            # whatever whitespace it was sent with.
            cron = " ".join(cron.split())
        if self.on_demand and (cron is not None or timezone is not None):
            raise OnDemandJobError(
                f"{self.name} runs only on demand and takes no schedule; "
                f"start it with POST /api/cronjobs/{self.name}/run",
                field="cron" if cron is not None else "timezone",
            )
        new_cron = self.cron if cron is None else cron
        new_timezone = self.timezone if timezone is None else timezone
        if new_cron is not None and new_timezone is not None:
            check_schedule(new_cron, new_timezone)
            if (new_cron, new_timezone) != (self.cron, self.timezone):
                self._schedule_changed(
                    self.name, new_cron, new_timezone, actor, correlation_id
                )
        if enabled is True and not self.enabled:
            self._enabled(self.name, actor, correlation_id)
        elif enabled is False and self.enabled:
            self._disabled(self.name, actor, correlation_id)

    @event(ScheduleChanged)
    def _schedule_changed(
        self,
        name: str,
        cron: str,
        timezone: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.cron = cron
        self.timezone = timezone

    @event(Enabled)
    def _enabled(self, name: str, actor: str, correlation_id: str | None) -> None:
        self.enabled = True

    @event(Disabled)
    def _disabled(self, name: str, actor: str, correlation_id: str | None) -> None:
        self.enabled = False


def job_id(name: str) -> UUID:
    """Return the Job's id, the same for the same name every time."""
    return uuid5(NAMESPACE_URL, f"job:{name}")
