"""Commands: the changes a user or a job requests."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec

from stonkmarket.application.views import AccountView, SymbolView
from stonkmarket.domain.prices import PriceBatch


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """The actor behind a command, and its request or job run."""

    actor: str = "anonymous"
    correlation_id: str | None = None


class AddSymbol(Command, frozen=True, kw_only=True):
    ticker: str
    min_dip_pct: float | None = None
    min_days: int | None = None


class UpdateSymbol(Command, frozen=True, kw_only=True):
    ticker: str
    min_dip_pct: float | None = None
    min_days: int | None = None


class RemoveSymbol(Command, frozen=True, kw_only=True):
    ticker: str


class RecordPrices(Command, frozen=True, kw_only=True):
    batch: PriceBatch
    reason: str | None = None


class ChangeSettings(Command, frozen=True, kw_only=True):
    """Change some knobs; `expected_version`, when given, must be the current one."""

    changes: dict[str, Any]
    expected_version: int | None = None


class RecordFundamentals(Command, frozen=True, kw_only=True):
    """Record what a source reported about a company on `as_of`.

    `info` is shaped like yfinance's `Ticker.info`; `statements` maps statement
    line names (such as "Free Cash Flow") to their latest annual values.
    """

    ticker: str
    as_of: dt.date
    source: str
    info: dict[str, Any]
    statements: dict[str, Any] | None = None


class CredentialsCommand(Command, frozen=True, kw_only=True):
    """A command that carries passwords in plaintext; its repr masks them."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__name__}({fields})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        fields = []
        for name in self.__struct_fields__:
            value = getattr(self, name)
            masked = "password" in name and value is not None
            fields.append((name, "***" if masked else value))
        return fields


class RegisterAccount(CredentialsCommand, frozen=True, kw_only=True):
    username: str
    password: str
    role: str = "viewer"


class ChangeCredentials(CredentialsCommand, frozen=True, kw_only=True):
    """Change the username, the password or both; needs the current password."""

    username: str
    current_password: str
    new_username: str | None = None
    new_password: str | None = None


class ChangeRole(Command, frozen=True, kw_only=True):
    username: str
    role: str


class LogOutToken(Command, frozen=True, kw_only=True):
    """Refuse one token from now until it expires."""

    token_id: str
    account_id: UUID
    username: str
    expires_at: dt.datetime


class RevokeTokens(Command, frozen=True, kw_only=True):
    """Sign an account out everywhere: revoke every token issued until now."""

    username: str


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What a handler returns: the subject and the position of its last event.

    `position` is 0 when the command changed nothing, so no reader needs to wait
    for the read models.
    """

    subject: str
    position: int


class SymbolReceipt(Receipt, frozen=True, kw_only=True):
    """A receipt with the symbol as this command left it."""

    symbol: SymbolView


class AccountReceipt(Receipt, frozen=True, kw_only=True):
    """A receipt with the account as this command left it."""

    account: AccountView
