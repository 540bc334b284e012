"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.http.access_gate import access_gate
from stonkmarket.interfaces.http.audit import AuditController
from stonkmarket.interfaces.http.auth import AuthController
from stonkmarket.interfaces.http.config import ConfigController
from stonkmarket.interfaces.http.cronjobs import (
    CronJobController,
    DipFinderJobController,
)
from stonkmarket.interfaces.http.dips import DipController, DipFinderController
from stonkmarket.interfaces.http.docs import SCHEMA_PATH, docs_page, openapi_document
from stonkmarket.interfaces.http.errors import EXCEPTION_HANDLERS
from stonkmarket.interfaces.http.health import HealthController
from stonkmarket.interfaces.http.middleware import request_id_middleware
from stonkmarket.interfaces.http.openapi_errors import document_errors
from stonkmarket.interfaces.http.projections import ProjectionController
from stonkmarket.interfaces.http.security_headers import security_headers
from stonkmarket.interfaces.http.symbols import SymbolController
from stonkmarket.interfaces.http.users import UserController
from stonkmarket.interfaces.worker.processes import embedded_jobs

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
STOP_SECONDS = 10.0
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def create_app(container: Container, *, run_projections: bool = True) -> Litestar:
    """Build the API over a wired container; the lifespan starts and stops it."""
    security = container.config.security

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        # The runner catches up in the background, so the API responds (with
        # its lag in /api/health) while a long replay is still running.
        if run_projections:
            await container.migrate()
        else:
            await container.start()
        await container.ensure_first_admin()
        await container.register_jobs()
        runner = (
            asyncio.create_task(container.runner.run_forever())
            if run_projections
            else None
        )
        try:
            async with embedded_jobs(container):
                yield
        finally:
            if runner is not None:
                await _stop(container, runner)
            await container.close()

    return Litestar(
        route_handlers=[
            AuthController,
            UserController,
            SymbolController,
            ConfigController,
            AuditController,
            ProjectionController,
            DipController,
            DipFinderController,
            DipFinderJobController,
            CronJobController,
            HealthController,
            openapi_document,
            docs_page,
        ],
        dependencies={"container": Provide(lambda: container, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[request_id_middleware, access_gate(container)],
        state=State({"container": container}),
        before_send=[security_headers(hsts=security.is_production)],
        cors_config=_cors(security.cors_allowed_origins),
        lifespan=[lifespan],
        on_startup=[document_errors],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Stonkmarket",
            version="0.1.0",
            description="Stocks trading well below their recent peak, and why.",
            path=SCHEMA_PATH,
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT",
                        description="the access_token of POST /api/auth/login",
                    )
                }
            ),
            # Bearer or nothing: market-data reads are public unless PUBLIC_READS=false.
            security=[{"bearer": []}, {}],
        ),
    )


async def _stop(container: Container, runner: asyncio.Task[None]) -> None:
    """End the background runner, waiting at most STOP_SECONDS for its step."""
    container.runner.stop()
    runner.cancel()
    done, _ = await asyncio.wait({runner}, timeout=STOP_SECONDS)
    if not done:
        log.warning("projection_runner_did_not_stop", waited_seconds=STOP_SECONDS)


def _cors(origins: tuple[str, ...]) -> CORSConfig | None:
    """Allow the named browser origins only; none when the list is empty."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
        expose_headers=["ETag", "X-Request-ID", "Retry-After", *RATE_LIMIT_HEADERS],
        allow_credentials=True,
        max_age=600,
    )
