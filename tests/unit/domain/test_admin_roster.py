from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.domain.account import account_id
from stonkmarket.domain.admin_roster import ADMIN_ROSTER_ID, AdminRoster
from stonkmarket.domain.errors import LastAdminError

ALICE, BOB = account_id("alice"), account_id("bob")
USERNAMES = ("alice", "bob", "carol", "dave")

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=200, deadline=None, database=None)


def roster_of(*usernames: str) -> AdminRoster:
    roster = AdminRoster()
    for username in usernames:
        roster.add(account_id(username), username, actor="root")
    return roster


def test_roster_id_is_uuid5_of_admins() -> None:
    assert uuid5(NAMESPACE_URL, "admins") == ADMIN_ROSTER_ID
    assert UUID("5d2e4549-54ff-5e0d-9c41-1f06ad2c60d0") == ADMIN_ROSTER_ID


def test_new_roster_lists_no_admin() -> None:
    roster = AdminRoster()

    assert roster.id == ADMIN_ROSTER_ID
    assert roster.admins == frozenset()
    [event] = roster.pending_events
    assert isinstance(event, AdminRoster.Started)


def test_add_lists_admin() -> None:
    roster = AdminRoster()

    roster.add(ALICE, "alice", actor="root", correlation_id="req-1")

    assert roster.admins == {ALICE}
    event = roster.pending_events[-1]
    assert isinstance(event, AdminRoster.AdminAdded)
    assert (event.account_id, event.username) == (ALICE, "alice")
    assert (event.actor, event.correlation_id) == ("root", "req-1")


def test_add_of_listed_admin_records_nothing() -> None:
    roster = roster_of("alice")

    roster.add(ALICE, "alice", actor="root")

    assert roster.version == 2
    assert roster.admins == {ALICE}


def test_remove_one_of_two_admins() -> None:
    roster = roster_of("alice", "bob")

    roster.remove(BOB, "bob", actor="alice", correlation_id="req-2")

    assert roster.admins == {ALICE}
    event = roster.pending_events[-1]
    assert isinstance(event, AdminRoster.AdminRemoved)
    assert (event.account_id, event.username) == (BOB, "bob")
    assert (event.actor, event.correlation_id) == ("alice", "req-2")


def test_remove_of_last_admin_is_rejected() -> None:
    roster = roster_of("alice")

    with pytest.raises(LastAdminError) as caught:
        roster.remove(ALICE, "alice", actor="bob")

    assert caught.value.field == "role"
    assert caught.value.message == (
        "alice is the last admin, and at least one account must stay admin; "
        "make another account admin first"
    )
    assert roster.admins == {ALICE}
    assert roster.version == 2


def test_remove_from_empty_roster_is_rejected() -> None:
    roster = AdminRoster()

    with pytest.raises(LastAdminError) as caught:
        roster.remove(ALICE, "alice", actor="bob")

    assert caught.value.message.startswith("alice is the last admin,")
    assert roster.version == 1


def test_remove_of_unlisted_account_records_nothing() -> None:
    roster = roster_of("alice")

    roster.remove(BOB, "bob", actor="alice")

    assert roster.version == 2
    assert roster.admins == {ALICE}


# One step of a sequence: add or remove one of four accounts.
steps = st.lists(
    st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(USERNAMES)),
    max_size=40,
)


@bounded
@given(steps)
def test_roster_never_empties_once_it_had_admin(
    sequence: list[tuple[str, str]],
) -> None:
    roster = AdminRoster()
    had_admin = False

    for action, username in sequence:
        version = roster.version
        try:
            if action == "add":
                roster.add(account_id(username), username, actor="root")
            else:
                roster.remove(account_id(username), username, actor="root")
        except LastAdminError:
            assert roster.version == version
        had_admin = had_admin or bool(roster.admins)

        assert not had_admin or roster.admins


@bounded
@given(steps)
def test_replayed_events_rebuild_admins(sequence: list[tuple[str, str]]) -> None:
    roster = AdminRoster()
    expected: set[UUID] = set()
    for action, username in sequence:
        if action == "add":
            roster.add(account_id(username), username, actor="root")
            expected.add(account_id(username))
        elif expected - {account_id(username)}:
            roster.remove(account_id(username), username, actor="root")
            expected.discard(account_id(username))

    replayed: Aggregate | None = None
    for event in roster.collect_events():
        replayed = event.mutate(replayed)

    assert isinstance(replayed, AdminRoster)
    assert replayed.admins == expected
    assert roster.admins == expected
