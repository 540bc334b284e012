"""Two requests on one account or one username at once: one wins, one gets 409.

Each request runs in its own thread on its own store, as two API processes
would, against a real SQLite file and a real PostgreSQL database. A barrier
in `save` lets both load the same version before either appends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from stonkmarket.application.account_lookup import find_account
from stonkmarket.application.accounts import (
    change_credentials,
    change_role,
    register_account,
)
from stonkmarket.application.authentication import authenticate, ensure_first_admin
from stonkmarket.application.commands import (
    ChangeCredentials,
    ChangeRole,
    RegisterAccount,
)
from stonkmarket.application.errors import ConflictError
from stonkmarket.domain.account import Account, account_id
from stonkmarket.domain.admin_roster import ADMIN_ROSTER_ID, AdminRoster
from stonkmarket.infrastructure.event_store import (
    EventsourcingStore,
    open_postgres_store,
    postgres_env,
    sqlite_env,
)
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher

HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "tulip canal morning"
RIVAL_PASSWORDS = ("harbour lantern quietly", "orchard violin sideways")
WAIT_SECONDS = 30.0

ADMINS_CHANGED = (
    "the admins were changed by another request first; nothing was saved, "
    "reload the accounts and try again"
)

register = partial(register_account, hasher=HASHER)


class BarrierStore(EventsourcingStore):
    """Waits for its rival at the barrier before it saves."""

    def __init__(self, env: Mapping[str, str], barrier: threading.Barrier) -> None:
        super().__init__(env)
        self.barrier = barrier

    def save(self, *aggregates: Aggregate) -> int:
        self.barrier.wait(timeout=WAIT_SECONDS)
        return super().save(*aggregates)


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Event store settings of a new, empty store on each backend."""
    if request.param == "sqlite":
        return sqlite_env(str(tmp_path / "events.sqlite"))
    url: str = request.getfixturevalue("postgres_url")
    # Creates the schema and tables once, before the rivals open the store.
    open_postgres_store(url, pool_size=1).close()
    return postgres_env(url, pool_size=2)


@pytest.fixture
def setup_store(store_env: dict[str, str]) -> Iterator[EventsourcingStore]:
    """A plain store for arranging and checking, beside the rivals."""
    store = EventsourcingStore(store_env)
    yield store
    store.close()


@pytest.fixture
def rivals(store_env: dict[str, str]) -> Iterator[list[BarrierStore]]:
    barrier = threading.Barrier(2)
    stores = [BarrierStore(store_env, barrier) for _ in range(2)]
    yield stores
    for store in stores:
        store.close()


def race(
    rivals: list[BarrierStore], request: Callable[[int, EventsourcingStore], Any]
) -> tuple[list[Any], list[ConflictError]]:
    """Run `request(i, store)` on both rivals at once; return wins and conflicts."""
    outcomes: list[Any] = [None, None]

    def run(i: int) -> None:
        try:
            outcomes[i] = request(i, rivals[i])
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT_SECONDS)
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    unexpected = [o for o in outcomes if isinstance(o, Exception)]
    assert len(unexpected) == len(conflicts), unexpected
    return wins, conflicts


def test_one_of_two_registrations_wins(
    rivals: list[BarrierStore], setup_store: EventsourcingStore
) -> None:
    def sign_up(i: int, store: EventsourcingStore) -> int:
        command = RegisterAccount(username="carol", password=RIVAL_PASSWORDS[i])
        register(store, command)
        return i

    wins, conflicts = race(rivals, sign_up)

    assert len(wins) == 1
    assert [c.message for c in conflicts] == [
        "username carol is already taken; choose another"
    ]
    assert setup_store.head() == 2
    winner, loser = RIVAL_PASSWORDS[wins[0]], RIVAL_PASSWORDS[1 - wins[0]]
    assert authenticate(setup_store, HASHER, "carol", winner) is not None
    assert authenticate(setup_store, HASHER, "carol", loser) is None


