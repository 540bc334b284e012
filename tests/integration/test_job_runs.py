"""Job runs in one process, on the local PostgreSQL and Redis: retries, the
lock, and the scheduler's ticks on a clock the test moves."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from stonkmarket.application.commands import AddSymbol, RecordPrices
from stonkmarket.application.errors import SourceRateLimitedError
from stonkmarket.application.handlers import add_symbol, record_prices
from stonkmarket.application.job_commands import ChangeSchedule, RequestRun
from stonkmarket.application.job_handlers import change_schedule, request_run
from stonkmarket.application.job_views import RunWithLog
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.worker.context import RetryPolicy
from stonkmarket.interfaces.worker.lifecycle import perform_run
from stonkmarket.interfaces.worker.runtime import JobRuntime
from stonkmarket.interfaces.worker.scheduler import Scheduler
from stonkmarket.interfaces.worker.work import JOBS
from tests.integration.job_support import service_env, with_container

TICKERS = ["JNJ", "KO", "PG"]
FAST_RETRIES = RetryPolicy(attempts=4, base_seconds=0.01, max_seconds=0.02)


class RateLimitedAtFirst:
    """The sample, except that `ticker` is refused `times` times for too many calls."""

    name = "sample"

    def __init__(self, ticker: str, times: int) -> None:
        self.sample = SamplePriceSource()
        self.ticker = ticker
        self.rejections_left = times

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        if ticker == self.ticker and self.rejections_left > 0:
            self.rejections_left -= 1
            raise SourceRateLimitedError(f"Yahoo is rate limiting requests: {ticker}")
        return self.sample.fetch(ticker, start, end)


@pytest.fixture
def env(postgres_url: str, valkey_url: str, tmp_path: Path) -> dict[str, str]:
    return service_env(postgres_url, valkey_url, tmp_path)


async def requested(container: Container, job: str, **params: Any) -> UUID:
    receipt = await container.execute(request_run, RequestRun(job=job, params=params))
    return UUID(str(receipt.run_id))


async def finished_run(container: Container, run_id: UUID) -> RunWithLog:
    await container.runner.catch_up()
    return await container.jobs.run(run_id)


def test_ingest_retries_rate_limited_ticker(
    env: dict[str, str],
) -> None:
    async def scenario(container: Container) -> None:
        for ticker in TICKERS:
            await container.execute(add_symbol, AddSymbol(ticker=ticker))
        runtime = JobRuntime(
            container, prices=RateLimitedAtFirst("KO", times=2), retry=FAST_RETRIES
        )
        run_id = await requested(container, "ingest_prices", tickers=TICKERS)

        status = await perform_run(runtime.context, run_id, JOBS)
        await runtime.close()

        found = await finished_run(container, run_id)
        assert status == "succeeded"
        sample = SamplePriceSource()
        for ticker in TICKERS:
            assert (
                await container.queries.views.last_bar_date(ticker)
                == sample.last_date()
            )
        retries = [line for line in found.log if line.level == "warning"]
        assert [line.details for line in retries] == [
            {"ticker": "KO", "retry": 1, "delay_s": retries[0].details["delay_s"]},
            {"ticker": "KO", "retry": 2, "delay_s": retries[1].details["delay_s"]},
        ]
        assert retries[0].message.startswith("KO: rate limited, retry 1 in ")

    with_container(env, scenario)


def test_ingest_rate_limited_to_the_end_is_partial(
    env: dict[str, str],
) -> None:
    async def scenario(container: Container) -> None:
        for ticker in TICKERS:
            await container.execute(add_symbol, AddSymbol(ticker=ticker))
        runtime = JobRuntime(
            container, prices=RateLimitedAtFirst("KO", times=10), retry=FAST_RETRIES
        )
        run_id = await requested(container, "ingest_prices", tickers=TICKERS)

        status = await perform_run(runtime.context, run_id, JOBS)
        await runtime.close()

        found = (await finished_run(container, run_id)).run
        assert status == "partial"
        assert found.error == "ingest_prices failed for 1 of 3 tickers: KO"
        assert found.summary is not None
        assert found.summary["tickers"]["KO"] == (
            "failed: Yahoo is rate limiting requests: KO"
        )

    with_container(env, scenario)


def test_run_that_finds_the_lock_held_is_skipped(env: dict[str, str]) -> None:
    async def scenario(container: Container) -> None:
        runtime = JobRuntime(container)
        await runtime.context.lock.acquire("cleanup", "another-run/1", 30)
        run_id = await requested(container, "cleanup")

        status = await perform_run(runtime.context, run_id, JOBS)
        await runtime.close()

        found = (await finished_run(container, run_id)).run
        assert status == "skipped"
        assert found.error == "another run of cleanup holds its lock (another-run/1)"

    with_container(env, scenario)


def test_run_delivered_twice_does_its_work_once(env: dict[str, str]) -> None:
    async def scenario(container: Container) -> None:
        runtime = JobRuntime(container)
        run_id = await requested(container, "cleanup")

        statuses = [await perform_run(runtime.context, run_id, JOBS) for _ in range(2)]
        await runtime.close()

        found = await finished_run(container, run_id)
        assert statuses == ["succeeded", "succeeded"]
        assert [line.message.split(" ")[0] for line in found.log].count("attempt") == 1

    with_container(env, scenario)


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def scheduler_at(container: Container, clock: Clock) -> tuple[Scheduler, JobRuntime]:
    runtime = JobRuntime(container, now=clock)
    scheduler = Scheduler(runtime, reload_seconds=0, now=clock)
    return scheduler, runtime


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_two_schedulers_fire_the_same_tick_once(env: dict[str, str]) -> None:
    async def scenario(container: Container) -> None:
        clock = Clock(at("2026-01-05T02:59:30+00:00"))
        first, first_runtime = scheduler_at(container, clock)
        second, second_runtime = scheduler_at(container, clock)

        clock.now = at("2026-01-05T03:00:01+00:00")
        fired = [await first.step(), await second.step()]
        await asyncio.gather(first_runtime.close(), second_runtime.close())

        assert [len(runs) for runs in fired] == [1, 0]

    with_container(env, scenario)


def test_changed_cron_takes_effect_at_the_next_reload(env: dict[str, str]) -> None:
    async def scenario(container: Container) -> None:
        clock = Clock(at("2026-01-05T03:00:30+00:00"))
        scheduler, runtime = scheduler_at(container, clock)
        await container.execute(
            change_schedule, ChangeSchedule(name="cleanup", cron="*/10 * * * *")
        )

        clock.now = at("2026-01-05T03:10:01+00:00")
        fired = await scheduler.step()
        await runtime.close()

        run = await finished_run(container, fired[0])
        assert run.run.tick == at("2026-01-05T03:10:00+00:00")

    with_container(env, scenario)


def test_disabled_and_on_demand_jobs_never_fire(
    env: dict[str, str],
) -> None:
    async def scenario(container: Container) -> None:
        clock = Clock(at("2026-01-04T00:00:00+00:00"))
        scheduler, runtime = scheduler_at(container, clock)
        for name in ("ingest_prices", "refresh_fundamentals", "cleanup"):
            await container.execute(
                change_schedule, ChangeSchedule(name=name, enabled=False)
            )

        fired: list[UUID] = []
        for hour in range(1, 24 * 8):
            clock.now = at("2026-01-04T00:00:00+00:00") + dt.timedelta(hours=hour)
            fired += await scheduler.step()
        await runtime.close()

        assert fired == []

    with_container(env, scenario)


def test_dipfinder_run_recomputes_the_stored_signal(env: dict[str, str]) -> None:
    async def scenario(container: Container) -> None:
        await container.execute(add_symbol, AddSymbol(ticker="KO"))
        batch = SamplePriceSource().fetch("KO")
        await container.execute(record_prices, RecordPrices(batch=batch))
        stored = await container.queries.signal("KO", 30)
        runtime = JobRuntime(container)
        run_id = await requested(
            container, "dipfinder_run", tickers=["KO"], windows=[30]
        )

        status = await perform_run(runtime.context, run_id, JOBS)
        await runtime.close()

        found = (await finished_run(container, run_id)).run
        score = stored.final_score
        score_text = "no score" if score is None else f"score {score:.1f}"
        assert status == "succeeded"
        assert found.summary == {
            "tickers": {
                "KO": f"30 d: dip {stored.dip_stock * 100:.1f} %, "
                f"{score_text}, {stored.alert_level}"
            }
        }

    with_container(env, scenario)
