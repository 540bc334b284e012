"""The PriceHistory aggregate: every daily close recorded for one ticker."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.adjustment import MAX_PRICE, MIN_PRICE, check_action
from stonkmarket.domain.errors import InvalidPriceBatchError, RestatementError
from stonkmarket.domain.prices import PriceBatch

# Sources round to a few decimals; two closes this close are the same report.
_SAME_CLOSE_REL_TOL = 1e-9


class PriceHistory(Aggregate):
    """The closes of one ticker; a batch never overwrites a bar silently."""

    class Started(Aggregate.Created):
        ticker: str

    class BarsRecorded(Aggregate.Event):
        ticker: str
        dates: list[str]
        closes: list[float]
        source: str
        actor: str
        correlation_id: str | None
        reference_closes: list[float | None] | None = None

    class ActionsRecorded(Aggregate.Event):
        """Splits and dividends, each a dict of date (ISO), kind and value."""

        ticker: str
        actions: list[dict[str, Any]]
        source: str
        actor: str
        correlation_id: str | None

    class BarsRestated(Aggregate.Event):
        ticker: str
        dates: list[str]
        closes: list[float]
        previous_closes: list[float]
        reason: str
        source: str
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(ticker: str, *_: object, **__: object) -> UUID:
        return price_history_id(ticker)

    @event(Started)
    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.closes: dict[str, float] = {}
        self.actions: dict[tuple[str, str], float] = {}

    def record(
        self,
        batch: PriceBatch,
        *,
        actor: str,
        reason: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Add the batch's new bars; restate changed ones only with a reason.

        Bars equal to what is stored are ignored, so recording the same batch
        twice adds nothing.
        """
        check_batch(batch)
        new, changed = self._split(batch)
        new_actions = self._new_actions(batch, reason)
        self._check_dividends_fit(batch, new_actions)
        if changed and not (reason and reason.strip()):
            shown = ", ".join(d for d, _ in changed[:3])
            raise RestatementError(
                f"{self.ticker} has other closes stored for {len(changed)} of "
                f"these dates (first: {shown}); give a reason to restate them",
                field="reason",
            )
        if new_actions:
            self._actions_recorded(
                self.ticker, new_actions, batch.source, actor, correlation_id
            )
        if new:
            dates, closes = zip(*new, strict=True)
            self._bars_recorded(
                self.ticker,
                list(dates),
                list(closes),
                batch.source,
                actor,
                correlation_id,
                _references_of(batch, set(dates)),
            )
        if changed:
            dates, closes = zip(*changed, strict=True)
            previous = [self.closes[d] for d in dates]
            self._bars_restated(
                self.ticker,
                list(dates),
                list(closes),
                previous,
                reason or "",
                batch.source,
                actor,
                correlation_id,
            )

    def _new_actions(
        self, batch: PriceBatch, reason: str | None
    ) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        for action in batch.actions:
            check_action(action)
            key = (action.date.isoformat(), action.kind)
            stored = self.actions.get(key)
            if stored is not None and math.isclose(stored, action.value):
                continue
            if stored is not None and not (reason and reason.strip()):
                raise RestatementError(
                    f"{self.ticker} has a {action.kind} of {stored:g} recorded on "
                    f"{key[0]}, not {action.value:g}; give a reason to restate it",
                    field="reason",
                )
            new.append({"date": key[0], "kind": action.kind, "value": action.value})
        return new

    def _check_dividends_fit(
        self, batch: PriceBatch, new_actions: list[dict[str, Any]]
    ) -> None:
        """Raise unless every dividend stays below the close before its ex-date."""
        closes = {**self.closes}
        closes.update(
            (day.isoformat(), close)
            for day, close in zip(batch.dates, batch.closes, strict=True)
        )
        actions = {**self.actions}
        actions.update(((a["date"], a["kind"]), a["value"]) for a in new_actions)
        ordered = sorted(closes)
        for (day, kind), value in actions.items():
            if kind != "dividend":
                continue
            before = bisect.bisect_left(ordered, day)
            if before and value >= closes[ordered[before - 1]]:
                raise InvalidPriceBatchError(
                    f"the dividend of {value:g} on {day} is not below the close of "
                    f"{closes[ordered[before - 1]]:g} before it; send the cash "
                    "dividend per share, in the quote currency",
                    field="actions",
                )

    def _split(
        self, batch: PriceBatch
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        new: list[tuple[str, float]] = []
        changed: list[tuple[str, float]] = []
        for day, close in zip(batch.dates, batch.closes, strict=True):
            key = day.isoformat()
            stored = self.closes.get(key)
            if stored is None:
                new.append((key, close))
            elif not math.isclose(stored, close, rel_tol=_SAME_CLOSE_REL_TOL):
                changed.append((key, close))
        return new, changed

    @event(BarsRecorded)
    def _bars_recorded(
        self,
        ticker: str,
        dates: list[str],
        closes: list[float],
        source: str,
        actor: str,
        correlation_id: str | None,
        reference_closes: list[float | None] | None = None,
    ) -> None:
        self.closes.update(zip(dates, closes, strict=True))

    @event(ActionsRecorded)
    def _actions_recorded(
        self,
        ticker: str,
        actions: list[dict[str, Any]],
        source: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        for action in actions:
            self.actions[(action["date"], action["kind"])] = action["value"]

    @event(BarsRestated)
    def _bars_restated(
        self,
        ticker: str,
        dates: list[str],
        closes: list[float],
        previous_closes: list[float],
        reason: str,
        source: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.closes.update(zip(dates, closes, strict=True))


def _references_of(batch: PriceBatch, kept: set[str]) -> list[float | None] | None:
    """Return the source's adjusted closes of the bars being recorded, if any."""
    if batch.reference_closes is None:
        return None
    return [
        reference
        for day, reference in zip(batch.dates, batch.reference_closes, strict=True)
        if day.isoformat() in kept
    ]


def check_batch(batch: PriceBatch) -> None:
    """Raise InvalidPriceBatchError unless dates rise strictly and closes are usable."""
    if len(batch.dates) != len(batch.closes):
        raise InvalidPriceBatchError(
            f"{len(batch.dates)} dates but {len(batch.closes)} closes; "
            "send one close per date",
            field="closes",
        )
    previous: dt.date | None = None
    for day, close in zip(batch.dates, batch.closes, strict=True):
        if previous is not None and day <= previous:
            raise InvalidPriceBatchError(
                f"dates must rise strictly with no repeats; {day} follows {previous}",
                field="dates",
            )
        if not (math.isfinite(close) and MIN_PRICE <= close <= MAX_PRICE):
            raise InvalidPriceBatchError(
                f"close on {day} is {close}; closes must be from {MIN_PRICE:g} to "
                f"{MAX_PRICE:g} (leave a missing day out)",
                field="closes",
            )
        previous = day
    keys = [(a.date, a.kind) for a in batch.actions]
    if len(set(keys)) != len(keys):
        raise InvalidPriceBatchError(
            "the batch names the same corporate action twice; send each date and "
            "kind once",
            field="actions",
        )
    references = batch.reference_closes
    if references is not None and len(references) != len(batch.dates):
        raise InvalidPriceBatchError(
            f"{len(batch.dates)} dates but {len(references)} reference closes; "
            "send one per date, null where the source has none",
            field="reference_closes",
        )
    for day, reference in zip(batch.dates, references or (), strict=False):
        if reference is None:
            continue
        if not (math.isfinite(reference) and MIN_PRICE <= reference <= MAX_PRICE):
            raise InvalidPriceBatchError(
                f"reference close on {day} is {reference}; send a close from "
                f"{MIN_PRICE:g} to {MAX_PRICE:g}, or null",
                field="reference_closes",
            )


def price_history_id(ticker: str) -> UUID:
    """Return the PriceHistory's id, one history per ticker."""
    return uuid5(NAMESPACE_URL, f"prices:{ticker}")
