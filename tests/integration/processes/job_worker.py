"""A worker process for the job tests: the real worker loop over a sample
source that can be made slow or blind to `start`.

Environment, beside the service's own:
- SOURCE_DELAY_SECONDS: the sleep before each fetch;
- SOURCE_IGNORES_START: 1 returns the whole history every time, as a source
  that sends bars again would;
- LOCK_SECONDS: the run lock's lifetime, renewed every third of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time

from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.config import load_config
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.worker.processes import run_worker
from stonkmarket.interfaces.worker.runtime import JobRuntime


class SampleForTests:
    name = "sample"

    def __init__(self, delay: float, ignores_start: bool) -> None:
        self.sample = SamplePriceSource()
        self.delay = delay
        self.ignores_start = ignores_start

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        time.sleep(self.delay)
        return self.sample.fetch(ticker, None if self.ignores_start else start, end)


def main() -> None:
    config = load_config()
    configure_logging("json")
    lock_seconds = float(os.environ.get("LOCK_SECONDS", "60"))
    source = SampleForTests(
        float(os.environ.get("SOURCE_DELAY_SECONDS", "0")),
        os.environ.get("SOURCE_IGNORES_START") == "1",
    )
    runtime = JobRuntime(
        build(config),
        prices=source,
        lock_seconds=lock_seconds,
        renew_seconds=lock_seconds / 3,
    )
    asyncio.run(run_worker(runtime, concurrency=2))


if __name__ == "__main__":
    main()
