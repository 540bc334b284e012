"""The accounts view and the audit trail of account changes, on both profiles."""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from stonkmarket.application.account_queries import AccountQueries
from stonkmarket.application.accounts import (
    change_credentials,
    change_role,
    register_account,
    revoke_tokens,
)
from stonkmarket.application.audit_pages import AuditFilter
from stonkmarket.application.authentication import authenticate
from stonkmarket.application.commands import (
    AccountReceipt,
    ChangeCredentials,
    ChangeRole,
    RegisterAccount,
    RevokeTokens,
)
from stonkmarket.application.errors import NotFoundError
from stonkmarket.domain.account import Account, account_id
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher
from stonkmarket.infrastructure.read_models import SqlReadModels
from stonkmarket.infrastructure.tables import VIEW_TABLES
from stonkmarket.interfaces.bootstrap import Container, build

HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "tulip canal morning"
NEW_PASSWORD = "harbour lantern quietly"
PASSWORD_CHANGED_AT = dt.datetime(2026, 3, 9, 14, 30, 5, 250_000, tzinfo=dt.UTC)
REVOKED_AT = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


async def account_history(container: Container) -> dict[str, AccountReceipt]:
    """Register, promote, rename with a new password, sign out, and take a name."""
    run = container.execute
    register = partial(register_account, hasher=HASHER)
    receipts = {
        "root": await run(
            register,
            RegisterAccount(
                username="root", password=PASSWORD, role="admin", actor="system:start"
            ),
        ),
        "alice": await run(
            register,
            RegisterAccount(
                username="alice", password=PASSWORD, actor="alice", correlation_id="r1"
            ),
        ),
    }
    await run(change_role, ChangeRole(username="alice", role="admin", actor="root"))
    receipts["alicia"] = await run(
        partial(change_credentials, hasher=HASHER, now=lambda: PASSWORD_CHANGED_AT),
        ChangeCredentials(
            username="alice",
            current_password=PASSWORD,
            new_username="alicia",
            new_password=NEW_PASSWORD,
            actor="alice",
            correlation_id="r2",
        ),
    )
    await run(
        partial(revoke_tokens, now=lambda: REVOKED_AT),
        RevokeTokens(username="root", actor="root"),
    )
    receipts["new alice"] = await run(
        register, RegisterAccount(username="alice", password=PASSWORD, actor="alice")
    )
    return receipts


def run_history(
    container: Container,
) -> tuple[dict[str, AccountReceipt], list[Any], list[Any]]:
    async def history() -> tuple[dict[str, AccountReceipt], list[Any], list[Any]]:
        await container.start()
        receipts = await account_history(container)
        queries = AccountQueries(SqlReadModels(container.engine))
        accounts = await queries.accounts()
        page = await container.queries.audit(AuditFilter(), limit=50)
        await container.close()
        return receipts, accounts, page.entries

    return asyncio.run(history())


@pytest.fixture
def container(config: Config) -> Container:
    return build(config)


def test_accounts_view_follows_the_changes(container: Container) -> None:
    receipts, accounts, _ = run_history(container)

    rows = [
        (a.account_id, a.username, a.role, a.not_before, a.registered_at)
        for a in accounts
    ]
    assert rows == [
        (
            account_id("alice", claim_version=3),
            "alice",
            "viewer",
            None,
            receipts["new alice"].account.registered_at,
        ),
        (
            account_id("alice"),
            "alicia",
            "admin",
            PASSWORD_CHANGED_AT,
            receipts["alice"].account.registered_at,
        ),
        (
            account_id("root"),
            "root",
            "admin",
            REVOKED_AT,
            receipts["root"].account.registered_at,
        ),
    ]
    assert accounts[1] == receipts["alicia"].account


