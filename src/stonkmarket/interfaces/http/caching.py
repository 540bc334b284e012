"""Conditional GET: an ETag on each cacheable body, and 304 when it matches."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec

from stonkmarket.application.hot_views import HotCopy, encode

# A browser or proxy may cache the body but must revalidate it with the ETag
# before each use, because a ranking changes as soon as new prices are projected.
CACHE_CONTROL = "no-cache"

NOT_MODIFIED = {
    304: ResponseSpec(
        data_container=None,
        description="Not modified: the ETag in If-None-Match is still current",
    )
}


def conditional(request: Request[Any, Any, Any], copy: HotCopy) -> Response[Any]:
    """Return the body with its ETag, or 304 when If-None-Match matches the ETag."""
    headers = {"ETag": copy.etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), copy.etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=copy.body, media_type=MediaType.JSON, headers=headers)


def conditional_view(request: Request[Any, Any, Any], view: object) -> Response[Any]:
    """Encode a view computed for this request and return it as `conditional` does."""
    return conditional(request, HotCopy.of(encode(view)))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Return whether If-None-Match matches `etag`, using weak comparison (RFC 9110)."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(
        tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(",")
    )
