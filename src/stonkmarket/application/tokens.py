"""Access tokens: the claims the HTTP layer trusts once a token is verified.

`AccessTokens.read` checks a token's signature, issuer, audience and validity
times. It does not check whether the token was logged out or revoked by a later
password change. `AccessControl` in access.py checks those against the accounts
view.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal, Protocol

import msgspec

from stonkmarket.application.errors import ApplicationError

Role = Literal["viewer", "admin"]
ROLES: Final[tuple[Role, ...]] = ("viewer", "admin")


def now_utc() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class InvalidTokenError(ApplicationError):
    """Raised when an access token is malformed, forged, expired or not yet valid."""


class TokenClaims(msgspec.Struct, frozen=True, kw_only=True):
    """The verified claims of an access token, with times as aware UTC datetimes."""

    subject: str
    username: str
    role: Role
    issued_at: dt.datetime
    not_before: dt.datetime
    expires_at: dt.datetime
    token_id: str


class AccessTokens(Protocol):
    """Issues signed access tokens and verifies the ones clients send back."""

    def issue(self, subject: str, username: str, role: Role) -> tuple[str, TokenClaims]:
        """Sign a new token for an account and return it with its claims."""
        ...

    def read(self, token: str) -> TokenClaims:
        """Verify a token and return its claims, or raise InvalidTokenError."""
        ...
