from __future__ import annotations

import asyncio
from pathlib import Path

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

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, Symbol.Added) and event.ticker == "KO":
            raise ValueError("cannot apply KO")


def test_bad_event_is_logged_and_passed(tmp_path: Path) -> None:
    container = build(Config(data_dir=tmp_path))
    runner = ProjectionRunner(
        container.store, container.engine, [*all_projections(), FailsOnKO()]
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