def test_audit_rows_of_account_changes(container: Container) -> None:
    _, _, entries = run_history(container)

    rows = [
        (e.actor, e.subject, e.action, e.before, e.after, e.correlation_id)
        for e in reversed(entries)
    ]

    changed_at = PASSWORD_CHANGED_AT.isoformat()
    assert rows == [
        (
            "system:start",
            "account:root",
            "account_registered",
            None,
            {"username": "root", "role": "admin"},
            None,
        ),
        (
            "alice",
            "account:alice",
            "account_registered",
            None,
            {"username": "alice", "role": "viewer"},
            "r1",
        ),
        (
            "root",
            "account:alice",
            "role_changed",
            {"role": "viewer"},
            {"role": "admin"},
            None,
        ),
        (
            "alice",
            "account:alicia",
            "username_changed",
            {"username": "alice"},
            {"username": "alicia"},
            "r2",
        ),
        (
            "alice",
            "account:alicia",
            "password_changed",
            None,
            {"not_before": changed_at},
            "r2",
        ),
        (
            "root",
            "account:root",
            "tokens_revoked",
            None,
            {"not_before": "2026-03-10T09:00:00+00:00"},
            None,
        ),
        (
            "alice",
            "account:alice",
            "account_registered",
            None,
            {"username": "alice", "role": "viewer"},
            None,
        ),
    ]


def test_no_view_row_holds_a_password_hash(container: Container) -> None:
    async def every_view_row() -> list[str]:
        await container.start()
        await account_history(container)
        async with container.engine.connect() as conn:
            rows = [
                repr(tuple(row))
                for table in VIEW_TABLES
                for row in await conn.execute(select(table))
            ]
        await container.close()
        return rows

    rows = asyncio.run(every_view_row())

    assert len(rows) >= 10
    assert [row for row in rows if "argon2" in row] == []


def test_account_query_by_current_name_only(container: Container) -> None:
    async def by_names() -> tuple[Any, Any, Any]:
        await container.start()
        register = partial(register_account, hasher=HASHER)
        await container.execute(
            register, RegisterAccount(username="bob", password=PASSWORD)
        )
        await container.execute(
            partial(change_credentials, hasher=HASHER),
            ChangeCredentials(
                username="bob", current_password=PASSWORD, new_username="robert"
            ),
        )
        queries = AccountQueries(SqlReadModels(container.engine))
        renamed = await queries.account(" Robert ")
        by_id = await queries.account_by_id(account_id("bob"))
        try:
            await queries.account("bob")
            old_name: Exception | None = None
        except NotFoundError as exc:
            old_name = exc
        await container.close()
        return renamed, by_id, old_name

    renamed, by_id, old_name = asyncio.run(by_names())

    assert renamed.username == "robert"
    assert by_id == renamed
    assert isinstance(old_name, NotFoundError)
    assert old_name.message == "no account is named bob"


def test_sign_in_returns_what_view_shows(container: Container) -> None:
    async def signed_in_and_viewed() -> tuple[Any, Any]:
        await container.start()
        await account_history(container)
        signed_in = await asyncio.to_thread(
            authenticate, container.store, HASHER, "alicia", NEW_PASSWORD
        )
        viewed = await AccountQueries(SqlReadModels(container.engine)).account("alicia")
        await container.close()
        return signed_in, viewed

    signed_in, viewed = asyncio.run(signed_in_and_viewed())

    assert signed_in == viewed


def test_rehash_is_not_audited(container: Container) -> None:
    async def rehashed() -> tuple[Any, Any, list[Any], list[str]]:
        await container.start()
        await account_history(container)
        head = container.store.head()
        stronger = Argon2PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
        signed_in = await asyncio.to_thread(
            authenticate, container.store, stronger, "root", PASSWORD
        )
        await container.runner.catch_up()
        added = [e for _, e in container.store.events_after(head, limit=10)]
        viewed = await AccountQueries(SqlReadModels(container.engine)).account("root")
        page = await container.queries.audit(AuditFilter(subject="account:root"))
        await container.close()
        return signed_in, viewed, added, [e.action for e in page.entries]

    signed_in, viewed, added, actions = asyncio.run(rehashed())

    assert [type(e) for e in added] == [Account.PasswordRehashed]
    assert viewed.updated_at == added[0].timestamp
    assert viewed.not_before == REVOKED_AT
    assert signed_in == viewed
    assert actions == ["tokens_revoked", "account_registered"]
