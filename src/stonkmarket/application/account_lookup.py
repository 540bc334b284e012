"""Account lookups in the event store: by username, by password check, and as a view."""

from __future__ import annotations

from stonkmarket.application.errors import NotFoundError
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.ports import PasswordHasher
from stonkmarket.application.views import AccountView
from stonkmarket.domain.account import Account
from stonkmarket.domain.credentials import normalise_username
from stonkmarket.domain.errors import InvalidUsernameError
from stonkmarket.domain.username_claim import UsernameClaim, username_claim_id


def find_account(store: EventStore, username: str) -> Account | None:
    """Return the account currently named `username` (normalised), or None."""
    claim = store.get(username_claim_id(username), UsernameClaim)
    if claim is None or claim.holder is None:
        return None
    return store.get(claim.holder, Account)


def verified_account(
    store: EventStore, hasher: PasswordHasher, raw_username: str, password: str
) -> Account | None:
    """Return the account named `raw_username` when `password` matches, else None.

    An unknown or malformed username is verified against the dummy hash, so it
    costs one hash verification and about as long as a wrong password does.
    """
    try:
        account = find_account(store, normalise_username(raw_username))
    except InvalidUsernameError:
        account = None
    password_hash = hasher.dummy_hash if account is None else account.password_hash
    matches = hasher.verify(password_hash, password)
    return account if matches else None


def account_view(account: Account) -> AccountView:
    return AccountView(
        account_id=account.id,
        username=account.username,
        role=account.role,
        not_before=account.not_before,
        registered_at=account.created_on,
        updated_at=account.modified_on,
    )


def existing_account(store: EventStore, raw_username: str) -> Account:
    """Return the account currently named `raw_username`, or raise NotFoundError."""
    username = normalise_username(raw_username)
    account = find_account(store, username)
    if account is None:
        raise NotFoundError(f"no account is named {username}", field="username")
    return account
