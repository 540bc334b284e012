"""Account command handlers: register, change credentials or role, revoke tokens.

A username is held through its UsernameClaim, whose id is derived from the
name: registering or renaming saves the account and the claims it takes and
frees in one atomic append, so two requests for one name end with one winner.

The AdminRoster lists the admin accounts. Each change that makes or unmakes
an admin saves the roster in the same append as the account, so two requests
based on one version of the roster end with one winner, and an admin remains.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from uuid import UUID

from stonkmarket.application.account_lookup import (
    account_view,
    existing_account,
    verified_account,
)
from stonkmarket.application.commands import (
    AccountReceipt,
    ChangeCredentials,
    ChangeRole,
    Command,
    RegisterAccount,
    RevokeTokens,
)
from stonkmarket.application.errors import (
    ConflictError,
    NotFoundError,
    OwnRoleChangeError,
    WrongPasswordError,
)
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.ports import PasswordHasher
from stonkmarket.domain.account import ADMIN, Account, check_role
from stonkmarket.domain.admin_roster import ADMIN_ROSTER_ID, AdminRoster
from stonkmarket.domain.credentials import (
    check_not_username,
    check_password,
    normalise_username,
)
from stonkmarket.domain.errors import WeakPasswordError
from stonkmarket.domain.username_claim import UsernameClaim, username_claim_id

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def register_account(
    store: EventStore, command: RegisterAccount, *, hasher: PasswordHasher
) -> AccountReceipt:
    """Open an account under a free username with a password that meets the rules."""
    username = normalise_username(command.username)
    check_role(command.role)
    check_password(command.password, username)
    claim = store.get(username_claim_id(username), UsernameClaim)
    if claim is not None and claim.holder is not None:
        raise _taken(username, field="username")

    account = Account.register(
        username,
        role=command.role,
        password_hash=hasher.hash(command.password),
        claim_version=1 if claim is None else claim.version + 1,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    claim = _claim(claim, username, account.id, command)
    rosters = _rosters_with_new_admin(store, account, command)
    try:
        position = store.save(account, claim, *rosters)
    except ConflictError as exc:
        raise _registration_conflict(store, account) from exc
    return _receipt(account, position)


def change_credentials(
    store: EventStore,
    command: ChangeCredentials,
    *,
    hasher: PasswordHasher,
    now: Clock = utc_now,
) -> AccountReceipt:
    """Change the username, the password or both, once the current password matches.

    A new password revokes every token issued before it. A renamed account
    keeps its id and history, and its old username is free for anyone.
    """
    account = verified_account(
        store, hasher, command.username, command.current_password
    )
    if account is None:
        raise WrongPasswordError(
            "the username or the current password is wrong; nothing was changed",
            field="current_password",
        )
    old_username = account.username
    new_username = _new_username(account, command)
    _check_credentials(command, new_username or old_username)

    claims = (
        [] if new_username is None else _rename(store, account, new_username, command)
    )
    if command.new_password is not None:
        new_hash = hasher.hash(command.new_password)
        # NOTE: a sign-in that read the old hash just before this save still
        # gets a token issued after `not_before`. Reading the clock after the
        # slow hash keeps that window to about one verify.
        account.change_password(
            new_hash,
            at=now(),
            actor=command.actor,
            correlation_id=command.correlation_id,
        )
    if not account.pending_events:
        return _receipt(account, 0)
    try:
        position = store.save(account, *claims)
    except ConflictError as exc:
        raise _credentials_conflict(
            store, account.id, old_username, new_username
        ) from exc
    return _receipt(account, position)


def change_role(store: EventStore, command: ChangeRole) -> AccountReceipt:
    """Give an account another role; no account may change its own.

    Raises LastAdminError when no other admin would remain on the roster.
    """
    check_role(command.role)
    account = existing_account(store, command.username)
    if account.username == command.actor and command.role != account.role:
        raise OwnRoleChangeError(
            f"{account.username} cannot change its own role, so the last admin "
            "cannot lock everyone out; ask another admin",
            field="username",
        )
    if command.role == account.role:
        return _receipt(account, 0)

    roster = _admin_roster(store)
    loaded_version = roster.version - len(roster.pending_events)
    _update_roster(roster, account, command)
    account.change_role(
        command.role, actor=command.actor, correlation_id=command.correlation_id
    )
    try:
        position = store.save(account, roster)
    except ConflictError as exc:
        raise _role_conflict(store, account.username, loaded_version) from exc
    return _receipt(account, position)


def revoke_tokens(
    store: EventStore, command: RevokeTokens, *, now: Clock = utc_now
) -> AccountReceipt:
    """Revoke every token of an account issued until now: sign out everywhere."""
    account = existing_account(store, command.username)
    account.revoke_tokens(
        at=now(), actor=command.actor, correlation_id=command.correlation_id
    )
    return _save(store, account)


def _new_username(account: Account, command: ChangeCredentials) -> str | None:
    """Return the normalised new username, or None when it is not changing."""
    if command.new_username is None:
        return None
    new_username = normalise_username(command.new_username, field="new_username")
    return None if new_username == account.username else new_username


def _check_credentials(command: ChangeCredentials, final_username: str) -> None:
    """Raise WeakPasswordError when the password in force would break a rule."""
    if command.new_password is None:
        check_not_username(
            command.current_password, final_username, field="new_username"
        )
        return
    check_password(command.new_password, final_username, field="new_password")
    if command.new_password == command.current_password:
        raise WeakPasswordError(
            "new_password is the current password; choose a different one",
            field="new_password",
        )


def _rename(
    store: EventStore, account: Account, new_username: str, command: Command
) -> list[UsernameClaim]:
    """Claim `new_username` for the account and free its old one."""
    new_claim = store.get(username_claim_id(new_username), UsernameClaim)
    if new_claim is not None and new_claim.holder is not None:
        raise _taken(new_username, field="new_username")
    old_claim = store.get(username_claim_id(account.username), UsernameClaim)
    if old_claim is None:
        raise NotFoundError(
            f"username {account.username} has no claim; the event store is "
            "missing events",
            field="username",
        )
    new_claim = _claim(new_claim, new_username, account.id, command)
    old_claim.release(
        account.id, actor=command.actor, correlation_id=command.correlation_id
    )
    account.rename(
        new_username, actor=command.actor, correlation_id=command.correlation_id
    )
    return [new_claim, old_claim]


def _claim(
    claim: UsernameClaim | None, username: str, holder: UUID, command: Command
) -> UsernameClaim:
    """Return `username`'s claim, new or released before, now held by `holder`."""
    if claim is None:
        return UsernameClaim(username, holder, command.actor, command.correlation_id)
    claim.reclaim(holder, actor=command.actor, correlation_id=command.correlation_id)
    return claim


