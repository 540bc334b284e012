from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

from stonkmarket.application.commands import AddSymbol
from stonkmarket.application.handlers import add_symbol
from stonkmarket.application.projections import all_projections
from stonkmarket.application.view_changes import ViewChanges
from stonkmarket.domain.symbol import Symbol
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.projection_runner import ProjectionRunner
from stonkmarket.interfaces.bootstrap import build


class FailsOnKO:
    """A projection that cannot apply the event adding KO."""

    name = "fails_on_ko"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, Symbol.Added) and event.ticker == "KO":
            raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ValueError("cannot apply KO"),
        # A bug, or a numpy warning that the test suite turns into an error.
        RuntimeError("cannot apply KO"),
        RuntimeWarning("cannot apply KO"),
    ],
)
def test_bad_event_is_logged_and_passed(tmp_path: Path, error: Exception) -> None:
    container = build(Config(data_dir=tmp_path))
    runner = ProjectionRunner(
        container.store, container.engine, [*all_projections(), FailsOnKO(error)]
    )

    async def project() -> tuple[int, list[str]]:
        await container.start()
        for ticker in ("KO", "PG"):
            add_symbol(container.store, AddSymbol(ticker=ticker))
        applied = await runner.catch_up()
        watched = [s.ticker for s in await container.queries.symbols()]
        await container.close()
        return applied, watched

    applied, watched = asyncio.run(project())

    assert applied == 2
    assert watched == ["KO", "PG"]
    assert [(f.projection, f.position, f.error) for f in runner.failures] == [
        ("fails_on_ko", 1, "cannot apply KO")
    ]


def test_stop_ends_the_loop_even_when_a_hook_swallows_the_cancellation(
    tmp_path: Path,
) -> None:
    container = build(Config(data_dir=tmp_path))

    async def swallows_cancellation() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return  # as a client library that turns it into its own error does

    async def run_and_stop() -> bool:
        await container.start()
        container.runner.on_idle = swallows_cancellation
        task = asyncio.create_task(container.runner.run_forever(poll_seconds=0.01))
        await asyncio.sleep(0.1)
        container.runner.stop()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=3)
        await container.close()
        return task in done

    assert asyncio.run(run_and_stop())
