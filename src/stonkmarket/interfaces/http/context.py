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
    """Who the change is recorded as made by: the caller's username."""
    principal = request.scope.get("state", {}).get("principal")
    return "anonymous" if principal is None else str(principal.username)


AppContainer = NamedDependency[Container]
"""The wired application, injected into every handler with a `container` parameter."""
