"""The admin roster, which ensures that at least one admin account remains."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import LastAdminError

ADMIN_ROSTER_ID: UUID = uuid5(NAMESPACE_URL, "admins")


class AdminRoster(Aggregate):
    """The ids of all admin accounts, in one aggregate with a fixed id.

    Every change that grants or removes the admin role appends to this roster
    in the same atomic save as the account. Two such changes based on the same
    roster version conflict in the event store, so two admins who demote each
    other concurrently cannot leave the system without an admin.
    """

    class Started(Aggregate.Created):
        pass

    class AdminAdded(Aggregate.Event):
        account_id: UUID
        username: str
        actor: str
        correlation_id: str | None

    class AdminRemoved(Aggregate.Event):
        account_id: UUID
        username: str
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(*_: object, **__: object) -> UUID:
        return ADMIN_ROSTER_ID

    @event(Started)
    def __init__(self) -> None:
        self.admins: frozenset[UUID] = frozenset()

    def add(
        self,
        account_id: UUID,
        username: str,
        *,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Add `account_id` to the roster, recording nothing if it is listed already."""
        if account_id in self.admins:
            return
        self._admin_added(account_id, username, actor, correlation_id)

    def remove(
        self,
        account_id: UUID,
        username: str,
        *,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Remove `account_id` from the roster unless no other admin would remain.

        Raises LastAdminError when no other admin would remain. An empty roster
        has no other admin either, so it raises for any account. Removing an
        account that is not listed otherwise records nothing.
        """
        if not self.admins - {account_id}:
            raise LastAdminError(
                f"{username} is the last admin, and at least one account must "
                "stay admin; make another account admin first",
                field="role",
            )
        if account_id in self.admins:
            self._admin_removed(account_id, username, actor, correlation_id)

    @event(AdminAdded)
    def _admin_added(
        self,
        account_id: UUID,
        username: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.admins = self.admins | {account_id}

    @event(AdminRemoved)
    def _admin_removed(
        self,
        account_id: UUID,
        username: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.admins = self.admins - {account_id}
