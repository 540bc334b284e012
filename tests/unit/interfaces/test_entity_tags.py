"""Entity tags: If-None-Match compared weakly, as RFC 9110 requires."""

from __future__ import annotations

import pytest

from stonkmarket.application.hot_views import etag_of
from stonkmarket.interfaces.http.caching import etag_matches


def test_etag_is_quoted_body_digest() -> None:
    tag = etag_of(b"[]")
    assert tag.startswith('"')
    assert tag.endswith('"')
    assert len(tag) == 34
    assert etag_of(b"[]") == tag
    assert etag_of(b"[ ]") != tag


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"zzz", "abc"', True),
        ("*", True),
        ('"zzz"', False),
        ('"ab"', False),
        (None, False),
    ],
)
def test_if_none_match_compares_entity_tags_weakly(
    if_none_match: str | None, matches: bool
) -> None:
    assert etag_matches(if_none_match, '"abc"') is matches
