"""A projector process for the crash-safety and concurrency tests.

It imports everything, then waits for the test to create the `--go` file, so a
test can start the next projector while the current one still runs. Once the
read-model schema is migrated it creates the `--ready` file and projects until
it is killed. DATABASE_URL and DATA_DIR come from the environment, as for the
`stonkmarket` command.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from stonkmarket.infrastructure.config import load_config
from stonkmarket.infrastructure.database import migrate
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.interfaces.bootstrap import build

GO_TIMEOUT_SECONDS = 120.0


def wait_for_file(path: Path, timeout_seconds: float) -> None:
    """Return once `path` exists, or raise TimeoutError after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout_seconds} s waiting for {path} to be created"
            )
        time.sleep(0.005)


async def project(batch_size: int, poll_seconds: float, ready: Path) -> None:
    config = load_config()
    configure_logging(config.log_format)
    container = build(config)
    container.runner.batch_size = batch_size
    try:
        await migrate(config.views_url)
        await asyncio.to_thread(ready.touch)
        await container.runner.run_forever(poll_seconds=poll_seconds)
    finally:
        await container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--poll", type=float, required=True, help="seconds")
    parser.add_argument("--go", type=Path, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    arguments = parser.parse_args()
    wait_for_file(arguments.go, GO_TIMEOUT_SECONDS)
    asyncio.run(project(arguments.batch_size, arguments.poll, arguments.ready))


if __name__ == "__main__":
    main()
