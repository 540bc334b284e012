"""The accounts view: each account's username, role and token `not_before`,
and the tokens logged out before they expired."""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.domain import Aggregate

from stonkmarket.application.view_changes import ViewChanges
from stonkmarket.application.views import AccountView
from stonkmarket.domain.account import Account
from stonkmarket.domain.token_logout import TokenLogout

ACCOUNT_EVENTS = (
    Account.Registered,
    Account.PasswordChanged,
    Account.PasswordRehashed,
    Account.Renamed,
    Account.RoleChanged,
    Account.TokensRevoked,
)


class AccountsProjection:
    """One row per account, by id; password hashes never reach it.

    Every account event moves `updated_at`, so the row's times match the
    aggregate's `created_on` and `modified_on`.
    """

    name = "accounts"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, TokenLogout.LoggedOut):
            await views.put_revoked_token(
                event.token_id, event.account_id, event.expires_at, event.timestamp
            )
            return
        if not isinstance(event, ACCOUNT_EVENTS):
            return
        if isinstance(event, Account.Registered):
            await views.put_account(
                AccountView(
                    account_id=event.originator_id,
                    username=event.username,
                    role=event.role,
                    not_before=None,
                    registered_at=event.timestamp,
                    updated_at=event.timestamp,
                )
            )
            return
        known = await views.account_by_id(event.originator_id)
        if known is None:
            raise ValueError(f"account {event.originator_id} has no row to change")
        changed = msgspec.structs.replace(
            known, **_changes(event), updated_at=event.timestamp
        )
        await views.put_account(changed)


def _changes(event: Aggregate.Event) -> dict[str, Any]:
    """Return the view fields that an event after registration changes."""
    if isinstance(event, Account.PasswordChanged | Account.TokensRevoked):
        return {"not_before": event.not_before}
    if isinstance(event, Account.Renamed):
        return {"username": event.new_username}
    if isinstance(event, Account.RoleChanged):
        return {"role": event.new_role}
    return {}
