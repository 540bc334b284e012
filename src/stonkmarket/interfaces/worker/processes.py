"""The `worker` and `scheduler` processes, and jobs inside `serve`.

A worker and a scheduler each keep the projections current too, like an API
process: an advisory lock lets one process at a time apply events, so a
deployment without an API still projects its job runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable

import structlog
from taskiq.acks import AcknowledgeType
from taskiq.api import run_receiver_task

from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.worker.runtime import JobRuntime
from stonkmarket.interfaces.worker.scheduler import Scheduler

log = structlog.get_logger(__name__)
STOP_SECONDS = 10.0


@contextlib.asynccontextmanager
async def job_process(runtime: JobRuntime) -> AsyncIterator[None]:
    """Start the container, its projector and the broker; stop them at exit."""
    container = runtime.container
    await container.start()
    await container.register_jobs()
    container.run_queue = runtime
    await runtime.start()
    projector = asyncio.create_task(container.runner.run_forever())
    try:
        yield
    finally:
        container.runner.stop()
        projector.cancel()
        await asyncio.wait({projector}, timeout=STOP_SECONDS)
        await runtime.close()
        await container.close()


async def run_worker(runtime: JobRuntime, *, concurrency: int) -> None:
    """Perform the runs the broker delivers, `concurrency` at a time, until stopped."""
    async with job_process(runtime):
        runtime.broker.is_worker_process = True
        log.info(
            "worker_started", worker=runtime.context.worker, concurrency=concurrency
        )
        await until_stopped(
            run_receiver_task(
                runtime.broker,
                max_async_tasks=concurrency,
                ack_time=AcknowledgeType.WHEN_EXECUTED,
            )
        )


async def run_scheduler(scheduler: Scheduler) -> None:
    """Fire due ticks until stopped."""
    async with job_process(scheduler.runtime):
        await until_stopped(scheduler.run_forever())


async def until_stopped(work: Awaitable[None]) -> None:
    """Run `work` until it ends or the process receives SIGTERM or SIGINT."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("process_stopping")
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)


@contextlib.asynccontextmanager
async def embedded_jobs(container: Container) -> AsyncIterator[JobRuntime]:
    """Jobs inside the serve process: the in-memory broker and a scheduler.

    With DATABASE_URL and VALKEY_URL the runs go to the worker processes
    instead, and the scheduler processes fire the ticks.
    """
    runtime = JobRuntime(container)
    await runtime.start()
    container.run_queue = runtime
    scheduler_task = None
    config = container.config
    if not config.shares_jobs and config.schedule_jobs:
        scheduler = Scheduler(runtime)
        scheduler_task = asyncio.create_task(scheduler.run_forever())
    try:
        yield runtime
    finally:
        if scheduler_task is not None:
            scheduler_task.cancel()
            await asyncio.wait({scheduler_task}, timeout=STOP_SECONDS)
        container.run_queue = None
        await runtime.close()
