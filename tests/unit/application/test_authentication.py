from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

from stonkmarket.application.account_lookup import find_account
from stonkmarket.application.accounts import change_credentials, register_account
from stonkmarket.application.authentication import authenticate, ensure_first_admin
from stonkmarket.application.commands import ChangeCredentials, RegisterAccount
from stonkmarket.domain.account import Account, account_id
from stonkmarket.domain.admin_roster import AdminRoster
from stonkmarket.domain.errors import WeakPasswordError
from stonkmarket.infrastructure.event_store import (
    EventsourcingStore,
    in_memory_env,
    sqlite_env,
)
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher

PASSWORD = "tulip canal morning"
OTHER_PASSWORD = "harbour lantern quietly"


class CountingHasher(Argon2PasswordHasher):
    """The real hasher, with cheap parameters, noting every hash it verifies."""

    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1)
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return super().verify(password_hash, password)


class StaleCheckStore(EventsourcingStore):
    """Says no account exists, as a process that checked just before another saved."""

    def has_event(self, kind: type[Aggregate.Event]) -> bool:
        return False


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


def sign_up(store: EventsourcingStore, hasher: CountingHasher) -> None:
    command = RegisterAccount(username="alice", password=PASSWORD, role="admin")
    register_account(store, command, hasher=hasher)


def test_right_password_returns_account(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    sign_up(store, hasher)

    account = authenticate(store, hasher, " Alice ", PASSWORD)

    assert account is not None
    assert account.account_id == account_id("alice")
    assert (account.username, account.role) == ("alice", "admin")
    assert len(hasher.verified) == 1


def test_wrong_password_runs_one_verify(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    sign_up(store, hasher)
    stored = find_account(store, "alice")
    assert stored is not None

    account = authenticate(store, hasher, "alice", OTHER_PASSWORD)

    assert account is None
    assert hasher.verified == [stored.password_hash]


@pytest.mark.parametrize("username", ["bob", "x", "ålice", ""])
def test_unknown_username_runs_one_verify_of_dummy(
    store: EventsourcingStore, hasher: CountingHasher, username: str
) -> None:
    sign_up(store, hasher)

    account = authenticate(store, hasher, username, PASSWORD)

    assert account is None
    assert hasher.verified == [hasher.dummy_hash]


def test_dummy_hash_costs_as_much_as_real_hash(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    sign_up(store, hasher)
    stored = find_account(store, "alice")
    assert stored is not None

    def parameters(password_hash: str) -> str:
        return password_hash.split("$")[3]

    assert parameters(hasher.dummy_hash) == parameters(stored.password_hash)
    assert parameters(hasher.dummy_hash) == "m=8,t=1,p=1"


def test_old_username_fails_after_rename(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    sign_up(store, hasher)
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_username="alicia"
    )
    change_credentials(store, command, hasher=hasher)

    old_name = authenticate(store, hasher, "alice", PASSWORD)
    new_name = authenticate(store, hasher, "alicia", PASSWORD)

    assert old_name is None
    assert new_name is not None
    assert new_name.account_id == account_id("alice")


def test_outdated_hash_is_rehashed_on_sign_in(store: EventsourcingStore) -> None:
    sign_up(store, CountingHasher(time_cost=1))
    stronger = CountingHasher(time_cost=2)

    account = authenticate(store, stronger, "alice", PASSWORD, correlation_id="req-9")

    assert account is not None
    assert account.not_before is None
    stored = find_account(store, "alice")
    assert stored is not None
    assert stored.version == 2
    assert stored.password_hash.startswith("$argon2id$v=19$m=8,t=2,p=1$")
    assert stronger.verify(stored.password_hash, PASSWORD)
    [(_, event)] = store.events_after(4, limit=10)
    assert isinstance(event, Account.PasswordRehashed)
    assert (event.actor, event.correlation_id) == ("alice", "req-9")


def test_current_hash_is_not_rehashed(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    sign_up(store, hasher)

    authenticate(store, hasher, "alice", PASSWORD)

    assert store.head() == 4


def test_wrong_password_never_rehashes(store: EventsourcingStore) -> None:
    sign_up(store, CountingHasher(time_cost=1))

    account = authenticate(store, CountingHasher(time_cost=2), "alice", OTHER_PASSWORD)

    assert account is None
    assert store.head() == 4


def test_first_admin_is_created_on_empty_store(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    created = ensure_first_admin(store, hasher, "Root", PASSWORD)

    assert created is True
    account = find_account(store, "root")
    assert account is not None
    assert account.role == "admin"
    [(_, registered), _claimed, _started, (_, listed)] = store.events_after(0, limit=10)
    assert isinstance(registered, Account.Registered)
    assert registered.actor == "system:first-admin"
    assert isinstance(listed, AdminRoster.AdminAdded)
    assert (listed.account_id, listed.username) == (account_id("root"), "root")
    assert listed.actor == "system:first-admin"


def test_restart_never_resets_admin_password(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    ensure_first_admin(store, hasher, "root", PASSWORD)

    created = ensure_first_admin(store, hasher, "root", OTHER_PASSWORD)

    assert created is False
    assert store.head() == 4
    assert authenticate(store, hasher, "root", PASSWORD) is not None
    assert authenticate(store, hasher, "root", OTHER_PASSWORD) is None


def test_no_first_admin_once_any_account_exists(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    register_account(
        store, RegisterAccount(username="alice", password=PASSWORD), hasher=hasher
    )

    created = ensure_first_admin(store, hasher, "root", OTHER_PASSWORD)

    assert created is False
    assert find_account(store, "root") is None


def test_first_admin_race_loser_returns_false(
    tmp_path: Path, hasher: CountingHasher
) -> None:
    events = str(tmp_path / "events.sqlite")
    first = EventsourcingStore(sqlite_env(events))
    late = StaleCheckStore(sqlite_env(events))
    ensure_first_admin(first, hasher, "root", PASSWORD)

    created = ensure_first_admin(late, hasher, "root", OTHER_PASSWORD)

    assert created is False
    assert late.head() == 4
    assert authenticate(late, hasher, "root", PASSWORD) is not None
    late.close()
    first.close()


def test_weak_first_admin_password_stores_nothing(
    store: EventsourcingStore, hasher: CountingHasher
) -> None:
    with pytest.raises(WeakPasswordError):
        ensure_first_admin(store, hasher, "root", "admin")

    assert store.head() == 0
