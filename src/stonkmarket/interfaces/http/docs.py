"""The OpenAPI document and its browsable page, at the paths clients expect."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect

SCHEMA_PATH = "/api/schema"


@get("/api/openapi.json", include_in_schema=False, sync_to_thread=False)
def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of this API."""
    return request.app.openapi_schema.to_schema()


@get("/api/docs", include_in_schema=False, sync_to_thread=False)
def docs_page() -> Redirect:
    """Redirect to the Swagger page, which renders the document."""
    return Redirect(f"{SCHEMA_PATH}/swagger")
