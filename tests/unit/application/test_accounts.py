from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from stonkmarket.application.account_lookup import find_account
from stonkmarket.application.accounts import (
    change_credentials,
    change_role,
    register_account,
    revoke_tokens,
)
from stonkmarket.application.authentication import authenticate
from stonkmarket.application.commands import (
    ChangeCredentials,
    ChangeRole,
    RegisterAccount,
    RevokeTokens,
)
from stonkmarket.application.errors import (
    ConflictError,
    NotFoundError,
    OwnRoleChangeError,
    WrongPasswordError,
)
from stonkmarket.domain.account import Account, account_id
from stonkmarket.domain.admin_roster import ADMIN_ROSTER_ID, AdminRoster
from stonkmarket.domain.errors import (
    InvalidRoleError,
    InvalidUsernameError,
    LastAdminError,
    WeakPasswordError,
)
from stonkmarket.domain.username_claim import UsernameClaim, username_claim_id
from stonkmarket.infrastructure.event_store import (
    EventsourcingStore,
    in_memory_env,
    sqlite_env,
)
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher

PASSWORD = "tulip canal morning"
NEW_PASSWORD = "harbour lantern quietly"
CHANGED_AT = dt.datetime(2026, 3, 9, 14, 30, 5, 250_000, tzinfo=dt.UTC)
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

register = partial(register_account, hasher=HASHER)
change = partial(change_credentials, hasher=HASHER, now=lambda: CHANGED_AT)


class RivalFirstStore(EventsourcingStore):
    """Lets a rival request save between this store's load and its save."""

    def __init__(self, env: Mapping[str, str], rival: Callable[[], object]) -> None:
        super().__init__(env)
        self.rival = rival

    def save(self, *aggregates: Aggregate) -> int:
        self.rival()
        return super().save(*aggregates)


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


def sign_up(store: EventsourcingStore, username: str = "alice", **kw: str) -> None:
    register(store, RegisterAccount(username=username, password=PASSWORD, **kw))


def admins(store: EventsourcingStore) -> frozenset[UUID]:
    roster = store.get(ADMIN_ROSTER_ID, AdminRoster)
    assert roster is not None
    return roster.admins


def test_register_stores_account_and_claim(store: EventsourcingStore) -> None:
    command = RegisterAccount(username=" Alice ", password=PASSWORD, actor="alice")

    receipt = register(store, command)

    assert receipt.subject == "alice"
    assert receipt.position == 2
    assert receipt.account.account_id == account_id("alice")
    assert (receipt.account.username, receipt.account.role) == ("alice", "viewer")
    assert receipt.account.not_before is None
    claim = store.get(username_claim_id("alice"), UsernameClaim)
    assert claim is not None
    assert claim.holder == account_id("alice")


def test_register_stores_hash_not_password(store: EventsourcingStore) -> None:
    sign_up(store)

    account = store.get(account_id("alice"), Account)

    assert account is not None
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    assert HASHER.verify(account.password_hash, PASSWORD)


def test_register_weak_password_stores_nothing(store: EventsourcingStore) -> None:
    command = RegisterAccount(username="alice", password="qwerty123456")

    with pytest.raises(WeakPasswordError) as caught:
        register(store, command)

    assert caught.value.field == "password"
    assert store.head() == 0


def test_register_unknown_role_is_rejected(store: EventsourcingStore) -> None:
    command = RegisterAccount(username="alice", password=PASSWORD, role="owner")

    with pytest.raises(InvalidRoleError):
        register(store, command)

    assert store.head() == 0


def test_register_malformed_username_is_rejected(store: EventsourcingStore) -> None:
    command = RegisterAccount(username="al", password=PASSWORD)

    with pytest.raises(InvalidUsernameError):
        register(store, command)

    assert store.head() == 0


def test_register_taken_username_conflicts(store: EventsourcingStore) -> None:
    sign_up(store)

    with pytest.raises(ConflictError) as caught:
        register(store, RegisterAccount(username="ALICE", password=NEW_PASSWORD))

    assert caught.value.message == "username alice is already taken; choose another"
    assert caught.value.field == "username"
    assert store.head() == 2


@pytest.fixture
def race_loser(tmp_path: Path) -> Iterator[EventsourcingStore]:
    """A store that loses every race: bob registers alice just before it saves."""
    events = str(tmp_path / "events.sqlite")
    winner = EventsourcingStore(sqlite_env(events))
    rival = RegisterAccount(username="alice", password=NEW_PASSWORD, actor="bob")
    loser = RivalFirstStore(sqlite_env(events), rival=lambda: register(winner, rival))
    yield loser
    loser.close()
    winner.close()


