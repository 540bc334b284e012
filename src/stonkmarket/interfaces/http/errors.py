"""One table from error types to HTTP statuses, and the one error body."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from stonkmarket.application.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PriceSourceError,
    ProjectionTimeoutError,
    UnknownTickerError,
)
from stonkmarket.domain.errors import (
    DomainError,
    InvalidPriceBatchError,
    InvalidTickerError,
    RestatementError,
    SymbolRemovedError,
    SymbolWatchedError,
    ThresholdOutOfRangeError,
)
from stonkmarket.interfaces.http.context import request_id_of

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[Exception], int] = {
    NotFoundError: 404,
    UnknownTickerError: 404,
    SymbolRemovedError: 404,
    ConflictError: 409,
    SymbolWatchedError: 409,
    RestatementError: 409,
    InvalidTickerError: 422,
    ThresholdOutOfRangeError: 422,
    InvalidPriceBatchError: 422,
    PriceSourceError: 502,
    ProjectionTimeoutError: 503,
    DomainError: 422,
    ApplicationError: 400,
}


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The error body of every failed request."""

    error: str
    message: str
    status: int
    request_id: str
    details: dict[str, Any] | None = None


def _code(error: Exception) -> str:
    name = type(error).__name__.removesuffix("Error").removesuffix("Exception")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _respond(request: Request[Any, Any, Any], body: ErrorBody) -> Response[ErrorBody]:
    return Response(content=body, status_code=body.status)


def handle_known_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Map a domain or application error to its status through the table."""
    assert isinstance(error, DomainError | ApplicationError)
    status = next(
        code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)
    )
    details = None if error.field is None else {"field": error.field}
    body = ErrorBody(
        error=_code(error),
        message=error.message,
        status=status,
        details=details,
        request_id=request_id_of(request),
    )
    return _respond(request, body)


def handle_validation_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Return 400 for a request that does not decode, naming each bad field."""
    assert isinstance(error, ValidationException)
    problems = error.extra if isinstance(error.extra, list) else []
    fields = [p.get("key") for p in problems if isinstance(p, dict) and p.get("key")]
    message = "; ".join(
        f"{p.get('key', 'body')}: {p.get('message', '')}".strip()
        for p in problems
        if isinstance(p, dict)
    )
    body = ErrorBody(
        error="INVALID_REQUEST",
        message=message or error.detail,
        status=400,
        details={"fields": fields, "problems": problems} if problems else None,
        request_id=request_id_of(request),
    )
    return _respond(request, body)


def handle_http_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Return Litestar's own errors (unknown route, wrong method) in the same body."""
    assert isinstance(error, HTTPException)
    status = error.status_code
    body = ErrorBody(
        error="INVALID_REQUEST" if status == 400 else HTTPStatus(status).name,
        message=error.detail,
        status=status,
        request_id=request_id_of(request),
    )
    return _respond(request, body)


def handle_unexpected_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Log an unexpected error once with its traceback and return a bare 500."""
    request_id = request_id_of(request)
    log.error("request_failed", request_id=request_id, exc_info=error)
    body = ErrorBody(
        error="INTERNAL",
        message="the server failed to process the request; report its request id",
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        request_id=request_id,
    )
    return _respond(request, body)


EXCEPTION_HANDLERS = {
    DomainError: handle_known_error,
    ApplicationError: handle_known_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
