"""Username claims: which account holds each username, so no two share one."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import UsernameTakenError


class UsernameClaim(Aggregate):
    """One username and the account that holds it, or none once released.

    The id comes from the name, so two requests claiming one name at once
    append the same version of the same aggregate, and the event store keeps
    only the first. A released name can be claimed again, by any account.
    """

    class Claimed(Aggregate.Created):
        username: str
        account_id: UUID
        actor: str
        correlation_id: str | None

    class Released(Aggregate.Event):
        username: str
        account_id: UUID
        actor: str
        correlation_id: str | None

    class Reclaimed(Aggregate.Event):
        username: str
        account_id: UUID
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(username: str, *_: object, **__: object) -> UUID:
        return username_claim_id(username)

    @event(Claimed)
    def __init__(
        self,
        username: str,
        account_id: UUID,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        self.username = username
        self.holder: UUID | None = account_id

    def reclaim(
        self, account_id: UUID, *, actor: str, correlation_id: str | None = None
    ) -> None:
        """Give a released username to `account_id`."""
        if self.holder is not None:
            raise UsernameTakenError(
                f"username {self.username} is already taken; choose another",
                field="username",
            )
        self._reclaimed(self.username, account_id, actor, correlation_id)

    def release(
        self, account_id: UUID, *, actor: str, correlation_id: str | None = None
    ) -> None:
        """Free the username of `account_id`, its holder, for anyone to claim."""
        if self.holder != account_id:
            raise UsernameTakenError(
                f"username {self.username} is not held by account {account_id}",
                field="username",
            )
        self._released(self.username, account_id, actor, correlation_id)

    @event(Released)
    def _released(
        self,
        username: str,
        account_id: UUID,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.holder = None

    @event(Reclaimed)
    def _reclaimed(
        self,
        username: str,
        account_id: UUID,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.holder = account_id


def username_claim_id(username: str) -> UUID:
    """Return the id of the claim on `username`, the same for the same name."""
    return uuid5(NAMESPACE_URL, f"username:{username}")