def test_racing_registration_loses_with_conflict(
    race_loser: EventsourcingStore,
) -> None:
    with pytest.raises(ConflictError) as caught:
        sign_up(race_loser)

    assert caught.value.message == "username alice is already taken; choose another"
    assert isinstance(caught.value.__cause__, ConflictError)
    account = find_account(race_loser, "alice")
    assert account is not None
    assert race_loser.head() == 2
    assert HASHER.verify(account.password_hash, NEW_PASSWORD)


def test_change_password_sets_not_before(store: EventsourcingStore) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    receipt = change(store, command)

    assert receipt.position == 3
    assert receipt.account.not_before == CHANGED_AT
    assert receipt.account.updated_at == CHANGED_AT
    assert authenticate(store, HASHER, "alice", PASSWORD) is None
    assert authenticate(store, HASHER, "alice", NEW_PASSWORD) is not None


def test_wrong_current_password_is_rejected(store: EventsourcingStore) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice", current_password=NEW_PASSWORD, new_password=NEW_PASSWORD
    )

    with pytest.raises(WrongPasswordError) as caught:
        change(store, command)

    assert caught.value.field == "current_password"
    assert caught.value.message == (
        "the username or the current password is wrong; nothing was changed"
    )
    assert store.head() == 2


def test_unknown_username_reads_as_wrong_password(store: EventsourcingStore) -> None:
    command = ChangeCredentials(
        username="nobody", current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    with pytest.raises(WrongPasswordError) as caught:
        change(store, command)

    assert caught.value.field == "current_password"


def test_new_password_equal_to_current_is_rejected(store: EventsourcingStore) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_password=PASSWORD
    )

    with pytest.raises(WeakPasswordError) as caught:
        change(store, command)

    assert caught.value.field == "new_password"
    assert caught.value.message == (
        "new_password is the current password; choose a different one"
    )


def test_new_password_is_checked_against_new_username(
    store: EventsourcingStore,
) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice",
        current_password=PASSWORD,
        new_username="lantern.keeper",
        new_password="Lantern.Keeper",
    )

    with pytest.raises(WeakPasswordError) as caught:
        change(store, command)

    assert caught.value.field == "new_password"
    assert store.head() == 2


def test_rename_to_current_password_is_rejected(store: EventsourcingStore) -> None:
    register(store, RegisterAccount(username="alice", password="lantern.keeper"))
    command = ChangeCredentials(
        username="alice",
        current_password="lantern.keeper",
        new_username="Lantern.Keeper",
    )

    with pytest.raises(WeakPasswordError) as caught:
        change(store, command)

    assert caught.value.field == "new_username"
    assert store.head() == 2


def test_rename_keeps_id_and_history(store: EventsourcingStore) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_username="Alicia"
    )

    receipt = change(store, command)

    assert receipt.subject == "alicia"
    assert receipt.account.account_id == account_id("alice")
    account = store.get(account_id("alice"), Account)
    assert account is not None
    assert account.username == "alicia"
    assert account.version == 2
    assert find_account(store, "alicia") is not None
    assert find_account(store, "alice") is None


def test_rename_frees_old_name_for_new_account(store: EventsourcingStore) -> None:
    sign_up(store)
    change(
        store,
        ChangeCredentials(
            username="alice", current_password=PASSWORD, new_username="alicia"
        ),
    )

    receipt = register(store, RegisterAccount(username="alice", password=NEW_PASSWORD))

    # The claim on "alice" went Claimed (1), Released (2), Reclaimed (3).
    assert receipt.account.account_id == account_id("alice", claim_version=3)
    renamed = authenticate(store, HASHER, "alicia", PASSWORD)
    newcomer = authenticate(store, HASHER, "alice", NEW_PASSWORD)
    assert renamed is not None
    assert newcomer is not None
    assert renamed.account_id != newcomer.account_id


def test_rename_back_to_old_name_works(store: EventsourcingStore) -> None:
    sign_up(store)
    for old, new in (("alice", "alicia"), ("alicia", "alice")):
        change(
            store,
            ChangeCredentials(
                username=old, current_password=PASSWORD, new_username=new
            ),
        )

    account = find_account(store, "alice")

    assert account is not None
    assert account.id == account_id("alice")
    assert account.version == 3
    assert find_account(store, "alicia") is None


def test_rename_to_taken_name_conflicts(store: EventsourcingStore) -> None:
    sign_up(store)
    sign_up(store, "bob")
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_username="bob"
    )

    with pytest.raises(ConflictError) as caught:
        change(store, command)

    assert caught.value.message == "username bob is already taken; choose another"
    assert caught.value.field == "new_username"
    assert store.head() == 4


def test_rename_and_new_password_in_one_change(store: EventsourcingStore) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice",
        current_password=PASSWORD,
        new_username="alicia",
        new_password=NEW_PASSWORD,
    )

    receipt = change(store, command)

    # Renamed and PasswordChanged, the new claim, and the old one released.
    assert receipt.position == 6
    assert receipt.account.not_before == CHANGED_AT
    assert authenticate(store, HASHER, "alicia", NEW_PASSWORD) is not None


