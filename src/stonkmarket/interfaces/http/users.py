"""Admin-only account routes: list accounts, create one, change a role."""

from __future__ import annotations

import functools
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from stonkmarket.application.accounts import change_role, register_account
from stonkmarket.application.commands import ChangeRole, RegisterAccount
from stonkmarket.application.views import AccountView
from stonkmarket.interfaces.http.access_gate import admin_only
from stonkmarket.interfaces.http.context import AppContainer, actor_of, request_id_of
from stonkmarket.interfaces.http.schemas import AccountCreate, RoleChange


class UserController(Controller):
    path = "/api/users"
    tags = ("users",)
    guards = [admin_only]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/")
    async def accounts(self, container: AppContainer) -> list[AccountView]:
        """List every account, ordered by username, without password hashes."""
        return await container.accounts.accounts()

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        data: JSONBody[AccountCreate],
    ) -> AccountView:
        """Create a viewer or admin account. Returns 409 when the username is taken."""
        command = RegisterAccount(
            username=data.username,
            password=data.password,
            role=data.role,
            actor=actor_of(request),
            correlation_id=request_id_of(request),
        )
        handler = functools.partial(register_account, hasher=container.hasher)
        receipt = await container.execute(handler, command)
        return receipt.account

    @put("/{username:str}/role")
    async def role(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        username: FromPath[str],
        data: JSONBody[RoleChange],
    ) -> AccountView:
        """Set an account's role to viewer or admin. Admins cannot change their own."""
        command = ChangeRole(
            username=username,
            role=data.role,
            actor=actor_of(request),
            correlation_id=request_id_of(request),
        )
        receipt = await container.execute(change_role, command)
        return receipt.account
