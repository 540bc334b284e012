"""Job routes (admin): schedules, manual runs, run logs, and the finder's jobs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from stonkmarket.application.job_commands import ChangeSchedule, RequestRun
from stonkmarket.application.job_handlers import change_schedule
from stonkmarket.application.job_views import JobSummary, RunPage, RunWithLog
from stonkmarket.interfaces.http.access_gate import admin_only
from stonkmarket.interfaces.http.context import AppContainer, actor_of, request_id_of


class ScheduleChange(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """A new cron, timezone or switch; a field left out keeps its value."""

    cron: str | None = None
    timezone: str | None = None
    enabled: bool | None = None


class RunRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The tickers and windows a run works on; all of them when unset."""

    tickers: list[str] | None = None
    windows: list[int] | None = None


class RunAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """A requested run: follow it at `GET /api/cronjobs/runs/{run_id}`."""

    run_id: UUID
    job: str
    status: str = "requested"


Cursor = Annotated[
    str | None, QueryParameter(description="the next_cursor of the previous page")
]
RunLimit = Annotated[int, QueryParameter(description="runs per page, 1 to 200")]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _request(
    container: AppContainer,
    request: Request[Any, Any, Any],
    job: str,
    params: dict[str, Any] | None = None,
) -> RunAccepted:
    receipt = await container.request_run(
        RequestRun(
            job=job,
            params=params or {},
            actor=actor_of(request),
            correlation_id=request_id_of(request),
        )
    )
    return RunAccepted(run_id=receipt.run_id, job=receipt.job)


class CronJobController(Controller):
    path = "/api/cronjobs"
    tags = ("cronjobs",)
    guards = [admin_only]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/")
    async def list_jobs(self, container: AppContainer) -> list[JobSummary]:
        """List every job: schedule, next five run times (UTC) and last run."""
        return await container.jobs.jobs(_now())

    @get("/runs/{run_id:uuid}")
    async def get_run(
        self, container: AppContainer, run_id: FromPath[UUID]
    ) -> RunWithLog:
        """Return one run and its whole log."""
        return await container.jobs.run(run_id)

    @get("/{name:str}")
    async def get_job(self, container: AppContainer, name: FromPath[str]) -> JobSummary:
        """Return one job with its next five run times (UTC) and last run."""
        return await container.jobs.job(name, _now())

    @put("/{name:str}")
    async def change_job(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: JSONBody[ScheduleChange],
    ) -> JobSummary:
        """Change a job's cron, timezone or switch; takes effect within 15 s.

        The cron is read in the job's timezone, across daylight-saving changes.
        """
        await container.execute(
            change_schedule,
            ChangeSchedule(
                name=name,
                cron=data.cron,
                timezone=data.timezone,
                enabled=data.enabled,
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )
        return await container.jobs.job(name, _now())

    @post("/{name:str}/run", status_code=HTTP_202_ACCEPTED)
    async def run_job(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: JSONBody[RunRequest | None] = None,
    ) -> RunAccepted:
        """Request a run now, whatever the schedule; 202 with the run id."""
        params = {} if data is None else _params(data)
        return await _request(container, request, name, params)

    @get("/{name:str}/logs")
    async def logs(
        self,
        container: AppContainer,
        name: FromPath[str],
        limit: RunLimit = 20,
        cursor: Cursor = None,
    ) -> RunPage:
        """Return the job's runs with their logs, newest first."""
        return await container.jobs.runs(name, limit, cursor)


def _params(data: RunRequest) -> dict[str, Any]:
    return {
        name: value
        for name, value in msgspec.structs.asdict(data).items()
        if value is not None
    }


class DipFinderJobController(Controller):
    path = "/api/dipfinder"
    tags = ("dipfinder",)
    guards = [admin_only]  # noqa: RUF012 - Litestar reads the class attribute

    @post("/run", status_code=HTTP_202_ACCEPTED)
    async def run(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        data: JSONBody[RunRequest | None] = None,
    ) -> RunAccepted:
        """Recompute the signals of the given tickers and windows (all if unset)."""
        params = {} if data is None else _params(data)
        return await _request(container, request, "dipfinder_run", params)

    @post("/admin/refresh-all", status_code=HTTP_202_ACCEPTED)
    async def refresh_all(
        self, container: AppContainer, request: Request[Any, Any, Any]
    ) -> RunAccepted:
        """Fetch new prices of every watched ticker and the benchmark now."""
        return await _request(container, request, "ingest_prices")

    @post("/admin/cleanup", status_code=HTTP_202_ACCEPTED)
    async def cleanup(
        self, container: AppContainer, request: Request[Any, Any, Any]
    ) -> RunAccepted:
        """Expire signals older than 7 days now."""
        return await _request(container, request, "cleanup")
