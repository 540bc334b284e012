from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

import pytest

from stonkmarket.domain.errors import (
    InvalidCronError,
    InvalidTimezoneError,
    OnDemandJobError,
    UnknownJobError,
)
from stonkmarket.domain.jobs import DEFAULT_JOBS, Job, definition_of, job_id

JOB_LIST = (
    "ingest_prices, refresh_fundamentals, cleanup, dipfinder_run, rebuild_projections"
)


def registered(name: str) -> Job:
    """Return the job `name` as registered, its Registered event already collected."""
    job = Job.register(definition_of(name), actor="system:setup")
    job.collect_events()
    return job


def schedule_of(name: str) -> tuple[str | None, str | None]:
    definition = definition_of(name)
    return definition.cron, definition.timezone


def test_defaults_are_the_five_jobs() -> None:
    names = [definition.name for definition in DEFAULT_JOBS]

    assert names == [
        "ingest_prices",
        "refresh_fundamentals",
        "cleanup",
        "dipfinder_run",
        "rebuild_projections",
    ]


def test_ingest_prices_runs_weekdays_at_1730_new_york() -> None:
    assert schedule_of("ingest_prices") == ("30 17 * * 1-5", "America/New_York")


def test_refresh_fundamentals_runs_saturdays_at_0600_new_york() -> None:
    assert schedule_of("refresh_fundamentals") == ("0 6 * * 6", "America/New_York")


def test_cleanup_runs_daily_at_0300_utc() -> None:
    assert schedule_of("cleanup") == ("0 3 * * *", "UTC")


@pytest.mark.parametrize("name", ["dipfinder_run", "rebuild_projections"])
def test_on_demand_job_has_no_schedule_at_all(name: str) -> None:
    assert schedule_of(name) == (None, None)


def test_unknown_job_name_is_rejected() -> None:
    with pytest.raises(UnknownJobError) as raised:
        definition_of("backup")

    assert str(raised.value) == f"there is no job 'backup'; the jobs are {JOB_LIST}"
    assert raised.value.field == "name"


def test_register_records_one_registered_event() -> None:
    job = Job.register(definition_of("cleanup"), actor="system:setup")

    events = job.collect_events()

    assert len(events) == 1
    assert isinstance(events[0], Job.Registered)
    assert events[0].name == "cleanup"
    assert events[0].cron == "0 3 * * *"
    assert events[0].timezone == "UTC"
    assert events[0].enabled is True
    assert events[0].actor == "system:setup"


def test_registered_job_is_enabled_with_its_schedule() -> None:
    job = Job.register(definition_of("ingest_prices"), actor="system:setup")

    assert job.cron == "30 17 * * 1-5"
    assert job.timezone == "America/New_York"
    assert job.enabled is True
    assert job.on_demand is False


def test_registered_on_demand_job_is_on_demand() -> None:
    job = Job.register(definition_of("dipfinder_run"), actor="system:setup")

    assert job.on_demand is True
    assert job.cron is None
    assert job.timezone is None


def test_job_id_is_uuid5_of_job_and_name() -> None:
    # Stored jobs are found by this id: changing the rule orphans them.
    expected = uuid5(NAMESPACE_URL, "job:cleanup")

    job = Job.register(definition_of("cleanup"), actor="system:setup")

    assert job.id == expected
    assert job_id("cleanup") == expected


def test_schedule_change_records_schedule_changed() -> None:
    job = registered("ingest_prices")

    job.change(
        cron="0 18 * * 1-5",
        timezone="America/Chicago",
        enabled=None,
        actor="alice",
        correlation_id="req-1",
    )

    events = job.collect_events()
    assert len(events) == 1
    changed = events[0]
    assert isinstance(changed, Job.ScheduleChanged)
    assert changed.name == "ingest_prices"
    assert changed.cron == "0 18 * * 1-5"
    assert changed.timezone == "America/Chicago"
    assert changed.actor == "alice"
    assert changed.correlation_id == "req-1"


def test_schedule_change_sets_the_new_schedule() -> None:
    job = registered("ingest_prices")

    job.change(cron="0 18 * * 1-5", timezone=None, enabled=None, actor="alice")

    assert job.cron == "0 18 * * 1-5"
    assert job.timezone == "America/New_York"


def test_timezone_alone_keeps_the_cron() -> None:
    job = registered("cleanup")

    job.change(cron=None, timezone="Europe/Berlin", enabled=None, actor="alice")

    events = job.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], Job.ScheduleChanged)
    assert events[0].cron == "0 3 * * *"
    assert events[0].timezone == "Europe/Berlin"


def test_unchanged_schedule_records_nothing() -> None:
    job = registered("cleanup")

    job.change(cron="0 3 * * *", timezone="UTC", enabled=True, actor="alice")

    assert job.pending_events == []
    assert job.version == 1


