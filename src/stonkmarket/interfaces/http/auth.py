"""Auth routes: log in and out, show the caller's account, change its credentials."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from stonkmarket.application.access import NotAuthenticatedError, Principal
from stonkmarket.application.accounts import change_credentials, revoke_tokens
from stonkmarket.application.authentication import authenticate
from stonkmarket.application.commands import (
    ChangeCredentials,
    LogOutToken,
    RevokeTokens,
)
from stonkmarket.application.errors import InvalidQueryError
from stonkmarket.application.logouts import log_out_token
from stonkmarket.application.tokens import Role
from stonkmarket.application.views import AccountView
from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.http.access_gate import (
    TOKEN_COOKIE,
    check_decision,
    principal_of,
    signed_in,
)
from stonkmarket.interfaces.http.context import AppContainer, request_id_of
from stonkmarket.interfaces.http.schemas import (
    CredentialsChange,
    LoginRequest,
    LoginResult,
    Me,
)

# The "stonkmarket.security" logger lets a security team filter these lines.
# Passwords and tokens are never logged.
log = structlog.get_logger("stonkmarket.security")

# Login attempts allowed per rate-limit window, per client address and per
# username, in addition to the general rate limit.
LOGIN_ATTEMPTS = 10


class AuthController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @post("/login", status_code=HTTP_200_OK)
    async def login(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        data: JSONBody[LoginRequest],
    ) -> Response[LoginResult]:
        """Exchange a username and password for a bearer token.

        A wrong password and an unknown username get the same 401 after the
        same hashing work. Each client address and each username may make
        LOGIN_ATTEMPTS attempts per rate-limit window.
        """
        address = str(request.scope["state"]["client_address"])
        await _count_attempt(container, address, data.username)
        account = await asyncio.to_thread(
            authenticate,
            container.store,
            container.hasher,
            data.username,
            data.password,
            correlation_id=request_id_of(request),
        )
        if account is None:
            log.warning("login_failed", username=data.username, client=address)
            raise NotAuthenticatedError("the username or the password is wrong")
        log.info("login_succeeded", username=account.username, client=address)
        return _token_response(container, account, cookie=data.cookie)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, guards=[signed_in])
    async def logout(
        self, request: Request[Any, Any, Any], container: AppContainer
    ) -> Response[None]:
        """Log out this token, so it is rejected from now until it expires."""
        principal = _caller(request)
        command = LogOutToken(
            token_id=principal.claims.token_id,
            account_id=principal.account_id,
            username=principal.username,
            expires_at=principal.claims.expires_at,
            actor=principal.username,
            correlation_id=request_id_of(request),
        )
        await container.execute(log_out_token, command)
        log.info("logged_out", username=principal.username)
        return _signed_out()

    @post("/logout-all", status_code=HTTP_204_NO_CONTENT, guards=[signed_in])
    async def logout_all(
        self, request: Request[Any, Any, Any], container: AppContainer
    ) -> Response[None]:
        """Revoke every token of this account, on every device."""
        principal = _caller(request)
        command = RevokeTokens(
            username=principal.username,
            actor=principal.username,
            correlation_id=request_id_of(request),
        )
        await container.execute(revoke_tokens, command)
        log.info("logged_out_everywhere", username=principal.username)
        return _signed_out()

    @get("/me", guards=[signed_in])
    async def me(self, request: Request[Any, Any, Any]) -> Me:
        """Return the caller's username and role, and when its token expires."""
        principal = _caller(request)
        return Me(
            username=principal.username,
            role=principal.role,
            token_expires_at=principal.claims.expires_at,
        )

    @put("/credentials", guards=[signed_in])
    async def credentials(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        data: JSONBody[CredentialsChange],
    ) -> Response[LoginResult]:
        """Change the username, the password or both, given the current password.

        A new password revokes every token issued before it, including this
        one, so the response contains a new token. Returns 409 when another
        change was saved first.
        """
        principal = _caller(request)
        if data.new_username is None and data.new_password is None:
            raise InvalidQueryError(
                "send new_username, new_password or both; nothing was changed",
                field="new_password",
            )
        # Checking the current password is a guess, like a login, so it counts
        # as a login attempt.
        address = str(request.scope["state"]["client_address"])
        await _count_attempt(container, address, principal.username)
        command = ChangeCredentials(
            username=principal.username,
            current_password=data.current_password,
            new_username=data.new_username,
            new_password=data.new_password,
            actor=principal.username,
            correlation_id=request_id_of(request),
        )
        handler = functools.partial(change_credentials, hasher=container.hasher)
        receipt = await container.execute(handler, command)
        log.info(
            "credentials_changed",
            username=receipt.account.username,
            renamed=data.new_username is not None,
            password_changed=data.new_password is not None,
        )
        cookie = TOKEN_COOKIE in request.cookies
        return _token_response(container, receipt.account, cookie=cookie)


async def _count_attempt(container: Container, address: str, username: str) -> None:
    window = container.config.security.rate_limit_window
    limiter = container.rate_limiter
    for key in (f"login-ip:{address}", f"login-user:{username.strip().lower()}"):
        check_decision(await limiter.take(key, LOGIN_ATTEMPTS, window))


def _signed_out() -> Response[None]:
    """Return 204 and clear the login cookie, if the client has one."""
    response = Response(None, status_code=HTTP_204_NO_CONTENT)
    response.delete_cookie(TOKEN_COOKIE, path="/api")
    return response


def _caller(request: Request[Any, Any, Any]) -> Principal:
    principal = principal_of(request)
    if principal is None:  # unreachable, because the guard rejects anonymous callers
        raise NotAuthenticatedError("log in first")
    return principal


def _token_response(
    container: Container, account: AccountView, *, cookie: bool
) -> Response[LoginResult]:
    role: Role = "admin" if account.role == "admin" else "viewer"
    token, claims = container.tokens.issue(
        str(account.account_id), account.username, role
    )
    response = Response(
        LoginResult(
            access_token=token,
            token_type="bearer",
            expires_at=claims.expires_at,
            username=account.username,
            role=account.role,
        )
    )
    if cookie:
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            path="/api",
            httponly=True,
            samesite="strict",
            secure=container.config.security.is_production,
            max_age=int((claims.expires_at - claims.issued_at).total_seconds()),
        )
    return response
