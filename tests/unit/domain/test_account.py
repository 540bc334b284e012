from __future__ import annotations

import datetime as dt
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest

from stonkmarket.domain.account import Account, account_id
from stonkmarket.domain.errors import InvalidRoleError, UsernameTakenError
from stonkmarket.domain.username_claim import UsernameClaim, username_claim_id

HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
NEW_HASH = "$argon2id$v=19$m=16,t=1,p=1$c2FsdHNhbHQ$bmV3aGFzaG5ld2hhc2huZXc"
AT = dt.datetime(2026, 3, 9, 14, 30, 5, 250_000, tzinfo=dt.UTC)


def registered(username: str = "alice", role: str = "viewer") -> Account:
    return Account.register(
        username, role=role, password_hash=HASH, claim_version=1, actor="alice"
    )


def test_account_id_is_uuid5_of_registered_username() -> None:
    assert account_id("alice") == uuid5(NAMESPACE_URL, "account:alice")
    assert account_id("alice") == UUID("2c970ea9-76be-5d4c-9642-f3efe5616ef9")


def test_later_registration_of_name_gets_other_id() -> None:
    later = account_id("alice", claim_version=3)

    assert later == uuid5(NAMESPACE_URL, "account:alice:3")
    assert later != account_id("alice")


def test_register_records_username_role_and_hash() -> None:
    account = registered(role="admin")

    assert account.id == account_id("alice")
    assert (account.username, account.role) == ("alice", "admin")
    assert account.password_hash == HASH
    assert account.not_before is None
    [event] = account.pending_events
    assert isinstance(event, Account.Registered)
    assert event.password_hash == HASH
    assert event.claim_version == 1


def test_register_rejects_unknown_role() -> None:
    with pytest.raises(InvalidRoleError) as caught:
        registered(role="root")

    assert caught.value.field == "role"
    assert caught.value.message == "role must be one of viewer, admin, got 'root'"


def test_change_password_sets_not_before_to_event_time() -> None:
    account = registered()

    account.change_password(NEW_HASH, at=AT, actor="alice", correlation_id="req-2")

    event = account.pending_events[-1]
    assert isinstance(event, Account.PasswordChanged)
    assert event.not_before == AT
    assert event.timestamp == AT
    assert account.not_before == AT
    assert account.modified_on == AT
    assert account.password_hash == NEW_HASH


def test_rehash_keeps_not_before() -> None:
    account = registered()
    account.change_password(NEW_HASH, at=AT, actor="alice")

    account.rehash_password(HASH, actor="alice")

    assert isinstance(account.pending_events[-1], Account.PasswordRehashed)
    assert account.password_hash == HASH
    assert account.not_before == AT


def test_rename_keeps_id_and_version_grows() -> None:
    account = registered()

    account.rename("alicia", actor="alice")

    event = account.pending_events[-1]
    assert isinstance(event, Account.Renamed)
    assert (event.old_username, event.new_username) == ("alice", "alicia")
    assert account.username == "alicia"
    assert account.id == account_id("alice")
    assert account.version == 2


def test_rename_to_same_name_records_nothing() -> None:
    account = registered()

    account.rename("alice", actor="alice")

    assert account.version == 1


def test_change_role_records_old_and_new() -> None:
    account = registered()

    account.change_role("admin", actor="root")

    event = account.pending_events[-1]
    assert isinstance(event, Account.RoleChanged)
    assert (event.old_role, event.new_role) == ("viewer", "admin")
    assert account.role == "admin"


def test_change_to_same_role_records_nothing() -> None:
    account = registered()

    account.change_role("viewer", actor="root")

    assert account.version == 1


def test_change_role_rejects_unknown_role() -> None:
    account = registered()

    with pytest.raises(InvalidRoleError):
        account.change_role("owner", actor="root")

    assert account.version == 1


def test_revoke_tokens_sets_not_before() -> None:
    account = registered()

    account.revoke_tokens(at=AT, actor="alice")

    event = account.pending_events[-1]
    assert isinstance(event, Account.TokensRevoked)
    assert event.not_before == AT
    assert event.timestamp == AT
    assert account.not_before == AT
    assert account.password_hash == HASH


def test_repr_of_account_and_events_shows_no_hash() -> None:
    account = registered()
    account.change_password(NEW_HASH, at=AT, actor="alice")
    account.rehash_password(HASH, actor="alice")

    shown = [repr(account), *map(repr, account.pending_events)]

    assert [text for text in shown if "argon2" in text] == []
    assert "username='alice'" in shown[0]


def test_claim_id_is_uuid5_of_username() -> None:
    assert username_claim_id("alice") == uuid5(NAMESPACE_URL, "username:alice")


def test_released_claim_can_be_reclaimed() -> None:
    first, second = account_id("alice"), account_id("alice", claim_version=3)
    claim = UsernameClaim("alice", first, "alice", None)
    claim.release(first, actor="alice")

    claim.reclaim(second, actor="bob")

    assert claim.holder == second
    assert claim.version == 3


def test_held_claim_cannot_be_reclaimed() -> None:
    claim = UsernameClaim("alice", account_id("alice"), "alice", None)

    with pytest.raises(UsernameTakenError) as caught:
        claim.reclaim(account_id("bob"), actor="bob")

    assert caught.value.message == "username alice is already taken; choose another"
    assert claim.version == 1


def test_only_holder_can_release_claim() -> None:
    claim = UsernameClaim("alice", account_id("alice"), "alice", None)

    with pytest.raises(UsernameTakenError, match="not held by account"):
        claim.release(account_id("bob"), actor="bob")

    assert claim.holder == account_id("alice")
