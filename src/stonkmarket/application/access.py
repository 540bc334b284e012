"""Who is calling and what they may do: tokens checked against the accounts.

A token alone is not enough: it must not be logged out, its account must
still exist, it must be issued after the account's last revocation, and the
role that counts is the account's role now, not the one in the token.
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
    """Raised when a caller has used up its requests for now."""

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
    """The authenticated caller, as the accounts read model knows them now."""

    account_id: uuid.UUID
    username: str
    role: str
    claims: TokenClaims

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class KnownAccounts(Protocol):
    async def account_by_id(self, account_id: uuid.UUID) -> AccountView | None: ...
    async def is_revoked(self, token_id: str) -> bool: ...


class AccessControl:
    """Turns a bearer token into a Principal, or says why it cannot."""

    def __init__(self, tokens: AccessTokens, accounts: KnownAccounts) -> None:
        self.tokens = tokens
        self.accounts = accounts

    async def principal(self, token: str) -> Principal:
        """Return the caller of `token`; raise InvalidTokenError when it is refused.

        Logouts are events with a view of their own, in the same database as
        the accounts, so a restart of any server forgets none of them.
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
    """Return the caller when an admin; raise 401 without a token, 403 otherwise."""
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
    """Let anyone read when reads are public; else any logged-in caller."""
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
