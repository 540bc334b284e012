"""Middleware that authenticates and rate-limits every HTTP request.

It reads the bearer token (or the login cookie), rejects an invalid one with
401, and stores the caller in the request state. It then counts the request
against the caller's rate-limit bucket, keyed by username when logged in and by client
address otherwise. Route guards then authorize the caller per route.
"""

from __future__ import annotations

import math
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from stonkmarket.application.access import (
    NotAuthenticatedError,
    Principal,
    RateLimitedError,
    require_admin,
    require_reader,
)
from stonkmarket.application.rate_limits import RateDecision
from stonkmarket.application.tokens import InvalidTokenError
from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.http.client_address import client_address

TOKEN_COOKIE = "stonkmarket_token"
LOGIN_PATH = "/api/auth/login"
# Path prefixes that skip authentication and rate limiting. Orchestrators poll
# them without a token, and neither a token check (which reads the database)
# nor a rate limit should mark a healthy replica as down.
OPEN_PATHS = ("/api/health",)


def access_gate(container: Container) -> Any:
    """Return middleware that authenticates and rate-limits each request."""
    security = container.config.security
    trusted = security.trusted_networks

    def wrap(app: ASGIApp) -> ASGIApp:
        async def gate(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            state = scope.setdefault("state", {})
            if scope["path"].startswith(OPEN_PATHS):
                state["principal"] = None
                await app(scope, receive, send)
                return
            headers = _headers(scope)
            client = scope.get("client")
            peer = None if client is None else client[0]
            address = client_address(peer, headers.get("x-forwarded-for"), trusted)
            state["client_address"] = address
            principal = await _authenticated(container, scope["path"], headers, address)
            state["principal"] = principal
            key = f"ip:{address}" if principal is None else f"user:{principal.username}"
            decision = await container.rate_limiter.take(key, *_limit(container))
            check_decision(decision)
            await app(scope, receive, _with_headers(send, rate_limit_headers(decision)))

        return gate

    return wrap


async def _authenticated(
    container: Container,
    path: str,
    headers: dict[str, str],
    address: str,
) -> Principal | None:
    """Return the caller that the request's token authenticates, or None.

    An invalid token counts as a request against the client address's rate
    limit before InvalidTokenError is re-raised.
    """
    if path == LOGIN_PATH:  # an expired or revoked token must not block a login
        return None
    try:
        return await _caller(container, headers)
    except InvalidTokenError:
        # Charge the address, so guessing tokens is rate-limited too.
        bucket = await container.rate_limiter.take(f"ip:{address}", *_limit(container))
        check_decision(bucket)
        raise


async def _caller(container: Container, headers: dict[str, str]) -> Principal | None:
    token = _token(headers)
    if token is None:
        return None
    return await container.access.principal(token)


def _limit(container: Container) -> tuple[int, int]:
    security = container.config.security
    return security.rate_limit_requests, security.rate_limit_window


def check_decision(decision: RateDecision) -> None:
    """Raise RateLimitedError with the response headers when the request was denied."""
    if decision.allowed:
        return
    retry_after = max(1, math.ceil(decision.retry_after_seconds))
    raise RateLimitedError(
        f"too many requests: the limit is {decision.limit}; retry in {retry_after} s",
        retry_after_seconds=decision.retry_after_seconds,
        headers={
            "Retry-After": str(retry_after),
            **{k.decode(): v.decode() for k, v in rate_limit_headers(decision)},
        },
    )


def rate_limit_headers(decision: RateDecision) -> list[tuple[bytes, bytes]]:
    """Return the RateLimit-* headers of the IETF draft, rounded to integers."""
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(math.ceil(decision.reset_seconds)).encode()),
    ]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """Return the caller that the gate stored, or None for an anonymous request."""
    principal: Principal | None = connection.scope.get("state", {}).get("principal")
    return principal


def admin_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard that admits only admins: 401 without a token, 403 for a viewer."""
    require_admin(principal_of(connection))


def signed_in(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard that admits any logged-in caller, and raises 401 otherwise."""
    if principal_of(connection) is None:
        raise NotAuthenticatedError(
            "log in first at POST /api/auth/login and send "
            "`Authorization: Bearer <token>`"
        )


def readers(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard that admits anyone when PUBLIC_READS is true, else logged-in callers."""
    container: Container = connection.app.state.container
    public = container.config.security.public_reads
    require_reader(principal_of(connection), public_reads=public)


def _headers(scope: Scope) -> dict[str, str]:
    """Return the request headers by lower-case name, joining repeated ones in order."""
    joined: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        separator = "; " if name == "cookie" else ", "
        joined[name] = f"{joined[name]}{separator}{value}" if name in joined else value
    return joined


def _token(headers: dict[str, str]) -> str | None:
    """Return the bearer token from the Authorization header or the login cookie.

    The header wins when both are present. A malformed header raises
    InvalidTokenError.
    """
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise InvalidTokenError("send the token as `Authorization: Bearer <token>`")
        return credentials.strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == TOKEN_COOKIE and value:
            return value
    return None


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            # A stricter bucket, such as the login's, may have set these already.
            headers += [(k, v) for k, v in extra if k not in present]
            message["headers"] = headers
        await send(message)

    return send_with_headers