def test_nothing_to_change_stores_nothing(store: EventsourcingStore) -> None:
    sign_up(store)
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_username="ALICE"
    )

    receipt = change(store, command)

    assert receipt.position == 0
    assert store.head() == 2


def test_change_role_records_new_role(store: EventsourcingStore) -> None:
    sign_up(store)

    receipt = change_role(
        store, ChangeRole(username="alice", role="admin", actor="root")
    )

    # RoleChanged (3), then the roster, new here: Started (4) and AdminAdded (5).
    assert receipt.position == 5
    assert receipt.account.role == "admin"
    assert admins(store) == {account_id("alice")}


def test_register_admin_lists_it_on_roster(store: EventsourcingStore) -> None:
    sign_up(store, "root", role="admin")

    sign_up(store, "alice", role="admin")

    assert admins(store) == {account_id("root"), account_id("alice")}
    # root: 1 to 4, alice: Registered (5), Claimed (6), AdminAdded (7).
    [(position, added)] = store.events_after(6, limit=10)
    assert position == 7
    assert isinstance(added, AdminRoster.AdminAdded)
    assert (added.account_id, added.username) == (account_id("alice"), "alice")


def test_register_viewer_leaves_roster_alone(store: EventsourcingStore) -> None:
    sign_up(store)

    assert store.get(ADMIN_ROSTER_ID, AdminRoster) is None
    assert store.head() == 2


def test_promote_then_demote_updates_roster(store: EventsourcingStore) -> None:
    sign_up(store, "root", role="admin")
    sign_up(store)
    promote = ChangeRole(username="alice", role="admin", actor="root")
    demote = ChangeRole(
        username="alice", role="viewer", actor="root", correlation_id="req-7"
    )

    change_role(store, promote)
    receipt = change_role(store, demote)

    assert receipt.account.role == "viewer"
    # root: 1 to 4, alice: 5 and 6, the promotion: 7 and 8, the demotion: 9 and 10.
    assert receipt.position == 10
    assert admins(store) == {account_id("root")}
    [(_, changed), (_, removed)] = store.events_after(8, limit=10)
    assert isinstance(changed, Account.RoleChanged)
    assert isinstance(removed, AdminRoster.AdminRemoved)
    assert (removed.account_id, removed.username) == (account_id("alice"), "alice")
    assert (removed.actor, removed.correlation_id) == ("root", "req-7")


def test_demote_last_admin_is_rejected(store: EventsourcingStore) -> None:
    sign_up(store, "root", role="admin")
    command = ChangeRole(username="root", role="viewer", actor="alice")

    with pytest.raises(LastAdminError) as caught:
        change_role(store, command)

    assert caught.value.field == "role"
    assert caught.value.message == (
        "root is the last admin, and at least one account must stay admin; "
        "make another account admin first"
    )
    assert store.head() == 4
    account = find_account(store, "root")
    assert account is not None
    assert account.role == "admin"
    assert admins(store) == {account_id("root")}


def test_demote_without_roster_is_rejected(store: EventsourcingStore) -> None:
    # An admin stored before the roster existed: no roster lists another admin.
    root = Account.register(
        "root", role="admin", password_hash="x", claim_version=1, actor="root"
    )
    store.save(root, UsernameClaim("root", root.id, "root", None))

    with pytest.raises(LastAdminError):
        change_role(store, ChangeRole(username="root", role="viewer", actor="bob"))

    assert store.head() == 2
    assert store.get(ADMIN_ROSTER_ID, AdminRoster) is None


def test_change_own_role_is_refused(store: EventsourcingStore) -> None:
    sign_up(store, "root", role="admin")
    command = ChangeRole(username="root", role="viewer", actor="root")

    with pytest.raises(OwnRoleChangeError) as caught:
        change_role(store, command)

    assert caught.value.field == "username"
    assert store.head() == 4


def test_same_role_stores_nothing(store: EventsourcingStore) -> None:
    sign_up(store, "root", role="admin")

    receipt = change_role(
        store, ChangeRole(username="root", role="admin", actor="root")
    )

    assert receipt.position == 0
    assert store.head() == 4


def test_same_role_of_other_stores_nothing(store: EventsourcingStore) -> None:
    sign_up(store, "root", role="admin")
    sign_up(store)

    receipt = change_role(
        store, ChangeRole(username="alice", role="viewer", actor="root")
    )

    assert receipt.position == 0
    assert store.head() == 6


def test_change_role_of_unknown_account(store: EventsourcingStore) -> None:
    with pytest.raises(NotFoundError, match="no account is named carol"):
        change_role(store, ChangeRole(username="Carol", role="admin", actor="root"))


