from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from stonkmarket.application.errors import InvalidParamsError, NotFoundError
from stonkmarket.application.job_commands import (
    ChangeSchedule,
    FinishRun,
    ProgressRun,
    RequestRun,
    RequestTick,
    SkipRun,
    StartRun,
)
from stonkmarket.application.job_handlers import (
    TickTakenError,
    change_schedule,
    finish_run,
    load_run,
    progress_run,
    register_default_jobs,
    request_run,
    request_tick,
    skip_run,
    start_run,
)
from stonkmarket.domain.errors import (
    InvalidCronError,
    InvalidTickerError,
    InvalidTimezoneError,
    RunStateError,
    UnknownJobError,
)
from stonkmarket.domain.job_runs import JobRun, RunStatus
from stonkmarket.domain.jobs import Job, job_id
from stonkmarket.infrastructure.event_store import EventsourcingStore, in_memory_env

# 17:30 in New York on Thursday 15 January 2026 (EST, UTC-5) is 22:30 UTC.
TICK = dt.datetime(2026, 1, 15, 22, 30, tzinfo=dt.UTC)
WINDOWS_RULE = "windows must be a list of window lengths from 7, 30, 100 and 365"


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


@pytest.fixture
def jobs(store: EventsourcingStore) -> EventsourcingStore:
    """The store with the five default jobs registered."""
    register_default_jobs(store)
    return store


def stored_job(store: EventsourcingStore, name: str) -> Job:
    job = store.get(job_id(name), Job)
    assert job is not None
    return job


