"""Stored account, username claim and admin roster events decode as written today.

A change to these event classes that breaks a test here would also break
every database that already contains such events: give new fields a default, or
add a class version and an upcaster instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from stonkmarket.domain.account import Account
from stonkmarket.domain.admin_roster import AdminRoster
from stonkmarket.domain.username_claim import UsernameClaim
from stonkmarket.infrastructure.event_store import EventsourcingStore, in_memory_env

ACCOUNT_ID = uuid5(NAMESPACE_URL, "account:alice")
CLAIM_ID = uuid5(NAMESPACE_URL, "username:alice")
BOB_ID = uuid5(NAMESPACE_URL, "account:bob")
ROSTER_ID = uuid5(NAMESPACE_URL, "admins")
STORED_AT = dt.datetime(2026, 3, 4, 21, 5, tzinfo=dt.UTC)
REVOKED_AT = dt.datetime(2026, 3, 5, 8, 0, 30, 125_000, tzinfo=dt.UTC)
HASH_1 = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
HASH_2 = "$argon2id$v=19$m=8,t=2,p=1$c2FsdHNhbHQ$bmV3aGFzaG5ld2hhc2huZXc"
HASH_3 = "$argon2id$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$dGhpcmR0aGlyZHRoaXJkdA"


def stored(
    originator_id: UUID, version: int, topic: str, state: dict[str, Any]
) -> StoredEvent:
    """Build a stored event the way the JSON transcoder writes one."""
    timestamp = {"_type_": "datetime_iso", "_data_": STORED_AT.isoformat()}
    body = json.dumps({"timestamp": timestamp, **state}, separators=(",", ":"))
    return StoredEvent(
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=body.encode(),
    )


def instant(value: dt.datetime) -> dict[str, str]:
    return {"_type_": "datetime_iso", "_data_": value.isoformat()}


def uuid_hex(value: UUID) -> dict[str, str]:
    return {"_type_": "uuid_hex", "_data_": value.hex}


ACCOUNT = "stonkmarket.domain.account:Account"
CLAIM = "stonkmarket.domain.username_claim:UsernameClaim"
ROSTER = "stonkmarket.domain.admin_roster:AdminRoster"

ACCOUNT_STREAM = [
    stored(
        ACCOUNT_ID,
        1,
        f"{ACCOUNT}.Registered",
        {
            "originator_topic": ACCOUNT,
            "username": "alice",
            "role": "viewer",
            "password_hash": HASH_1,
            "claim_version": 1,
            "actor": "alice",
            "correlation_id": "req-1",
        },
    ),
    stored(
        ACCOUNT_ID,
        2,
        f"{ACCOUNT}.PasswordChanged",
        {
            "username": "alice",
            "password_hash": HASH_2,
            "not_before": instant(STORED_AT),
            "actor": "alice",
            "correlation_id": "req-2",
        },
    ),
    stored(
        ACCOUNT_ID,
        3,
        f"{ACCOUNT}.PasswordRehashed",
        {
            "username": "alice",
            "password_hash": HASH_3,
            "actor": "alice",
            "correlation_id": None,
        },
    ),
    stored(
        ACCOUNT_ID,
        4,
        f"{ACCOUNT}.Renamed",
        {
            "old_username": "alice",
            "new_username": "alicia",
            "actor": "alicia",
            "correlation_id": "req-4",
        },
    ),
    stored(
        ACCOUNT_ID,
        5,
        f"{ACCOUNT}.RoleChanged",
        {
            "username": "alicia",
            "old_role": "viewer",
            "new_role": "admin",
            "actor": "root",
            "correlation_id": "req-5",
        },
    ),
    stored(
        ACCOUNT_ID,
        6,
        f"{ACCOUNT}.TokensRevoked",
        {
            "username": "alicia",
            "not_before": instant(REVOKED_AT),
            "actor": "alicia",
            "correlation_id": "req-6",
        },
    ),
]

CLAIM_STREAM = [
    stored(
        CLAIM_ID,
        1,
        f"{CLAIM}.Claimed",
        {
            "originator_topic": CLAIM,
            "username": "alice",
            "account_id": uuid_hex(ACCOUNT_ID),
            "actor": "alice",
            "correlation_id": "req-1",
        },
    ),
    stored(
        CLAIM_ID,
        2,
        f"{CLAIM}.Released",
        {
            "username": "alice",
            "account_id": uuid_hex(ACCOUNT_ID),
            "actor": "alicia",
            "correlation_id": "req-4",
        },
    ),
    stored(
        CLAIM_ID,
        3,
        f"{CLAIM}.Reclaimed",
        {
            "username": "alice",
            "account_id": uuid_hex(BOB_ID),
            "actor": "bob",
            "correlation_id": "req-7",
        },
    ),
]

ROSTER_STREAM = [
    stored(ROSTER_ID, 1, f"{ROSTER}.Started", {"originator_topic": ROSTER}),
    stored(
        ROSTER_ID,
        2,
        f"{ROSTER}.AdminAdded",
        {
            "account_id": uuid_hex(ACCOUNT_ID),
            "username": "alice",
            "actor": "system:first-admin",
            "correlation_id": None,
        },
    ),
    stored(
        ROSTER_ID,
        3,
        f"{ROSTER}.AdminAdded",
        {
            "account_id": uuid_hex(BOB_ID),
            "username": "bob",
            "actor": "alice",
            "correlation_id": "req-8",
        },
    ),
    stored(
        ROSTER_ID,
        4,
        f"{ROSTER}.AdminRemoved",
        {
            "account_id": uuid_hex(ACCOUNT_ID),
            "username": "alice",
            "actor": "bob",
            "correlation_id": "req-9",
        },
    ),
]


@pytest.fixture
def store() -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(in_memory_env())
    yield store
    store.close()


def account_today() -> Account:
    """The account stream above, recorded by today's code."""
    account = Account.register(
        "alice",
        role="viewer",
        password_hash=HASH_1,
        claim_version=1,
        actor="alice",
        correlation_id="req-1",
    )
    account.change_password(HASH_2, at=STORED_AT, actor="alice", correlation_id="req-2")
    account.rehash_password(HASH_3, actor="alice")
    account.rename("alicia", actor="alicia", correlation_id="req-4")
    account.change_role("admin", actor="root", correlation_id="req-5")
    account.revoke_tokens(at=REVOKED_AT, actor="alicia", correlation_id="req-6")
    return account


