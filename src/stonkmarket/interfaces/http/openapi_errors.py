"""Declare the one error body, and the statuses that carry it, in the OpenAPI document.

Litestar documents a 400 of its own shape for every route with parameters;
the API answers every error with ErrorBody instead, so the document says so,
for each status a route can answer with.
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
        "error": Schema(type=OpenAPIType.STRING, description="a code, e.g. NOT_FOUND"),
        "message": Schema(type=OpenAPIType.STRING, description="what to change"),
        "status": Schema(type=OpenAPIType.INTEGER),
        "request_id": Schema(type=OpenAPIType.STRING),
        "details": Schema(
            type=OpenAPIType.OBJECT,
            description="`field`: the field at fault; `fields`: every bad field",
        ),
    },
)

EVERY_ROUTE = {
    "400": "the request does not decode: bad JSON, a wrong type, an unknown field",
    "401": "no valid token where one is needed",
    "403": "the caller's role does not allow it",
    "404": "the thing asked for does not exist",
    "422": "a value breaks a rule; `details.field` names it",
    "429": "too many requests; retry after `Retry-After` seconds",
    "503": "a server this one needs does not answer; retry shortly",
}
WRITES = {
    "409": "another request changed the same record first, it exists already, "
    "or it would leave no admin",
    "412": "If-Match names a version that is no longer current",
    "413": "the body is larger than 4 MiB",
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def document_errors(app: Litestar) -> None:
    """Put ErrorBody and its statuses into the app's OpenAPI document."""
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
                description="seconds to wait",
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
