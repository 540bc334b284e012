"""Pages of the audit trail: filters, and the opaque cursor to the next page."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import msgspec

from stonkmarket.application.errors import InvalidQueryError
from stonkmarket.application.views import AuditEntry


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    """Configuration changes, newest first, and the cursor of the older ones."""

    entries: list[AuditEntry]
    next_cursor: str | None


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which changes to list: by subject, actor and time, older than a position."""

    subject: str | None = None
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_position: int | None = None


class _Cursor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    before: int


def encode_cursor(position: int) -> str:
    """Return the cursor of the entries older than `position`."""
    raw = msgspec.json.encode(_Cursor(before=position))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the position a cursor points before, or raise InvalidQueryError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=_Cursor).before
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise InvalidQueryError(
            "cursor is not one this API returned; pass next_cursor unchanged",
            field="cursor",
        ) from exc
    if position < 1:
        raise InvalidQueryError("cursor points before the first event", field="cursor")
    return position


def parse_instant(text: str | None, field: str) -> dt.datetime | None:
    """Read an ISO 8601 date or date-time; one without an offset is taken as UTC."""
    if text is None:
        return None
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidQueryError(
            f"{field} must be an ISO 8601 date or date-time such as 2026-03-01 or "
            f"2026-03-01T17:30:00+00:00, got {text!r}",
            field=field,
        ) from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant
