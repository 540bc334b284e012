"""One table from error types to HTTP statuses, and the one error body."""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import Any

import eventsourcing.persistence
import msgspec
import sqlalchemy.exc
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from stonkmarket.application.access import (
    ForbiddenError,
    NotAuthenticatedError,
    RateLimitedError,
)
from stonkmarket.application.errors import (
    ApplicationError,
    ConflictError,
    InvalidParamsError,
    NotFoundError,
    OwnRoleChangeError,
    PriceSourceError,
    ProjectionTimeoutError,
    SourceRateLimitedError,
    StaleVersionError,
    UnknownTickerError,
    WrongPasswordError,
)
from stonkmarket.application.tokens import InvalidTokenError
from stonkmarket.domain.errors import (
    DomainError,
    InvalidPriceBatchError,
    InvalidTickerError,
    LastAdminError,
    RestatementError,
    RunStateError,
    SymbolRemovedError,
    SymbolWatchedError,
    ThresholdOutOfRangeError,
    UnknownJobError,
    UsernameTakenError,
)
from stonkmarket.interfaces.http.context import request_id_of

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[Exception], int] = {
    InvalidTokenError: 401,
    NotAuthenticatedError: 401,
    ForbiddenError: 403,
    WrongPasswordError: 403,
    OwnRoleChangeError: 403,
    RateLimitedError: 429,
    UsernameTakenError: 409,
    LastAdminError: 409,
    NotFoundError: 404,
    UnknownJobError: 404,
    UnknownTickerError: 404,
    RunStateError: 409,
    InvalidParamsError: 422,
    SymbolRemovedError: 404,
    ConflictError: 409,
    StaleVersionError: 412,
    SymbolWatchedError: 409,
    RestatementError: 409,
    InvalidTickerError: 422,
    ThresholdOutOfRangeError: 422,
    InvalidPriceBatchError: 422,
    SourceRateLimitedError: 503,
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


def _respond(
    request: Request[Any, Any, Any],
    body: ErrorBody,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    headers = dict(headers or {})
    # Errors raised before routing (unknown path, wrong method) bypass the
    # request-id middleware, so they get their id here.
    if body.request_id == "-":
        body = msgspec.structs.replace(body, request_id=uuid.uuid4().hex)
        headers["X-Request-ID"] = body.request_id
    return Response(content=body, status_code=body.status, headers=headers)


def handle_known_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Map a domain or application error to its status through the table."""
    assert isinstance(error, DomainError | ApplicationError)
    status = next(
        code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)
    )
    details: dict[str, Any] | None = None
    if error.field is not None:
        details = {"field": error.field}
        if len(error.problems) > 1:
            details["fields"] = error.problems
    body = ErrorBody(
        error=_code(error),
        message=error.message,
        status=status,
        details=details,
        request_id=request_id_of(request),
    )
    return _respond(request, body, _headers_of(error))


def _headers_of(error: Exception) -> dict[str, str]:
    """Return the headers of an error's status: how to authenticate, when to retry."""
    if isinstance(error, InvalidTokenError):
        return {"WWW-Authenticate": 'Bearer realm="stonkmarket", error="invalid_token"'}
    if isinstance(error, NotAuthenticatedError):
        return {"WWW-Authenticate": 'Bearer realm="stonkmarket"'}
    if isinstance(error, RateLimitedError):
        return error.headers
    return {}


_NAMED_FIELD = re.compile(r"field `([^`]+)`")


def _field_of(problem: dict[str, Any]) -> str:
    """Return the field a decoding problem names, read from msgspec's message."""
    key = str(problem.get("key") or "body")
    if key != "data":
        return key
    named = _NAMED_FIELD.search(str(problem.get("message", "")))
    return named.group(1) if named else "body"


def _problem_text(problem: dict[str, Any]) -> str:
    message = str(problem.get("message", ""))
    if message == "'data'":
        return "the request body is missing or is not a JSON object"
    return message


def handle_validation_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Return 400 for a request that does not decode, naming each bad field."""
    assert isinstance(error, ValidationException)
    extra = error.extra if isinstance(error.extra, list) else []
    problems = [p for p in extra if isinstance(p, dict)]
    fields = [_field_of(p) for p in problems]
    message = "; ".join(
        f"{field}: {_problem_text(p)}"
        for field, p in zip(fields, problems, strict=True)
    )
    body = ErrorBody(
        error="INVALID_REQUEST",
        message=message or error.detail,
        status=400,
        details={"fields": fields} if fields else None,
        request_id=request_id_of(request),
    )
    return _respond(request, body)


def handle_too_deep(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Return 400 for a body nested deeper than the decoder can follow."""
    body = ErrorBody(
        error="INVALID_REQUEST",
        message="the request body is nested too deeply to read; flatten it",
        status=400,
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


def handle_database_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[ErrorBody]:
    """Return 503 when the database is unavailable; other database errors are 500."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and isinstance(
        error, DATABASE_BUGS
    ):
        return handle_unexpected_error(request, error)
    log.warning(
        "database_unavailable", request_id=request_id_of(request), error=str(error)
    )
    body = ErrorBody(
        error="DATABASE_UNAVAILABLE",
        message="the database is unavailable; nothing was changed, retry shortly",
        status=503,
        request_id=request_id_of(request),
    )
    return _respond(request, body)


# Database errors that a request caused rather than an outage.
DATABASE_BUGS = (
    sqlalchemy.exc.IntegrityError,
    sqlalchemy.exc.ProgrammingError,
    sqlalchemy.exc.DataError,
)


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
    RecursionError: handle_too_deep,
    HTTPException: handle_http_error,
    sqlalchemy.exc.DBAPIError: handle_database_error,
    sqlalchemy.exc.TimeoutError: handle_database_error,
    eventsourcing.persistence.OperationalError: handle_database_error,
    eventsourcing.persistence.InterfaceError: handle_database_error,
    ConnectionError: handle_database_error,
    Exception: handle_unexpected_error,
}
