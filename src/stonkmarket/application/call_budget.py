"""Call budgets: outbound calls to one provider spaced evenly in every process."""

from __future__ import annotations

from typing import Protocol


class CallBudget(Protocol):
    """Spaces the outbound calls of all callers sharing it, in every process.

    With a rate of `calls_per_second`, the turns it hands out are at least
    `1 / calls_per_second` seconds apart, however many callers wait at once.
    """

    async def wait_turn(self) -> float:
        """Wait for this caller's turn to call, and return the seconds waited."""
        ...

    async def close(self) -> None: ...
