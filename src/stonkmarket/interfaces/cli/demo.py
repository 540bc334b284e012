"""Loading the bundled sample through the ordinary commands."""

from __future__ import annotations

from rich.progress import Progress

from stonkmarket.application.commands import AddSymbol, ChangeSettings, RecordPrices
from stonkmarket.application.errors import ConflictError
from stonkmarket.application.handlers import add_symbol, change_settings, record_prices
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import Container

DEMO_ACTOR = "system:demo"


async def load_sample(container: Container, source: SamplePriceSource) -> int:
    """Watch the sample's stocks and record their prices; return commands that stored.

    Every step is idempotent: a second run stores nothing.
    """
    changed = 0
    tickers = [source.benchmark, *source.tickers()]
    receipt = await container.execute(
        change_settings,
        # The sample has no fundamentals, so the quality gate is skipped rather
        # than blocking every alert.
        ChangeSettings(
            changes={"benchmark": source.benchmark, "missing_quality": "skip"},
            actor=DEMO_ACTOR,
        ),
    )
    changed += receipt.position > 0
    with Progress(transient=True) as progress:
        task = progress.add_task("Loading sample prices", total=len(tickers))
        for ticker in tickers:
            progress.update(task, description=f"Loading {ticker:<6}")
            if ticker != source.benchmark:
                changed += await _watch(container, ticker)
            batch = source.fetch(ticker)
            receipt = await container.execute(
                record_prices, RecordPrices(batch=batch, actor=DEMO_ACTOR)
            )
            changed += receipt.position > 0
            progress.advance(task)
    return changed


async def _watch(container: Container, ticker: str) -> bool:
    try:
        await container.execute(add_symbol, AddSymbol(ticker=ticker, actor=DEMO_ACTOR))
    except ConflictError:
        return False
    return True
