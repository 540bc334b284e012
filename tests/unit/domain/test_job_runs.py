from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

import pytest

from stonkmarket.application.errors import ConflictError
from stonkmarket.domain.errors import RunStateError
from stonkmarket.domain.job_runs import JobRun, RunStatus, Trigger, scheduled_run_id
from stonkmarket.infrastructure.event_store import EventsourcingStore, in_memory_env

# 17:30 in New York on Thursday 15 January 2026 (EST, UTC-5) is 22:30 UTC.
TICK = dt.datetime(2026, 1, 15, 22, 30, tzinfo=dt.UTC)
TICK_IN_NEW_YORK = dt.datetime(2026, 1, 15, 17, 30, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


def requested_run() -> JobRun:
    """Return a manual run of dipfinder_run, its Requested event collected."""
    run = JobRun.on_demand("dipfinder_run", {"windows": [30]}, actor="alice")
    run.collect_events()
    return run


def started_run() -> JobRun:
    run = requested_run()
    run.start(worker="worker-1")
    run.collect_events()
    return run


def state_error_message(run: JobRun, status: str, step: str) -> str:
    return f"run {run.id} of dipfinder_run is {status}; it cannot {step}"


def test_manual_request_records_requested() -> None:
    run = JobRun.on_demand(
        "dipfinder_run",
        {"tickers": ["AAPL"]},
        actor="alice",
        correlation_id="req-1",
    )

    events = run.collect_events()

    assert len(events) == 1
    request = events[0]
    assert isinstance(request, JobRun.Requested)
    assert request.job == "dipfinder_run"
    assert request.trigger == Trigger.MANUAL
    assert request.tick is None
    assert request.params == {"tickers": ["AAPL"]}
    assert request.actor == "alice"
    assert request.correlation_id == "req-1"


def test_requested_run_waits_at_attempt_zero() -> None:
    run = JobRun.on_demand("dipfinder_run", {}, actor="alice")

    assert run.status == RunStatus.REQUESTED
    assert run.attempt == 0
    assert run.finished is False


def test_manual_runs_get_fresh_ids() -> None:
    first = JobRun.on_demand("dipfinder_run", {}, actor="alice")
    second = JobRun.on_demand("dipfinder_run", {}, actor="alice")

    assert first.id != second.id


def test_tick_request_records_the_tick() -> None:
    run = JobRun.for_tick("ingest_prices", TICK, actor="system:scheduler")

    events = run.collect_events()

    assert len(events) == 1
    request = events[0]
    assert isinstance(request, JobRun.Requested)
    assert request.trigger == Trigger.SCHEDULE
    assert request.tick == TICK
    assert request.params == {}
    assert request.correlation_id is None


def test_tick_run_id_is_scheduled_run_id() -> None:
    run = JobRun.for_tick("ingest_prices", TICK, actor="system:scheduler")

    assert run.id == scheduled_run_id("ingest_prices", TICK)


def test_run_id_is_uuid5_of_utc_tick() -> None:
    # Stored runs are found by this id: changing the rule lets a tick run twice.
    expected = uuid5(NAMESPACE_URL, "jobrun:ingest_prices:2026-01-15T22:30:00+00:00")

    assert scheduled_run_id("ingest_prices", TICK) == expected


def test_run_id_ignores_tick_timezone() -> None:
    assert scheduled_run_id("ingest_prices", TICK_IN_NEW_YORK) == scheduled_run_id(
        "ingest_prices", TICK
    )


def test_run_id_differs_across_jobs() -> None:
    assert scheduled_run_id("ingest_prices", TICK) != scheduled_run_id("cleanup", TICK)


def test_run_id_differs_across_ticks() -> None:
    next_tick = TICK + dt.timedelta(days=1)

    assert scheduled_run_id("ingest_prices", TICK) != scheduled_run_id(
        "ingest_prices", next_tick
    )


def test_second_tick_request_conflicts_on_save(
    store: EventsourcingStore,
) -> None:
    first = JobRun.for_tick("ingest_prices", TICK, actor="scheduler-a")
    second = JobRun.for_tick("ingest_prices", TICK_IN_NEW_YORK, actor="scheduler-b")
    store.save(first)

    with pytest.raises(ConflictError) as raised:
        store.save(second)

    assert str(raised.value) == (
        "another request changed the same record first; reload and retry"
    )


def test_start_records_attempt_one() -> None:
    run = requested_run()

    run.start(worker="worker-1")

    events = run.collect_events()
    assert len(events) == 1
    started = events[0]
    assert isinstance(started, JobRun.Started)
    assert started.job == "dipfinder_run"
    assert started.attempt == 1
    assert started.worker == "worker-1"
    assert run.status == RunStatus.RUNNING


def test_second_start_is_attempt_two() -> None:
    run = started_run()

    run.start(worker="worker-2")

    events = run.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], JobRun.Started)
    assert events[0].attempt == 2
    assert run.attempt == 2


def test_third_start_is_rejected() -> None:
    run = started_run()
    run.start(worker="worker-2")
    run.collect_events()

    with pytest.raises(RunStateError) as raised:
        run.start(worker="worker-3")

    assert str(raised.value) == f"run {run.id} of dipfinder_run already started 2 times"
    assert raised.value.field == "run_id"
    assert run.pending_events == []