def _admin_roster(store: EventStore) -> AdminRoster:
    """Return the stored admin roster, or a new, empty one when none is stored."""
    roster = store.get(ADMIN_ROSTER_ID, AdminRoster)
    return AdminRoster() if roster is None else roster


def _rosters_with_new_admin(
    store: EventStore, account: Account, command: Command
) -> list[AdminRoster]:
    """Return the admin roster with a new admin `account` added; none for a viewer."""
    if account.role != ADMIN:
        return []
    roster = _admin_roster(store)
    roster.add(
        account.id,
        account.username,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    return [roster]


def _update_roster(roster: AdminRoster, account: Account, command: ChangeRole) -> None:
    """Add the account to the roster when it becomes an admin, otherwise remove it."""
    update = roster.add if command.role == ADMIN else roster.remove
    update(
        account.id,
        account.username,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )


def _save(store: EventStore, account: Account) -> AccountReceipt:
    try:
        position = store.save(account)
    except ConflictError as exc:
        raise _changed_first(account.username) from exc
    return _receipt(account, position)


def _receipt(account: Account, position: int) -> AccountReceipt:
    return AccountReceipt(
        subject=account.username, position=position, account=account_view(account)
    )


def _credentials_conflict(
    store: EventStore, account_id: UUID, username: str, new_username: str | None
) -> ConflictError:
    """Return why a save conflicted: the new name was taken, or the account changed."""
    if new_username is not None:
        claim = store.get(username_claim_id(new_username), UsernameClaim)
        if claim is not None and claim.holder not in (None, account_id):
            return _taken(new_username, field="new_username")
    return _changed_first(username)


def _registration_conflict(store: EventStore, account: Account) -> ConflictError:
    """Return why a registration conflicted: the name was taken, or the admins changed.

    Only a new admin also appends to the roster, so only its conflict can leave
    the username free.
    """
    claim = store.get(username_claim_id(account.username), UsernameClaim)
    name_free = claim is None or claim.holder is None
    if account.role == ADMIN and name_free:
        return _admins_changed_first()
    return _taken(account.username, field="username")


def _role_conflict(
    store: EventStore, username: str, roster_version: int
) -> ConflictError:
    """Return why a role change conflicted: the roster or the account changed first."""
    roster = store.get(ADMIN_ROSTER_ID, AdminRoster)
    if roster is not None and roster.version > roster_version:
        return _admins_changed_first()
    return _changed_first(username)


def _taken(username: str, *, field: str) -> ConflictError:
    return ConflictError(
        f"username {username} is already taken; choose another", field=field
    )


def _changed_first(username: str) -> ConflictError:
    return ConflictError(
        f"account {username} was changed by another request first; nothing was "
        "saved, reload it and try again",
        field="username",
    )


def _admins_changed_first() -> ConflictError:
    return ConflictError(
        "the admins were changed by another request first; nothing was saved, "
        "reload the accounts and try again",
        field="role",
    )
