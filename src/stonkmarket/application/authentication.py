"""Signing in with a username and password, and the first admin account."""

from __future__ import annotations

import contextlib

from stonkmarket.application.account_lookup import account_view, verified_account
from stonkmarket.application.accounts import register_account
from stonkmarket.application.commands import RegisterAccount
from stonkmarket.application.errors import ConflictError
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.ports import PasswordHasher
from stonkmarket.application.views import AccountView
from stonkmarket.domain.account import Account

FIRST_ADMIN_ACTOR = "system:first-admin"


def authenticate(
    store: EventStore,
    hasher: PasswordHasher,
    username: str,
    password: str,
    *,
    correlation_id: str | None = None,
) -> AccountView | None:
    """Return the account when the password matches; None for any failure.

    An unknown username and a wrong password both run one verify and return
    None, so neither the result nor the time distinguishes them. A hash made
    with older parameters is replaced by one made with the current ones.
    """
    account = verified_account(store, hasher, username, password)
    if account is None:
        return None
    if hasher.needs_rehash(account.password_hash):
        account.rehash_password(
            hasher.hash(password),
            actor=account.username,
            correlation_id=correlation_id,
        )
        # Another change to the account was saved first. The sign-in still
        # succeeds, and the next one rehashes.
        with contextlib.suppress(ConflictError):
            store.save(account)
    return account_view(account)


def ensure_first_admin(
    store: EventStore, hasher: PasswordHasher, username: str, password: str
) -> bool:
    """Register `username` as an admin when no account exists; return True if so.

    Runs at every start: once any account exists it changes nothing, so a
    restart never resets an admin's password. Two processes starting at once
    with the same username collide on the account's id, and the later one
    returns False.
    """
    if store.has_event(Account.Registered):
        return False
    command = RegisterAccount(
        username=username, password=password, role="admin", actor=FIRST_ADMIN_ACTOR
    )
    try:
        register_account(store, command, hasher=hasher)
    except ConflictError:
        return False
    return True
