"""Per-request facts that handlers record on events: the actor and the request id."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from stonkmarket.interfaces.bootstrap import Container


def request_id_of(request: Request[Any, Any, Any]) -> str:
    """Return the id the request-id middleware gave this request."""
    return str(request.scope.get("state", {}).get("request_id", "-"))


def actor_of(request: Request[Any, Any, Any]) -> str:
    """Who the change is recorded as made by.

    Every writer is anonymous until accounts and tokens exist; then this
    returns the authenticated username.
    """
    return "anonymous"


AppContainer = NamedDependency[Container]
"""The wired application, injected into every handler with a `container` parameter."""