def test_progress_records_a_log_line() -> None:
    run = started_run()

    run.progress("fetched AAPL", {"bars": 3}, level="warning")

    events = run.collect_events()
    assert len(events) == 1
    line = events[0]
    assert isinstance(line, JobRun.Progressed)
    assert line.message == "fetched AAPL"
    assert line.details == {"bars": 3}
    assert line.level == "warning"
    assert run.status == RunStatus.RUNNING


def test_progress_without_details_records_empty_details() -> None:
    run = started_run()

    run.progress("fetched AAPL")

    events = run.collect_events()
    assert isinstance(events[0], JobRun.Progressed)
    assert events[0].details == {}
    assert events[0].level == "info"


def test_progress_with_unknown_level_is_rejected() -> None:
    run = started_run()

    with pytest.raises(RunStateError) as raised:
        run.progress("fetched AAPL", level="debug")

    assert str(raised.value) == (
        "log level must be one of info, warning, error, got 'debug'"
    )
    assert raised.value.field == "level"


def test_progress_before_start_is_rejected() -> None:
    run = requested_run()

    with pytest.raises(RunStateError) as raised:
        run.progress("fetched AAPL")

    assert str(raised.value) == state_error_message(run, "requested", "progress")


def test_succeed_records_succeeded() -> None:
    run = started_run()

    run.succeed({"tickers": 2})

    events = run.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], JobRun.Succeeded)
    assert events[0].summary == {"tickers": 2}
    assert run.status == RunStatus.SUCCEEDED
    assert run.finished is True


def test_succeed_before_start_is_rejected() -> None:
    run = requested_run()

    with pytest.raises(RunStateError) as raised:
        run.succeed()

    assert str(raised.value) == state_error_message(run, "requested", "succeed")


def test_fail_records_failed() -> None:
    run = started_run()

    run.fail("yfinance timed out", {"tickers": 0})

    events = run.collect_events()
    assert len(events) == 1
    failed = events[0]
    assert isinstance(failed, JobRun.Failed)
    assert failed.error == "yfinance timed out"
    assert failed.summary == {"tickers": 0}
    assert failed.partial is False
    assert run.status == RunStatus.FAILED


def test_partial_failure_ends_partial() -> None:
    run = started_run()

    run.fail("MSFT failed", {"tickers": 1}, partial=True)

    events = run.collect_events()
    assert isinstance(events[0], JobRun.Failed)
    assert events[0].partial is True
    assert run.status == RunStatus.PARTIAL
    assert run.finished is True


def test_requested_run_may_fail_unstarted() -> None:
    run = requested_run()

    run.fail("no worker took the run")

    assert run.status == RunStatus.FAILED


def test_skip_records_skipped() -> None:
    run = requested_run()

    run.skip("another run of dipfinder_run holds the lock")

    events = run.collect_events()
    assert len(events) == 1
    skipped = events[0]
    assert isinstance(skipped, JobRun.Skipped)
    assert skipped.reason == "another run of dipfinder_run holds the lock"
    assert run.status == RunStatus.SKIPPED
    assert run.finished is True


def test_skip_of_running_run_is_rejected() -> None:
    run = started_run()

    with pytest.raises(RunStateError) as raised:
        run.skip("too late")

    assert str(raised.value) == state_error_message(run, "running", "skip")


def test_expire_signals_records_the_cutoff() -> None:
    run = started_run()
    cutoff = dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC)

    run.expire_signals(cutoff)

    events = run.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], JobRun.SignalsExpired)
    assert events[0].before == cutoff


def succeeded_run() -> JobRun:
    run = started_run()
    run.succeed()
    run.collect_events()
    return run


def failed_run() -> JobRun:
    run = started_run()
    run.fail("yfinance timed out")
    run.collect_events()
    return run


def partial_run() -> JobRun:
    run = started_run()
    run.fail("MSFT failed", partial=True)
    run.collect_events()
    return run


def skipped_run() -> JobRun:
    run = requested_run()
    run.skip("disabled")
    run.collect_events()
    return run


finished = pytest.mark.parametrize(
    ("finished_run", "status"),
    [
        (succeeded_run, "succeeded"),
        (failed_run, "failed"),
        (partial_run, "partial"),
        (skipped_run, "skipped"),
    ],
    ids=["succeeded", "failed", "partial", "skipped"],
)


@finished
def test_finished_run_rejects_start(
    finished_run: Callable[[], JobRun], status: str
) -> None:
    run = finished_run()

    with pytest.raises(RunStateError) as raised:
        run.start(worker="worker-1")

    assert str(raised.value) == state_error_message(run, status, "start")
    assert raised.value.field == "run_id"
    assert run.pending_events == []


@finished
def test_finished_run_rejects_progress(
    finished_run: Callable[[], JobRun], status: str
) -> None:
    run = finished_run()

    with pytest.raises(RunStateError) as raised:
        run.progress("late line")

    assert str(raised.value) == state_error_message(run, status, "progress")
    assert run.pending_events == []


@finished
def test_finished_run_rejects_skip(
    finished_run: Callable[[], JobRun], status: str
) -> None:
    run = finished_run()

    with pytest.raises(RunStateError) as raised:
        run.skip("late skip")

    assert str(raised.value) == state_error_message(run, status, "skip")
    assert run.pending_events == []


@finished
def test_finished_run_rejects_fail(
    finished_run: Callable[[], JobRun], status: str
) -> None:
    run = finished_run()

    with pytest.raises(RunStateError) as raised:
        run.fail("late failure")

    assert str(raised.value) == state_error_message(run, status, "fail")
    assert run.pending_events == []
