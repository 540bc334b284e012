"""Access tokens: the claims the HTTP layer trusts, and the logout denylist.

A token is read in two steps: `AccessTokens.read` checks the signature, the
issuer, the audience and the validity times, then `TokenDenylist.is_denied`
checks whether its owner logged it out before it expired.
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


class DenylistUnavailableError(ApplicationError):
    """Raised when the token denylist cannot be read or written."""


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


class TokenDenylist(Protocol):
    """Token ids that were logged out before they expired.

    Both methods raise DenylistUnavailableError when the store does not
    respond, because a denylist that returned "not denied" while down would let
    a logged-out token back in.
    """

    async def deny(self, token_id: str, until: dt.datetime) -> None:
        """Deny the token until `until`, its expiry time, plus the read leeway."""
        ...

    async def is_denied(self, token_id: str) -> bool:
        """Return whether the token id is denied now."""
        ...

    async def close(self) -> None:
        """Release the store's connections."""
        ...
