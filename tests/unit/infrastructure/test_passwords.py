from __future__ import annotations

import pytest

from stonkmarket.infrastructure.passwords import Argon2PasswordHasher

PASSWORD = "correct horse battery staple"


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_argon2id_with_given_parameters(hasher: Argon2PasswordHasher) -> None:
    password_hash = hasher.hash(PASSWORD)

    assert password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert PASSWORD not in password_hash


def test_same_password_hashes_differently(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash(PASSWORD) != hasher.hash(PASSWORD)


def test_verify_accepts_right_password(hasher: Argon2PasswordHasher) -> None:
    assert hasher.verify(hasher.hash(PASSWORD), PASSWORD) is True


def test_verify_rejects_wrong_password(hasher: Argon2PasswordHasher) -> None:
    assert hasher.verify(hasher.hash(PASSWORD), PASSWORD + "!") is False


@pytest.mark.parametrize(
    "unreadable",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=8,t=1,p=1$bm90IGJhc2U2NA$",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA==",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=8,t=1,p=1$sälz$hash",
    ],
)
def test_verify_unreadable_hash_is_false(
    hasher: Argon2PasswordHasher, unreadable: str
) -> None:
    assert hasher.verify(unreadable, PASSWORD) is False


def test_verify_accepts_non_ascii_password(hasher: Argon2PasswordHasher) -> None:
    password = "Grüße aus Köln, 東京"

    assert hasher.verify(hasher.hash(password), password) is True


def test_hash_with_current_parameters_needs_no_rehash(
    hasher: Argon2PasswordHasher,
) -> None:
    assert hasher.needs_rehash(hasher.hash(PASSWORD)) is False


@pytest.mark.parametrize(
    "other",
    [
        {"time_cost": 2, "memory_cost": 8, "parallelism": 1},
        {"time_cost": 1, "memory_cost": 16, "parallelism": 1},
        {"time_cost": 1, "memory_cost": 16, "parallelism": 2},
    ],
)
def test_hash_with_other_parameters_needs_rehash(
    hasher: Argon2PasswordHasher, other: dict[str, int]
) -> None:
    older = Argon2PasswordHasher(**other).hash(PASSWORD)

    assert hasher.needs_rehash(older) is True
    assert hasher.verify(older, PASSWORD) is True


def test_unreadable_hash_needs_rehash(hasher: Argon2PasswordHasher) -> None:
    assert hasher.needs_rehash("not a hash") is True


def test_dummy_hash_uses_current_parameters(hasher: Argon2PasswordHasher) -> None:
    assert hasher.dummy_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert hasher.needs_rehash(hasher.dummy_hash) is False
    assert hasher.verify(hasher.dummy_hash, "") is False


def test_defaults_are_rfc_9106_low_memory_profile() -> None:
    default = Argon2PasswordHasher()

    assert default.dummy_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