def test_one_of_two_password_changes_wins(
    rivals: list[BarrierStore], setup_store: EventsourcingStore
) -> None:
    register(setup_store, RegisterAccount(username="alice", password=PASSWORD))

    def change_password(i: int, store: EventsourcingStore) -> int:
        command = ChangeCredentials(
            username="alice",
            current_password=PASSWORD,
            new_password=RIVAL_PASSWORDS[i],
        )
        change_credentials(store, command, hasher=HASHER)
        return i

    wins, conflicts = race(rivals, change_password)

    assert len(wins) == 1
    assert [c.message for c in conflicts] == [
        "account alice was changed by another request first; nothing was saved, "
        "reload it and try again"
    ]
    account = find_account(setup_store, "alice")
    assert account is not None
    assert account.version == 2
    assert HASHER.verify(account.password_hash, RIVAL_PASSWORDS[wins[0]])
    assert not HASHER.verify(account.password_hash, RIVAL_PASSWORDS[1 - wins[0]])


def test_one_of_two_renames_to_one_name_wins(
    rivals: list[BarrierStore], setup_store: EventsourcingStore
) -> None:
    for username in ("alice", "bob"):
        register(setup_store, RegisterAccount(username=username, password=PASSWORD))

    def rename(i: int, store: EventsourcingStore) -> str:
        username = ("alice", "bob")[i]
        command = ChangeCredentials(
            username=username, current_password=PASSWORD, new_username="carol"
        )
        change_credentials(store, command, hasher=HASHER)
        return username

    wins, conflicts = race(rivals, rename)

    assert len(wins) == 1
    assert [(c.message, c.field) for c in conflicts] == [
        ("username carol is already taken; choose another", "new_username")
    ]
    [loser] = {"alice", "bob"} - set(wins)
    carol = find_account(setup_store, "carol")
    loser_account = find_account(setup_store, loser)
    assert carol is not None
    assert loser_account is not None
    assert carol.id != loser_account.id
    assert find_account(setup_store, wins[0]) is None


def test_one_of_two_first_admins_is_created(
    rivals: list[BarrierStore], setup_store: EventsourcingStore
) -> None:
    def start(i: int, store: EventsourcingStore) -> bool:
        return ensure_first_admin(store, HASHER, "root", RIVAL_PASSWORDS[i])

    created, conflicts = race(rivals, start)

    assert sorted(created) == [False, True]
    assert conflicts == []
    registered = [
        e
        for _, e in setup_store.events_after(0, limit=10)
        if isinstance(e, Account.Registered)
    ]
    assert len(registered) == 1
    assert registered[0].role == "admin"


def test_one_of_two_admins_demoting_each_other_wins(
    rivals: list[BarrierStore], setup_store: EventsourcingStore
) -> None:
    for username in ("alice", "bob"):
        command = RegisterAccount(username=username, password=PASSWORD, role="admin")
        register(setup_store, command)

    def demote_other(i: int, store: EventsourcingStore) -> str:
        actor, other = ("alice", "bob") if i == 0 else ("bob", "alice")
        change_role(store, ChangeRole(username=other, role="viewer", actor=actor))
        return actor

    wins, conflicts = race(rivals, demote_other)

    assert len(wins) == 1
    assert [(c.message, c.field) for c in conflicts] == [(ADMINS_CHANGED, "role")]
    [loser] = {"alice", "bob"} - set(wins)
    roster = setup_store.get(ADMIN_ROSTER_ID, AdminRoster)
    assert roster is not None
    assert roster.admins == {account_id(wins[0])}
    winner_account = find_account(setup_store, wins[0])
    loser_account = find_account(setup_store, loser)
    assert winner_account is not None
    assert loser_account is not None
    assert winner_account.role == "admin"
    assert loser_account.role == "viewer"


def test_one_of_two_new_admins_is_registered(
    rivals: list[BarrierStore], setup_store: EventsourcingStore
) -> None:
    root = RegisterAccount(username="root", password=PASSWORD, role="admin")
    register(setup_store, root)

    def sign_up_admin(i: int, store: EventsourcingStore) -> str:
        username = ("alice", "bob")[i]
        command = RegisterAccount(
            username=username, password=RIVAL_PASSWORDS[i], role="admin"
        )
        register(store, command)
        return username

    wins, conflicts = race(rivals, sign_up_admin)

    assert len(wins) == 1
    assert [(c.message, c.field) for c in conflicts] == [(ADMINS_CHANGED, "role")]
    [loser] = {"alice", "bob"} - set(wins)
    assert find_account(setup_store, loser) is None
    roster = setup_store.get(ADMIN_ROSTER_ID, AdminRoster)
    assert roster is not None
    assert roster.admins == {account_id("root"), account_id(wins[0])}