def test_bad_cron_raises() -> None:
    job = registered("cleanup")

    with pytest.raises(InvalidCronError) as raised:
        job.change(cron="61 * * * *", timezone=None, enabled=None, actor="alice")

    assert str(raised.value) == (
        "cron '61 * * * *' has a field out of range or unreadable; "
        "use minute hour day-of-month month day-of-week, such as '30 17 * * 1-5'"
    )


def test_bad_cron_records_nothing_and_keeps_the_job() -> None:
    job = registered("cleanup")

    with pytest.raises(InvalidCronError):
        job.change(cron="61 * * * *", timezone=None, enabled=False, actor="alice")

    assert job.pending_events == []
    assert job.cron == "0 3 * * *"
    assert job.enabled is True


def test_bad_timezone_raises() -> None:
    job = registered("cleanup")

    with pytest.raises(InvalidTimezoneError) as raised:
        job.change(cron=None, timezone="Mars/Olympus", enabled=None, actor="alice")

    assert str(raised.value) == (
        "timezone 'Mars/Olympus' is not an IANA timezone; "
        "use a name such as 'America/New_York' or 'UTC'"
    )


def test_bad_timezone_records_nothing_and_keeps_the_job() -> None:
    job = registered("cleanup")

    with pytest.raises(InvalidTimezoneError):
        job.change(
            cron="0 4 * * *", timezone="Mars/Olympus", enabled=False, actor="alice"
        )

    assert job.pending_events == []
    assert job.cron == "0 3 * * *"
    assert job.timezone == "UTC"
    assert job.enabled is True


def test_cron_for_on_demand_job_raises() -> None:
    job = registered("dipfinder_run")

    with pytest.raises(OnDemandJobError) as raised:
        job.change(cron="0 3 * * *", timezone=None, enabled=None, actor="alice")

    assert str(raised.value) == (
        "dipfinder_run runs only on demand and takes no schedule; "
        "start it with POST /api/cronjobs/dipfinder_run/run"
    )
    assert raised.value.field == "cron"


def test_timezone_for_on_demand_job_raises_on_timezone() -> None:
    job = registered("rebuild_projections")

    with pytest.raises(OnDemandJobError) as raised:
        job.change(cron=None, timezone="UTC", enabled=None, actor="alice")

    assert raised.value.field == "timezone"
    assert job.pending_events == []


def test_on_demand_job_can_be_disabled() -> None:
    job = registered("dipfinder_run")

    job.change(cron=None, timezone=None, enabled=False, actor="alice")

    events = job.collect_events()
    assert len(events) == 1
    assert isinstance(events[0], Job.Disabled)
    assert job.on_demand is True


def test_disable_records_disabled() -> None:
    job = registered("cleanup")

    job.change(
        cron=None, timezone=None, enabled=False, actor="alice", correlation_id="req-2"
    )

    events = job.collect_events()
    assert len(events) == 1
    disabled = events[0]
    assert isinstance(disabled, Job.Disabled)
    assert disabled.name == "cleanup"
    assert disabled.actor == "alice"
    assert disabled.correlation_id == "req-2"
    assert job.enabled is False


def test_enable_of_disabled_job_records_enabled() -> None:
    job = registered("cleanup")
    job.change(cron=None, timezone=None, enabled=False, actor="alice")
    job.collect_events()

    job.change(cron=None, timezone=None, enabled=True, actor="bob")

    events = job.collect_events()
    assert len(events) == 1
    enabled = events[0]
    assert isinstance(enabled, Job.Enabled)
    assert enabled.name == "cleanup"
    assert enabled.actor == "bob"
    assert job.enabled is True


def test_disable_of_disabled_job_records_nothing() -> None:
    job = registered("cleanup")
    job.change(cron=None, timezone=None, enabled=False, actor="alice")
    job.collect_events()

    job.change(cron=None, timezone=None, enabled=False, actor="alice")

    assert job.pending_events == []


def test_schedule_and_switch_record_schedule_then_switch() -> None:
    job = registered("cleanup")

    job.change(cron="0 4 * * *", timezone=None, enabled=False, actor="alice")

    events = job.collect_events()
    assert [type(event) for event in events] == [Job.ScheduleChanged, Job.Disabled]


def test_cron_whitespace_is_stored_as_single_spaces() -> None:
    job = registered("cleanup")

    job.change(cron="  15\t4 *  * *\n", timezone=None, enabled=None, actor="alice")

    assert job.cron == "15 4 * * *"


def test_cron_differing_only_in_spaces_records_nothing() -> None:
    job = registered("cleanup")

    job.change(cron=" 0  3 * * * ", timezone=None, enabled=None, actor="alice")

    assert job.collect_events() == []
