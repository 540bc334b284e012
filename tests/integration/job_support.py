"""Starting worker and scheduler processes, and reading the runs they record."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from stonkmarket.application.job_views import RunWithLog
from stonkmarket.infrastructure.config import Config, load_config
from stonkmarket.interfaces.bootstrap import Container, build

T = TypeVar("T")
JOB_WORKER = Path(__file__).parent / "processes" / "job_worker.py"
ROOT = Path(__file__).parents[2]


class Processes:
    """Processes a test started, stopped (SIGTERM, then SIGKILL) at its end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, **extra_env: str) -> None:
        with (self.logs / f"{name}.log").open("wb") as log:
            self.started[name] = subprocess.Popen(
                [sys.executable, *args],
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def log_lines(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines a process wrote so far."""
        lines = []
        for raw in (self.logs / f"{name}.log").read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines

    def wait_for_log(self, name: str, event: str, limit_seconds: float = 60) -> None:
        wait_until(
            lambda: any(line.get("event") == event for line in self.log_lines(name)),
            limit_seconds,
            f"{name} to log {event}",
        )

    def kill(self, name: str) -> None:
        process = self.started.pop(name)
        process.kill()
        process.wait(timeout=10)

    def stop(self, name: str, grace_seconds: float = 15) -> None:
        """SIGTERM, and SIGKILL after `grace_seconds`."""
        process = self.started.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.started):
            self.stop(name)


def wait_until(check: Callable[[], bool], limit_seconds: float, awaited: str) -> None:
    deadline = time.monotonic() + limit_seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {limit_seconds} s for {awaited}")
        time.sleep(0.2)


def service_env(postgres_url: str, valkey_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "VALKEY_URL": valkey_url,
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "json",
        "PRICE_SOURCE": "sample",
        "SOURCE_CALLS_PER_SECOND": "1000",
    }


def with_container(env: dict[str, str], work: Callable[[Container], Any]) -> Any:
    """Run `work` on a container of the same databases, then close it."""

    async def run() -> Any:
        container = build(config_of(env))
        try:
            await container.start()
            await container.register_jobs()
            return await work(container)
        finally:
            await container.close()

    return asyncio.run(run())


def config_of(env: dict[str, str]) -> Config:
    return load_config(env)


def run_of(env: dict[str, str], run_id: UUID) -> RunWithLog:
    async def read(container: Container) -> RunWithLog:
        await container.runner.catch_up()
        return await container.jobs.run(run_id)

    result: RunWithLog = with_container(env, read)
    return result


def iter_minutes(start: dt.datetime, count: int) -> Iterator[dt.datetime]:
    """The next `count` whole minutes after `start`."""
    first = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for index in range(count):
        yield first + dt.timedelta(minutes=index)
