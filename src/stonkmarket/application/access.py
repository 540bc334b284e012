"""Authentication and authorization: verify tokens against the accounts view.

A valid signature is not enough. The token must not be logged out, its account
must still exist, and it must have been issued after the account's last
revocation. Authorization uses the account's current role, not the role claim
in the token.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import msgspec
import structlog

from stonkmarket.application.errors import ApplicationError
from stonkmarket.application.tokens import (
    AccessTokens,
    InvalidTokenError,
    TokenClaims,
)
from stonkmarket.application.views import AccountView

log = structlog.get_logger(__name__)


class NotAuthenticatedError(ApplicationError):
    """Raised when a request needs a valid token and has none."""


class ForbiddenError(ApplicationError):
    """Raised when the caller's role does not allow the request."""


class RateLimitedError(ApplicationError):
    """Raised when a caller has exceeded its rate limit."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.headers = headers or {}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller, with its current username and role."""

    account_id: uuid.UUID
    username: str
    role: str
    claims: TokenClaims

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class KnownAccounts(Protocol):
    """The accounts view and the logged-out tokens, as AccessControl reads them."""

    async def account_by_id(self, account_id: uuid.UUID) -> AccountView | None: ...
    async def is_revoked(self, token_id: str) -> bool:
        """Return whether the token with this `jti` has been logged out."""
        ...


class AccessControl:
    """Authenticates bearer tokens as Principals."""

    def __init__(self, tokens: AccessTokens, accounts: KnownAccounts) -> None:
        self.tokens = tokens
        self.accounts = accounts

    async def principal(self, token: str) -> Principal:
        """Return the caller that `token` authenticates, or raise InvalidTokenError.

        Logouts are stored as events, with their own view in the same database
        as the accounts, so they survive a restart of any server.
        """
        claims = self.tokens.read(token)
        if await self.accounts.is_revoked(claims.token_id):
            raise InvalidTokenError("the token was logged out; log in again")
        account = await self.accounts.account_by_id(_account_id(claims))
        if account is None:
            raise InvalidTokenError("the token's account does not exist; log in again")
        if account.not_before is not None and claims.issued_at < account.not_before:
            raise InvalidTokenError(
                "the token was revoked by a password change or a logout everywhere;"
                " log in again"
            )
        return Principal(
            account_id=account.account_id,
            username=account.username,
            role=account.role,
            claims=claims,
        )


def require_admin(principal: Principal | None) -> Principal:
    """Return the caller if it is an admin.

    Raises NotAuthenticatedError (401) without a caller and ForbiddenError (403)
    for a caller of any other role.
    """
    if principal is None:
        raise NotAuthenticatedError(
            "this request needs an admin's token: log in at POST /api/auth/login"
            " and send `Authorization: Bearer <token>`"
        )
    if not principal.is_admin:
        raise ForbiddenError(
            f"{principal.username} is a {principal.role}; only an admin may do this"
        )
    return principal


def require_reader(principal: Principal | None, *, public_reads: bool) -> None:
    """Raise NotAuthenticatedError for an anonymous caller unless reads are public."""
    if principal is None and not public_reads:
        raise NotAuthenticatedError(
            "reads need a token here: log in at POST /api/auth/login"
            " and send `Authorization: Bearer <token>`"
        )


def _account_id(claims: TokenClaims) -> uuid.UUID:
    try:
        return uuid.UUID(claims.subject)
    except ValueError as exc:
        raise InvalidTokenError("the token names no account; log in again") from exc
