"""Request bodies of the HTTP API (responses are the query views)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from stonkmarket.domain.adjustment import MAX_PRICE, MIN_PRICE

Fraction = Annotated[float, msgspec.Meta(gt=0, lt=1, description="0.15 means 15 %")]
Days = Annotated[int, msgspec.Meta(ge=0, le=365)]
Ticker = Annotated[str, msgspec.Meta(min_length=1, max_length=15)]
Price = Annotated[float, msgspec.Meta(ge=MIN_PRICE, le=MAX_PRICE)]


class SymbolCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    ticker: Ticker
    min_dip_pct: Fraction | None = None
    min_days: Days | None = None


class SymbolUpdate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    min_dip_pct: Fraction | None = None
    min_days: Days | None = None


class Bar(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One daily close as traded, with the source's adjusted close if it has one."""

    date: dt.date
    close: Price
    adjusted_close: Price | None = None


class Action(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A split (`value` new shares per old, 2 for 2:1) or a cash dividend per share."""

    date: dt.date
    kind: Literal["split", "dividend"]
    value: Annotated[float, msgspec.Meta(gt=0)]


class PricesBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bars: Annotated[list[Bar], msgspec.Meta(min_length=1, max_length=50_000)]
    actions: Annotated[list[Action], msgspec.Meta(max_length=1_000)] = []
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "api"
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None


class FundamentalsBody(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """A source's report on a company, shaped like yfinance's `info`."""

    as_of: dt.date
    info: dict[str, Any]
    statements: dict[str, Any] | None = None
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "api"


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """The ticker a batch was recorded for and its last event's position (0: none)."""

    ticker: str
    position: int


class Health(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A status: `ok`, `degraded` (serving, with a part missing) or `unavailable`."""

    status: str
    database: str | None = None
    cache: str | None = None
    cache_kind: str | None = None
    position: int | None = None
    head: int | None = None
    lag: int | None = None
    failed_events: int | None = None
    error: str | None = None


class Rebuilt(msgspec.Struct, frozen=True, kw_only=True):
    events_replayed: int


Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
RoleName = Literal["viewer", "admin"]


class LoginRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """A username and password; `cookie` also sets the token as an httpOnly cookie."""

    username: Username
    password: Password
    cookie: bool = False


class LoginResult(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_at: dt.datetime
    username: str
    role: str


class Me(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's account and when the token it sent expires."""

    username: str
    role: str
    token_expires_at: dt.datetime


class CredentialsChange(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """A new username, a new password or both; the current password confirms it."""

    current_password: Password
    new_username: Username | None = None
    new_password: Password | None = None


class AccountCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    username: Username
    password: Password
    role: RoleName = "viewer"


class RoleChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: RoleName