def test_revoke_tokens_sets_not_before(store: EventsourcingStore) -> None:
    sign_up(store)
    command = RevokeTokens(username="alice", actor="alice")

    receipt = revoke_tokens(store, command, now=lambda: CHANGED_AT)

    assert receipt.position == 3
    assert receipt.account.not_before == CHANGED_AT
    assert authenticate(store, HASHER, "alice", PASSWORD) is not None


def test_revoke_tokens_of_unknown_account(store: EventsourcingStore) -> None:
    with pytest.raises(NotFoundError):
        revoke_tokens(store, RevokeTokens(username="carol"))


def test_command_repr_masks_passwords() -> None:
    command = ChangeCredentials(
        username="alice", current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    shown = repr(command)

    assert PASSWORD not in shown
    assert NEW_PASSWORD not in shown
    assert "current_password='***'" in shown
    assert "new_username=None" in shown
    assert "username='alice'" in shown


def test_no_stored_event_holds_a_plaintext_password(
    store: EventsourcingStore,
) -> None:
    sign_up(store)
    change(
        store,
        ChangeCredentials(
            username="alice", current_password=PASSWORD, new_password=NEW_PASSWORD
        ),
    )

    states = [
        n.state.decode()
        for n in store.app.recorder.select_notifications(start=None, limit=100)
    ]

    assert len(states) == 3
    assert [s for s in states if PASSWORD in s or NEW_PASSWORD in s] == []
    assert sum("$argon2id$" in s for s in states) == 2


def test_racing_role_change_loses_with_conflict(tmp_path: Path) -> None:
    events = str(tmp_path / "events.sqlite")
    winner = EventsourcingStore(sqlite_env(events))
    sign_up(winner)
    promote = ChangeRole(username="alice", role="admin", actor="root")
    loser = RivalFirstStore(
        sqlite_env(events), rival=lambda: change_role(winner, promote)
    )

    with pytest.raises(ConflictError) as caught:
        revoke_tokens(loser, RevokeTokens(username="alice"))

    assert caught.value.message == (
        "account alice was changed by another request first; nothing was saved, "
        "reload it and try again"
    )
    account = find_account(winner, "alice")
    assert account is not None
    assert account.role == "admin"
    assert account.not_before is None
    loser.close()
    winner.close()


def test_racing_demotion_loses_with_conflict(tmp_path: Path) -> None:
    events = str(tmp_path / "events.sqlite")
    winner = EventsourcingStore(sqlite_env(events))
    for username in ("root", "alice", "bob"):
        sign_up(winner, username, role="admin")
    demote_alice = ChangeRole(username="alice", role="viewer", actor="root")
    loser = RivalFirstStore(
        sqlite_env(events), rival=lambda: change_role(winner, demote_alice)
    )

    with pytest.raises(ConflictError) as caught:
        change_role(loser, ChangeRole(username="bob", role="viewer", actor="root"))

    assert caught.value.message == (
        "the admins were changed by another request first; nothing was saved, "
        "reload the accounts and try again"
    )
    assert caught.value.field == "role"
    assert admins(winner) == {account_id("root"), account_id("bob")}
    bob = find_account(winner, "bob")
    assert bob is not None
    assert bob.role == "admin"
    loser.close()
    winner.close()


def test_racing_admin_registration_loses_with_conflict(tmp_path: Path) -> None:
    events = str(tmp_path / "events.sqlite")
    winner = EventsourcingStore(sqlite_env(events))
    sign_up(winner, "root", role="admin")
    sign_up(winner)
    promote = ChangeRole(username="alice", role="admin", actor="root")
    loser = RivalFirstStore(
        sqlite_env(events), rival=lambda: change_role(winner, promote)
    )

    with pytest.raises(ConflictError) as caught:
        sign_up(loser, "bob", role="admin")

    assert caught.value.message == (
        "the admins were changed by another request first; nothing was saved, "
        "reload the accounts and try again"
    )
    assert find_account(winner, "bob") is None
    assert admins(winner) == {account_id("root"), account_id("alice")}
    loser.close()
    winner.close()


def test_racing_promotion_of_changed_account_conflicts(tmp_path: Path) -> None:
    events = str(tmp_path / "events.sqlite")
    winner = EventsourcingStore(sqlite_env(events))
    sign_up(winner, "root", role="admin")
    sign_up(winner)
    loser = RivalFirstStore(
        sqlite_env(events),
        rival=lambda: revoke_tokens(winner, RevokeTokens(username="alice")),
    )

    with pytest.raises(ConflictError) as caught:
        change_role(loser, ChangeRole(username="alice", role="admin", actor="root"))

    assert caught.value.message == (
        "account alice was changed by another request first; nothing was saved, "
        "reload it and try again"
    )
    assert admins(winner) == {account_id("root")}
    loser.close()
    winner.close()
