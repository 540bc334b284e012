"""Log out one token by recording an event, so the logout survives restarts."""

from __future__ import annotations

from stonkmarket.application.commands import LogOutToken, Receipt
from stonkmarket.application.errors import ConflictError
from stonkmarket.application.event_store import EventStore
from stonkmarket.domain.token_logout import TokenLogout, token_logout_id


def log_out_token(store: EventStore, command: LogOutToken) -> Receipt:
    """Record that the token is logged out, and return the receipt.

    Logging out a token that is already logged out records nothing and returns
    position 0, because the second save conflicts on the same aggregate id.
    """
    subject = str(token_logout_id(command.token_id))
    logout = TokenLogout(
        token_id=command.token_id,
        account_id=command.account_id,
        username=command.username,
        expires_at=command.expires_at,
        actor=command.actor,
        correlation_id=command.correlation_id,
    )
    try:
        position = store.save(logout)
    except ConflictError:
        return Receipt(subject=subject, position=0)
    return Receipt(subject=subject, position=position)
