"""Account queries, read from the accounts view, never from the event store."""

from __future__ import annotations

from uuid import UUID

from stonkmarket.application.errors import NotFoundError
from stonkmarket.application.read_models import ReadModels
from stonkmarket.application.views import AccountView
from stonkmarket.domain.credentials import normalise_username


class AccountQueries:
    """The accounts as the API shows them: never with a password hash."""

    def __init__(self, views: ReadModels) -> None:
        self.views = views

    async def accounts(self) -> list[AccountView]:
        """Return every account, ordered by username."""
        return await self.views.accounts()

    async def account(self, raw_username: str) -> AccountView:
        """Return the account named `raw_username` now; a former name is not found."""
        username = normalise_username(raw_username)
        account = await self.views.account(username)
        if account is None:
            raise NotFoundError(f"no account is named {username}", field="username")
        return account

    async def account_by_id(self, account_id: UUID) -> AccountView | None:
        """Return the account with this id under its current name, if it exists."""
        return await self.views.account_by_id(account_id)

    async def is_revoked(self, token_id: str) -> bool:
        """Return whether the token with this id was logged out."""
        return await self.views.is_revoked(token_id)
