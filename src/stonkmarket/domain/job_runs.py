"""The JobRun aggregate: one run of a job, from request to outcome.

    requested ──▶ started ──▶ progressed* ──▶ succeeded | failed
        │            └──▶ started again (a retry after a lost worker)
        └──▶ skipped | failed

A scheduled run's id comes from its job and tick, so a second scheduler
firing the same tick collides with the first in the event store. A manual
run gets a fresh random id.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import RunStateError

MAX_ATTEMPTS = 2
LOG_LEVELS = ("info", "warning", "error")


class RunStatus(StrEnum):
    REQUESTED = "requested"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


FINISHED = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.SKIPPED}
)


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class JobRun(Aggregate):
    """One run of a job; `params` are what the job was asked to work on."""

    class Requested(Aggregate.Created):
        job: str
        trigger: str
        tick: dt.datetime | None
        params: dict[str, Any]
        actor: str
        correlation_id: str | None

    class Started(Aggregate.Event):
        job: str
        attempt: int
        worker: str

    class Progressed(Aggregate.Event):
        """A line of the run's log; `level` is info, warning or error."""

        job: str
        message: str
        details: dict[str, Any]
        level: str

    class Succeeded(Aggregate.Event):
        job: str
        summary: dict[str, Any]

    class Failed(Aggregate.Event):
        """The run ended with an error; `partial` when only some of its work failed."""

        job: str
        error: str
        summary: dict[str, Any]
        partial: bool

    class Skipped(Aggregate.Event):
        job: str
        reason: str

    class SignalsExpired(Aggregate.Event):
        """Signals computed before `before`, and logouts expired by then, go."""

        job: str
        before: dt.datetime

    @staticmethod
    def create_id(job: str, trigger: str, tick: dt.datetime | None, *_: object) -> UUID:
        if trigger == Trigger.SCHEDULE and tick is not None:
            return scheduled_run_id(job, tick)
        return uuid4()

    @event(Requested)
    def __init__(
        self,
        job: str,
        trigger: str,
        tick: dt.datetime | None,
        params: dict[str, Any],
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.job = job
        self.params = params
        self.status = RunStatus.REQUESTED
        self.attempt = 0

    @classmethod
    def for_tick(cls, job: str, tick: dt.datetime, *, actor: str) -> JobRun:
        """Request the run of a scheduled tick; its id is the tick's."""
        return cls(job, Trigger.SCHEDULE, tick, {}, actor, None)

    @classmethod
    def on_demand(
        cls,
        job: str,
        params: dict[str, Any],
        *,
        actor: str,
        correlation_id: str | None = None,
    ) -> JobRun:
        """Request a run now, with a fresh id."""
        return cls(job, Trigger.MANUAL, None, params, actor, correlation_id)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def start(self, *, worker: str) -> None:
        """Begin the run; a run already started may begin once more as a retry."""
        if self.finished:
            raise self._rejected("start")
        if self.status == RunStatus.RUNNING and self.attempt >= MAX_ATTEMPTS:
            raise RunStateError(
                f"run {self.id} of {self.job} already started {self.attempt} times",
                field="run_id",
            )
        self._started(self.job, self.attempt + 1, worker)

    def progress(
        self,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        level: str = "info",
    ) -> None:
        """Note a step of a running run in its log."""
        self._check_running("progress")
        if level not in LOG_LEVELS:
            raise RunStateError(
                f"log level must be one of {', '.join(LOG_LEVELS)}, got {level!r}",
                field="level",
            )
        self._progressed(self.job, message, details or {}, level)

    def succeed(self, summary: dict[str, Any] | None = None) -> None:
        self._check_running("succeed")
        self._succeeded(self.job, summary or {})

    def fail(
        self,
        error: str,
        summary: dict[str, Any] | None = None,
        *,
        partial: bool = False,
    ) -> None:
        """End the run as failed; a run no worker started may fail too."""
        if self.finished:
            raise self._rejected("fail")
        self._failed(self.job, error, summary or {}, partial)

    def skip(self, reason: str) -> None:
        """End a run that has not started, doing nothing."""
        if self.status != RunStatus.REQUESTED:
            raise self._rejected("skip")
        self._skipped(self.job, reason)

    def expire_signals(self, before: dt.datetime) -> None:
        """Note that this cleanup run expires what was computed before `before`."""
        self._check_running("expire signals")
        self._signals_expired(self.job, before)

    def _check_running(self, step: str) -> None:
        if self.status != RunStatus.RUNNING:
            raise self._rejected(step)

    def _rejected(self, step: str) -> RunStateError:
        return RunStateError(
            f"run {self.id} of {self.job} is {self.status.value}; it cannot {step}",
            field="run_id",
        )

    @event(Started)
    def _started(self, job: str, attempt: int, worker: str) -> None:
        self.status = RunStatus.RUNNING
        self.attempt = attempt

    @event(Progressed)
    def _progressed(
        self, job: str, message: str, details: dict[str, Any], level: str
    ) -> None:
        pass

    @event(Succeeded)
    def _succeeded(self, job: str, summary: dict[str, Any]) -> None:
        self.status = RunStatus.SUCCEEDED

    @event(Failed)
    def _failed(
        self, job: str, error: str, summary: dict[str, Any], partial: bool
    ) -> None:
        self.status = RunStatus.PARTIAL if partial else RunStatus.FAILED

    @event(SignalsExpired)
    def _signals_expired(self, job: str, before: dt.datetime) -> None:
        pass

    @event(Skipped)
    def _skipped(self, job: str, reason: str) -> None:
        self.status = RunStatus.SKIPPED


def scheduled_run_id(job: str, tick: dt.datetime) -> UUID:
    """Return the id of the run of `job` at `tick`, the same in every scheduler."""
    instant = tick.astimezone(dt.UTC).isoformat(timespec="seconds")
    return uuid5(NAMESPACE_URL, f"jobrun:{job}:{instant}")
