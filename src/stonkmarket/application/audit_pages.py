"""Audit trail pagination: the filter, the page, and the opaque page cursor."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import msgspec

from stonkmarket.application.errors import InvalidQueryError
from stonkmarket.application.views import AuditEntry


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of configuration changes, newest first, and the cursor to older ones."""

    entries: list[AuditEntry]
    next_cursor: str | None


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filter on subject, actor and time range, below an optional event position."""

    subject: str | None = None
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_position: int | None = None


# Positions are 64-bit signed integers in both databases.
MAX_POSITION = 2**63 - 1


class _Cursor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    before: int


def encode_cursor(position: int) -> str:
    """Return the opaque cursor for the entries older than `position`."""
    raw = msgspec.json.encode(_Cursor(before=position))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the exclusive upper bound on position that `cursor` encodes.

    Raises InvalidQueryError when the cursor is malformed or below 1.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=_Cursor).before
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise InvalidQueryError(
            "invalid cursor: pass the next_cursor of the previous page unchanged",
            field="cursor",
        ) from exc
    if position > MAX_POSITION:
        raise InvalidQueryError(
            f"invalid cursor: it encodes position {position}, past the last "
            "possible one; pass the next_cursor of the previous page unchanged",
            field="cursor",
        )
    if position < 1:
        raise InvalidQueryError(
            f"invalid cursor: it encodes position {position}, but positions start"
            " at 1; pass the next_cursor of the previous page unchanged",
            field="cursor",
        )
    return position


def parse_instant(text: str | None, field: str) -> dt.datetime | None:
    """Parse an ISO 8601 date or date-time, or raise InvalidQueryError naming `field`.

    A value without a UTC offset is taken as UTC.
    """
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