def claim_today() -> UsernameClaim:
    """The claim stream above, recorded by today's code."""
    claim = UsernameClaim("alice", ACCOUNT_ID, "alice", "req-1")
    claim.release(ACCOUNT_ID, actor="alicia", correlation_id="req-4")
    claim.reclaim(BOB_ID, actor="bob", correlation_id="req-7")
    return claim


def roster_today() -> AdminRoster:
    """The roster stream above, recorded by today's code."""
    roster = AdminRoster()
    roster.add(ACCOUNT_ID, "alice", actor="system:first-admin")
    roster.add(BOB_ID, "bob", actor="alice", correlation_id="req-8")
    roster.remove(ACCOUNT_ID, "alice", actor="bob", correlation_id="req-9")
    return roster


def without_timestamp(event: StoredEvent) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(event.state)
    del state["timestamp"]
    return state


def test_stored_account_stream_replays(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(ACCOUNT_STREAM)

    account = store.get(ACCOUNT_ID, Account)

    assert account is not None
    assert (account.username, account.role) == ("alicia", "admin")
    assert account.password_hash == HASH_3
    assert account.not_before == REVOKED_AT
    assert account.version == 6


def test_stored_claim_stream_replays(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(CLAIM_STREAM)

    claim = store.get(CLAIM_ID, UsernameClaim)

    assert claim is not None
    assert claim.username == "alice"
    assert claim.holder == BOB_ID
    assert claim.version == 3


def test_stored_roster_stream_replays(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(ROSTER_STREAM)

    roster = store.get(ROSTER_ID, AdminRoster)

    assert roster is not None
    assert roster.admins == {BOB_ID}
    assert roster.version == 4


def test_stored_password_change_keeps_not_before(store: EventsourcingStore) -> None:
    store.app.recorder.insert_events(ACCOUNT_STREAM[:2])

    account = store.get(ACCOUNT_ID, Account)

    assert account is not None
    assert account.not_before == STORED_AT
    assert account.password_hash == HASH_2


@pytest.mark.parametrize(
    ("record_today", "stream"),
    [
        pytest.param(account_today, ACCOUNT_STREAM, id="account"),
        pytest.param(claim_today, CLAIM_STREAM, id="claim"),
        pytest.param(roster_today, ROSTER_STREAM, id="roster"),
    ],
)
def test_hand_written_states_match_current_classes(
    store: EventsourcingStore,
    record_today: Callable[[], Aggregate],
    stream: list[StoredEvent],
) -> None:
    # Guards the streams above: a field added to an event class shows up here
    # as a key the hand-written state lacks.
    events = record_today().collect_events()

    encoded = [store.app.mapper.to_stored_event(event) for event in events]

    assert [e.topic for e in encoded] == [e.topic for e in stream]
    assert [e.originator_id for e in encoded] == [e.originator_id for e in stream]
    assert [without_timestamp(e) for e in encoded] == [
        without_timestamp(e) for e in stream
    ]
