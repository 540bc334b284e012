"""Document the shared error body and its status codes in the OpenAPI schema.

Litestar documents its own 400 body for every route with parameters, but the
API returns every error as ErrorBody. This module replaces those entries and
adds ErrorBody to every status code a route can return.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["error", "message", "status", "request_id"],
    properties={
        "error": Schema(
            type=OpenAPIType.STRING, description="error code, such as NOT_FOUND"
        ),
        "message": Schema(
            type=OpenAPIType.STRING, description="what failed and what to change"
        ),
        "status": Schema(type=OpenAPIType.INTEGER),
        "request_id": Schema(type=OpenAPIType.STRING),
        "details": Schema(
            type=OpenAPIType.OBJECT,
            description=(
                "`field` names the invalid field, and `fields` lists every"
                " invalid field"
            ),
        ),
    },
)

EVERY_ROUTE = {
    "400": "the request cannot be decoded: invalid JSON, a wrong type or an "
    "unknown field",
    "401": "the token is missing or invalid",
    "403": "the caller's role does not allow this request",
    "404": "the requested resource was not found",
    "422": "a value is invalid, and `details.field` names it",
    "429": "too many requests, so retry after `Retry-After` seconds",
    "503": "a required backend such as the database is unavailable, so retry shortly",
}
WRITES = {
    "409": "another request changed the same record first, the record exists "
    "already, or the change would leave no admin",
    "412": "If-Match names a version that is no longer current",
    "413": "the request body is larger than 4 MiB",
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def document_errors(app: Litestar) -> None:
    """Add ErrorBody and its status codes to every operation in the OpenAPI schema."""
    document = app.openapi_schema
    if document.components.schemas is None:
        document.components.schemas = {}
    document.components.schemas["ErrorBody"] = ERROR_BODY
    for path_item in (document.paths or {}).values():
        for method in ("get", *WRITE_METHODS):
            operation = getattr(path_item, method, None)
            if operation is None:
                continue
            statuses = {**EVERY_ROUTE, **(WRITES if method in WRITE_METHODS else {})}
            responses = operation.responses if operation.responses is not None else {}
            for status, description in statuses.items():
                responses[status] = _error_response(status, description)
            operation.responses = responses


def _error_response(status: str, description: str) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status == "429":
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.INTEGER),
                description="seconds to wait before retrying",
            )
        }
    return OpenAPIResponse(
        description=description,
        headers=headers,
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref="#/components/schemas/ErrorBody")
            )
        },
    )