def requested_params(
    store: EventsourcingStore, job: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Request a run of `job` with `params` and return the params it stored."""
    receipt = request_run(store, RequestRun(job=job, params=params, actor="alice"))
    return load_run(store, receipt.run_id).params


def started(store: EventsourcingStore) -> JobRun:
    """Request a manual run of dipfinder_run, start it and return it as stored."""
    receipt = request_run(store, RequestRun(job="dipfinder_run", actor="alice"))
    start_run(store, StartRun(run_id=receipt.run_id, worker="worker-1"))
    return load_run(store, receipt.run_id)


def test_register_default_jobs_registers_five(store: EventsourcingStore) -> None:
    position = register_default_jobs(store)

    stored = [event for _, event in store.events_after(0, limit=100)]
    assert position == 5
    assert all(isinstance(event, Job.Registered) for event in stored)
    names = [event.name for event in stored if isinstance(event, Job.Registered)]
    assert names == [
        "ingest_prices",
        "refresh_fundamentals",
        "cleanup",
        "dipfinder_run",
        "rebuild_projections",
    ]


def test_register_default_jobs_twice_registers_none(
    jobs: EventsourcingStore,
) -> None:
    position = register_default_jobs(jobs)

    assert position == 0
    assert jobs.head() == 5


def test_registered_jobs_are_stored_enabled(jobs: EventsourcingStore) -> None:
    job = stored_job(jobs, "ingest_prices")

    assert job.cron == "30 17 * * 1-5"
    assert job.timezone == "America/New_York"
    assert job.enabled is True


def test_request_tick_stores_the_run(jobs: EventsourcingStore) -> None:
    receipt = request_tick(jobs, RequestTick(job="ingest_prices", tick=TICK))

    run = load_run(jobs, receipt.run_id)
    assert run.job == "ingest_prices"
    assert run.status == RunStatus.REQUESTED
    assert receipt.job == "ingest_prices"
    assert receipt.position == 6


def test_request_tick_twice_raises_tick_taken(jobs: EventsourcingStore) -> None:
    request_tick(jobs, RequestTick(job="ingest_prices", tick=TICK))

    with pytest.raises(TickTakenError) as raised:
        request_tick(jobs, RequestTick(job="ingest_prices", tick=TICK))

    assert str(raised.value) == (
        "the 2026-01-15T22:30:00+00:00 run of ingest_prices was already requested"
    )
    assert raised.value.field == "tick"
    assert jobs.head() == 6


def test_next_tick_gets_a_new_run(jobs: EventsourcingStore) -> None:
    first = request_tick(jobs, RequestTick(job="ingest_prices", tick=TICK))
    next_tick = TICK + dt.timedelta(days=1)

    second = request_tick(jobs, RequestTick(job="ingest_prices", tick=next_tick))

    assert second.run_id != first.run_id


def test_change_schedule_stores_the_new_cron(jobs: EventsourcingStore) -> None:
    command = ChangeSchedule(name="cleanup", cron="0 4 * * *", actor="alice")

    receipt = change_schedule(jobs, command)

    assert receipt.position == 6
    assert receipt.job.cron == "0 4 * * *"
    assert receipt.job.timezone == "UTC"
    assert stored_job(jobs, "cleanup").cron == "0 4 * * *"


def test_change_schedule_unchanged_stores_nothing(jobs: EventsourcingStore) -> None:
    command = ChangeSchedule(name="cleanup", cron="0 3 * * *", enabled=True)

    receipt = change_schedule(jobs, command)

    assert receipt.position == 0
    assert jobs.head() == 5


def test_change_schedule_with_bad_cron_stores_nothing(
    jobs: EventsourcingStore,
) -> None:
    command = ChangeSchedule(name="cleanup", cron="0 0 30 2 *", enabled=False)

    with pytest.raises(InvalidCronError) as raised:
        change_schedule(jobs, command)

    assert str(raised.value) == (
        "cron '0 0 30 2 *' never fires (no calendar date matches it)"
    )
    assert stored_job(jobs, "cleanup").version == 1
    assert jobs.head() == 5


def test_change_schedule_with_bad_timezone_stores_nothing(
    jobs: EventsourcingStore,
) -> None:
    command = ChangeSchedule(name="cleanup", timezone="../etc/passwd")

    with pytest.raises(InvalidTimezoneError) as raised:
        change_schedule(jobs, command)

    assert str(raised.value) == (
        "timezone '../etc/passwd' is not an IANA timezone; "
        "use a name such as 'America/New_York' or 'UTC'"
    )
    assert stored_job(jobs, "cleanup").version == 1
    assert jobs.head() == 5


def test_change_schedule_of_unknown_job_raises(jobs: EventsourcingStore) -> None:
    with pytest.raises(UnknownJobError) as raised:
        change_schedule(jobs, ChangeSchedule(name="backup", enabled=False))

    assert str(raised.value) == (
        "there is no job 'backup'; the jobs are ingest_prices, "
        "refresh_fundamentals, cleanup, dipfinder_run, rebuild_projections"
    )


def test_change_schedule_before_registration_raises(
    store: EventsourcingStore,
) -> None:
    with pytest.raises(NotFoundError) as raised:
        change_schedule(store, ChangeSchedule(name="cleanup", enabled=False))

    assert str(raised.value) == (
        "job cleanup is not registered yet; start the service once"
    )
    assert raised.value.field == "name"


def test_request_run_rejects_unknown_param(jobs: EventsourcingStore) -> None:
    command = RequestRun(job="dipfinder_run", params={"ticker": ["AAPL"]})

    with pytest.raises(InvalidParamsError) as raised:
        request_run(jobs, command)

    assert str(raised.value) == (
        "dipfinder_run takes no parameter 'ticker'; it accepts: tickers, windows"
    )
    assert raised.value.field == "ticker"
    assert jobs.head() == 5


def test_request_run_rejects_params_of_job_taking_none(
    jobs: EventsourcingStore,
) -> None:
    command = RequestRun(job="cleanup", params={"tickers": ["AAPL"]})

    with pytest.raises(InvalidParamsError) as raised:
        request_run(jobs, command)

    assert str(raised.value) == (
        "cleanup takes no parameter 'tickers'; it accepts: none"
    )
    assert raised.value.field == "tickers"


def test_request_run_normalises_tickers(jobs: EventsourcingStore) -> None:
    params = {"tickers": ["msft", "brk.b", "AAPL", "MSFT", " aapl "]}

    stored = requested_params(jobs, "dipfinder_run", params)

    assert stored == {"tickers": ["AAPL", "BRK-B", "MSFT"]}


def test_request_run_rejects_bad_ticker(jobs: EventsourcingStore) -> None:
    command = RequestRun(job="ingest_prices", params={"tickers": ["AAPL", "$$$"]})

    with pytest.raises(InvalidTickerError) as raised:
        request_run(jobs, command)

    assert str(raised.value) == (
        "ticker '$$$' is not a Yahoo symbol: use 1 to 15 characters "
        "from A-Z, 0-9 and . - ^ =, at least one a letter or digit"
    )
    assert raised.value.field == "tickers"


def test_request_run_rejects_empty_tickers(jobs: EventsourcingStore) -> None:
    command = RequestRun(job="ingest_prices", params={"tickers": []})

    with pytest.raises(InvalidParamsError) as raised:
        request_run(jobs, command)

    assert str(raised.value) == (
        'tickers must be a list of 1 to 500 tickers, such as ["AAPL", "MSFT"]'
    )


def test_request_run_sorts_and_dedupes_windows(jobs: EventsourcingStore) -> None:
    stored = requested_params(jobs, "dipfinder_run", {"windows": [365, 7, 30, 7]})

    assert stored == {"windows": [7, 30, 365]}


@pytest.mark.parametrize(
    "windows",
    [[14], [7, 90], [], [True], ["30"], 30],
    ids=["14", "90", "empty", "bool", "text", "not-a-list"],
)
def test_request_run_rejects_other_windows(
    jobs: EventsourcingStore, windows: object
) -> None:
    command = RequestRun(job="dipfinder_run", params={"windows": windows})

    with pytest.raises(InvalidParamsError) as raised:
        request_run(jobs, command)

    assert str(raised.value) == WINDOWS_RULE
    assert raised.value.field == "windows"
    assert jobs.head() == 5


def test_request_run_without_params_stores_none(jobs: EventsourcingStore) -> None:
    stored = requested_params(jobs, "rebuild_projections", {})

    assert stored == {}


def test_request_run_of_unknown_job_raises(jobs: EventsourcingStore) -> None:
    with pytest.raises(UnknownJobError):
        request_run(jobs, RequestRun(job="backup"))

    assert jobs.head() == 5


def test_start_run_makes_attempt_one(jobs: EventsourcingStore) -> None:
    run = started(jobs)

    assert run.status == RunStatus.RUNNING
    assert run.attempt == 1


def test_run_that_succeeds_ends_succeeded(jobs: EventsourcingStore) -> None:
    run = started(jobs)
    progress_run(jobs, ProgressRun(run_id=run.id, message="computed AAPL"))

    finish_run(jobs, FinishRun(run_id=run.id, summary={"signals": 4}))

    assert load_run(jobs, run.id).status == RunStatus.SUCCEEDED


def test_run_lifecycle_stores_one_event_per_step(jobs: EventsourcingStore) -> None:
    run = started(jobs)
    progress_run(jobs, ProgressRun(run_id=run.id, message="computed AAPL"))

    finish_run(jobs, FinishRun(run_id=run.id))

    stored = [event for _, event in jobs.events_after(5, limit=100)]
    assert [type(event) for event in stored] == [
        JobRun.Requested,
        JobRun.Started,
        JobRun.Progressed,
        JobRun.Succeeded,
    ]


def test_run_with_error_ends_failed(jobs: EventsourcingStore) -> None:
    run = started(jobs)

    finish_run(jobs, FinishRun(run_id=run.id, error="yfinance timed out"))

    assert load_run(jobs, run.id).status == RunStatus.FAILED


def test_run_with_partial_error_ends_partial(jobs: EventsourcingStore) -> None:
    run = started(jobs)

    finish_run(jobs, FinishRun(run_id=run.id, error="MSFT failed", partial=True))

    assert load_run(jobs, run.id).status == RunStatus.PARTIAL


def test_skip_run_ends_skipped(jobs: EventsourcingStore) -> None:
    receipt = request_tick(jobs, RequestTick(job="cleanup", tick=TICK))

    skip_run(jobs, SkipRun(run_id=receipt.run_id, reason="cleanup is disabled"))

    assert load_run(jobs, receipt.run_id).status == RunStatus.SKIPPED


def test_finish_of_finished_run_raises_and_stores_nothing(
    jobs: EventsourcingStore,
) -> None:
    run = started(jobs)
    finish_run(jobs, FinishRun(run_id=run.id))
    head = jobs.head()

    with pytest.raises(RunStateError) as raised:
        finish_run(jobs, FinishRun(run_id=run.id, error="late failure"))

    assert str(raised.value) == (
        f"run {run.id} of dipfinder_run is succeeded; it cannot fail"
    )
    assert jobs.head() == head


def test_step_of_unknown_run_raises_not_found(jobs: EventsourcingStore) -> None:
    missing = uuid4()

    with pytest.raises(NotFoundError) as raised:
        start_run(jobs, StartRun(run_id=missing, worker="worker-1"))

    assert str(raised.value) == f"there is no job run {missing}"
    assert raised.value.field == "run_id"
