"""Job parameters: what each job accepts, checked before a run is requested."""

from __future__ import annotations

from typing import Any

from stonkmarket.application.errors import InvalidParamsError
from stonkmarket.domain.dips import WINDOWS
from stonkmarket.domain.tickers import normalise_ticker

MAX_TICKERS = 500
# The parameters each job accepts; a job missing here takes none.
ACCEPTED: dict[str, frozenset[str]] = {
    "ingest_prices": frozenset({"tickers"}),
    "refresh_fundamentals": frozenset({"tickers"}),
    "dipfinder_run": frozenset({"tickers", "windows"}),
}


def check_params(job: str, params: dict[str, Any]) -> dict[str, Any]:
    """Return the parameters in canonical form, or raise InvalidParamsError.

    `tickers` is a list of tickers (all watched ones when absent); `windows`
    a list of 7, 30, 100 or 365 (all four when absent).
    """
    accepted = ACCEPTED.get(job, frozenset())
    unknown = sorted(set(params) - accepted)
    if unknown:
        allowed = ", ".join(sorted(accepted)) or "none"
        raise InvalidParamsError(
            f"{job} takes no parameter {unknown[0]!r}; it accepts: {allowed}",
            field=unknown[0],
        )
    checked: dict[str, Any] = {}
    if "tickers" in params:
        checked["tickers"] = _tickers(params["tickers"])
    if "windows" in params:
        checked["windows"] = _windows(params["windows"])
    return checked


def _tickers(value: Any) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_TICKERS:
        raise InvalidParamsError(
            f"tickers must be a list of 1 to {MAX_TICKERS} tickers, such as "
            '["AAPL", "MSFT"]',
            field="tickers",
        )
    if not all(isinstance(t, str) for t in value):
        raise InvalidParamsError("tickers must all be strings", field="tickers")
    return sorted({normalise_ticker(t, field="tickers") for t in value})


def _windows(value: Any) -> list[int]:
    whole = isinstance(value, list) and all(
        isinstance(w, int) and not isinstance(w, bool) for w in value
    )
    if not whole or not value or not set(value) <= set(WINDOWS):
        raise InvalidParamsError(
            "windows must be a list of window lengths from 7, 30, 100 and 365",
            field="windows",
        )
    return sorted(set(value))
