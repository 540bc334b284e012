"""The composition root: builds every adapter from the configuration."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
from collections.abc import Callable
from typing import TypeVar

import structlog

from stonkmarket.application.access import AccessControl
from stonkmarket.application.account_queries import AccountQueries
from stonkmarket.application.authentication import ensure_first_admin
from stonkmarket.application.commands import Command, Receipt
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.hot_views import HotStore, HotViews
from stonkmarket.application.job_commands import RequestRun, RunReceipt
from stonkmarket.application.job_handlers import register_default_jobs, request_run
from stonkmarket.application.job_queries import JobQueries
from stonkmarket.application.ports import PasswordHasher, RunQueue
from stonkmarket.application.projections import all_projections
from stonkmarket.application.queries import Queries
from stonkmarket.application.rate_limits import RateLimiter
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.database import create_engine, migrate
from stonkmarket.infrastructure.event_store import (
    EventsourcingStore,
    open_postgres_store,
    sqlite_env,
)
from stonkmarket.infrastructure.hot_store import InProcessHotStore, ValkeyHotStore
from stonkmarket.infrastructure.jwt_tokens import JwtTokens
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher
from stonkmarket.infrastructure.projection_runner import ProjectionRunner
from stonkmarket.infrastructure.rate_limiter import (
    InProcessRateLimiter,
    ValkeyRateLimiter,
)
from stonkmarket.infrastructure.read_models import SqlReadModels
from stonkmarket.infrastructure.sql_jobs import SqlJobReadModels

log = structlog.get_logger(__name__)

C = TypeVar("C", bound=Command)
R = TypeVar("R", bound=Receipt)


class Container:
    """The wired application: event store, read models, projections, queries."""

    def __init__(self, config: Config, store: EventsourcingStore) -> None:
        self.config = config
        self.store = store
        self.engine = create_engine(config.views_url)
        read_models = SqlReadModels(self.engine)
        self.queries = Queries(read_models)
        self.hot_store: HotStore = (
            InProcessHotStore()
            if config.valkey_url is None
            else ValkeyHotStore(config.valkey_url)
        )
        self.hot = HotViews(self.queries, self.hot_store)
        self.accounts = AccountQueries(read_models)
        self.jobs = JobQueries(SqlJobReadModels(self.engine))
        # Set by the process's job runtime; runs requested before it exists
        # stay requested until a scheduler's sweep hands them out.
        self.run_queue: RunQueue | None = None
        self.hasher: PasswordHasher = Argon2PasswordHasher()
        self.tokens = JwtTokens(
            jwt_secret(config),
            lifetime=dt.timedelta(minutes=config.security.jwt_expire_minutes),
        )
        self.rate_limiter: RateLimiter = (
            InProcessRateLimiter()
            if config.valkey_url is None
            else ValkeyRateLimiter(config.valkey_url)
        )
        self.access = AccessControl(self.tokens, self.accounts)
        self.runner = ProjectionRunner(
            store,
            self.engine,
            all_projections(),
            on_change=self._views_changed,
            on_idle=self._refresh_hot_views,
        )
        self._hot_views_stale = False

    async def start(self) -> None:
        """Migrate the read-model schema and project what is already stored."""
        await self.migrate()
        await self.runner.catch_up()

    async def ensure_first_admin(self) -> None:
        """Open the ADMIN_USER account when no account exists, then project it."""
        security = self.config.security
        created = await asyncio.to_thread(
            ensure_first_admin,
            self.store,
            self.hasher,
            security.admin_user,
            security.admin_pass,
        )
        if created:
            await self.runner.wait_for(await asyncio.to_thread(self.store.head))

    async def register_jobs(self) -> None:
        """Register the jobs with their default schedules, the first time only."""
        position = await asyncio.to_thread(register_default_jobs, self.store)
        if position:
            await self.runner.wait_for(position)

    async def request_run(self, command: RequestRun) -> RunReceipt:
        """Record a run request and hand it to a worker.

        The request is stored first. When the queue cannot take it (Valkey is
        down), it stays requested and a scheduler's sweep hands it out later.
        """
        receipt = await self.execute(request_run, command)
        if self.run_queue is None:
            return receipt
        try:
            await self.run_queue.enqueue(receipt.run_id)
        except Exception as exc:
            log.warning(
                "job_run_not_queued",
                job=receipt.job,
                run_id=str(receipt.run_id),
                error=str(exc),
            )
        return receipt

    async def migrate(self) -> None:
        """Bring the read-model schema to the newest revision."""
        await migrate(self.config.views_url)

    async def execute(self, handler: Callable[[EventStore, C], R], command: C) -> R:
        """Run a command off the event loop, then wait until reads can see it."""
        receipt = await asyncio.to_thread(handler, self.store, command)
        await self.runner.wait_for(receipt.position)
        return receipt

    async def _views_changed(self) -> None:
        self._hot_views_stale = True
        await self.hot_store.views_changed()

    async def _refresh_hot_views(self) -> None:
        """Refresh the hot copies once the projections have caught up."""
        if self._hot_views_stale or self.hot_store.owes_change:
            self._hot_views_stale = False
            await self.hot.refresh()

    async def close(self) -> None:
        await self.hot_store.close()
        await self.rate_limiter.close()
        await self.engine.dispose()
        self.store.close()


def jwt_secret(config: Config) -> str:
    """JWT_SECRET, or in development a random secret kept in the data folder.

    Production refuses to start without JWT_SECRET (see security_config), so
    the kept secret only ever signs tokens of a development machine.
    """
    if config.security.jwt_secret is not None:
        return config.security.jwt_secret
    path = config.data_dir / "jwt-secret"
    if not path.exists():
        config.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


# Commands run in asyncio's default thread pool, min(32, cores + 4) threads;
# the event store keeps one connection for each.
COMMAND_THREADS = min(32, (os.cpu_count() or 1) + 4)


def build(config: Config) -> Container:
    """Wire the profile the configuration names.

    With DATABASE_URL, events and read models live in PostgreSQL; without it,
    in SQLite files under the data directory. With VALKEY_URL, hot copies of
    the most-read views are shared in Valkey; without it, each process keeps
    its own.
    """
    if config.database_url is not None:
        store = open_postgres_store(config.database_url, pool_size=COMMAND_THREADS)
        return Container(config, store)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = EventsourcingStore(sqlite_env(str(config.event_store_path)))
    return Container(config, store)
