"""The Account aggregate: who signs in, with which role, and since when."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from stonkmarket.domain.errors import InvalidRoleError

ADMIN = "admin"
ROLES = ("viewer", ADMIN)


def check_role(role: str, *, field: str = "role") -> None:
    """Raise InvalidRoleError unless `role` is one of ROLES."""
    if role not in ROLES:
        raise InvalidRoleError(
            f"{field} must be one of {', '.join(ROLES)}, got {role!r}", field=field
        )


def _hidden() -> Any:
    """Return an event field that `repr` leaves out, so a logged event shows no hash."""
    return dataclasses.field(repr=False)


class Account(Aggregate):
    """An account that signs in with a username and a password.

    Only argon2id hashes of passwords are stored, and only in these events;
    no view, audit row or `repr` shows one. `not_before` is the instant from
    which tokens count: a token issued before it is revoked.
    """

    class Registered(Aggregate.Created):
        username: str
        role: str
        password_hash: str = _hidden()
        claim_version: int
        actor: str
        correlation_id: str | None

    class PasswordChanged(Aggregate.Event):
        username: str
        password_hash: str = _hidden()
        not_before: dt.datetime
        actor: str
        correlation_id: str | None

    class PasswordRehashed(Aggregate.Event):
        username: str
        password_hash: str = _hidden()
        actor: str
        correlation_id: str | None

    class Renamed(Aggregate.Event):
        old_username: str
        new_username: str
        actor: str
        correlation_id: str | None

    class RoleChanged(Aggregate.Event):
        username: str
        old_role: str
        new_role: str
        actor: str
        correlation_id: str | None

    class TokensRevoked(Aggregate.Event):
        username: str
        not_before: dt.datetime
        actor: str
        correlation_id: str | None

    @staticmethod
    def create_id(username: str, claim_version: int, *_: object, **__: object) -> UUID:
        return account_id(username, claim_version)

    @event(Registered)
    def __init__(
        self,
        username: str,
        role: str,
        password_hash: str,
        claim_version: int,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        self.username = username
        self.role = role
        self.password_hash = password_hash
        self.not_before: dt.datetime | None = None

    @classmethod
    def register(
        cls,
        username: str,
        *,
        role: str,
        password_hash: str,
        claim_version: int,
        actor: str,
        correlation_id: str | None = None,
    ) -> Account:
        """Open an account for a normalised username that `claim_version` claimed."""
        check_role(role)
        return cls(username, role, password_hash, claim_version, actor, correlation_id)

    def change_password(
        self,
        password_hash: str,
        *,
        at: dt.datetime,
        actor: str,
        correlation_id: str | None = None,
    ) -> None:
        """Replace the password at `at`, revoking every token issued before it."""
        self._password_changed(
            self.username, password_hash, at, actor, correlation_id, timestamp=at
        )

    def rehash_password(
        self, password_hash: str, *, actor: str, correlation_id: str | None = None
    ) -> None:
        """Store the same password hashed with new parameters; revoke nothing."""
        self._password_rehashed(self.username, password_hash, actor, correlation_id)

    def rename(
        self, new_username: str, *, actor: str, correlation_id: str | None = None
    ) -> None:
        """Move the account to a normalised username already claimed for it."""
        if new_username == self.username:
            return
        self._renamed(self.username, new_username, actor, correlation_id)

    def change_role(
        self, role: str, *, actor: str, correlation_id: str | None = None
    ) -> None:
        """Give the account another role; the same role records nothing."""
        check_role(role)
        if role == self.role:
            return
        self._role_changed(self.username, self.role, role, actor, correlation_id)

    def revoke_tokens(
        self, *, at: dt.datetime, actor: str, correlation_id: str | None = None
    ) -> None:
        """Revoke every token issued before `at`: sign out everywhere."""
        self._tokens_revoked(self.username, at, actor, correlation_id, timestamp=at)

    def __repr__(self) -> str:
        return (
            f"Account(id={self.id!r}, version={self.version}, "
            f"username={self.username!r}, role={self.role!r})"
        )

    # The `timestamp` parameters below set the event's own time, so the
    # `not_before` it records is exactly when the event happened.

    @event(PasswordChanged)
    def _password_changed(
        self,
        username: str,
        password_hash: str,
        not_before: dt.datetime,
        actor: str,
        correlation_id: str | None,
        timestamp: dt.datetime,
    ) -> None:
        self.password_hash = password_hash
        self.not_before = not_before

    @event(PasswordRehashed)
    def _password_rehashed(
        self,
        username: str,
        password_hash: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.password_hash = password_hash

    @event(Renamed)
    def _renamed(
        self,
        old_username: str,
        new_username: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.username = new_username

    @event(RoleChanged)
    def _role_changed(
        self,
        username: str,
        old_role: str,
        new_role: str,
        actor: str,
        correlation_id: str | None,
    ) -> None:
        self.role = new_role

    @event(TokensRevoked)
    def _tokens_revoked(
        self,
        username: str,
        not_before: dt.datetime,
        actor: str,
        correlation_id: str | None,
        timestamp: dt.datetime,
    ) -> None:
        self.not_before = not_before


def account_id(username: str, claim_version: int = 1) -> UUID:
    """Return the id of the account registered under `username`.

    The first account to claim a name gets uuid5 of `account:<username>`. A
    later one, registered after the first renamed away, also names the claim's
    version that made it the holder, so the two never share an id.
    """
    if claim_version == 1:
        return uuid5(NAMESPACE_URL, f"account:{username}")
    return uuid5(NAMESPACE_URL, f"account:{username}:{claim_version}")
