"""The admin roster: the admin accounts, kept so that at least one remains."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import LastAdminError

ADMIN_ROSTER_ID: UUID = uuid5(NAMESPACE_URL, "admins")


class AdminRoster(Aggregate):
    """The ids of all admin accounts, in one aggregate with a fixed id.

    Every change that makes or unmakes an admin appends to this roster in the
    same atomic save as the account. Two such changes based on one version of
    the roster collide in the event store, so two admins who remove each other
    at once cannot together leave no admin.
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
        """List `account_id` as an admin; an account listed already records nothing."""
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
        """Take `account_id` off the roster unless no other admin would remain.

        An account that is not listed records nothing. An empty roster lists
        no other admin either, so it raises LastAdminError for every account.
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
