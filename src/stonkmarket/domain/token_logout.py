"""A logged-out token, rejected from the logout until it expires, across restarts."""

from __future__ import annotations

import datetime as dt
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def token_logout_id(token_id: str) -> UUID:
    """Return the aggregate id of a token's logout.

    The id depends only on `token_id`, so a second logout of the same token
    conflicts in the event store.
    """
    return uuid5(NAMESPACE_URL, f"logout:{token_id}")


class TokenLogout(Aggregate):
    """One token logged out by its holder before it expired."""

    class LoggedOut(Aggregate.Created):
        token_id: str
        account_id: UUID
        username: str
        expires_at: dt.datetime
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(token_id: str, *_: object, **__: object) -> UUID:
        return token_logout_id(token_id)

    @event(LoggedOut)
    def __init__(
        self,
        token_id: str,
        account_id: UUID,
        username: str,
        expires_at: dt.datetime,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        self.token_id = token_id
        self.account_id = account_id
        self.expires_at = expires_at
