from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stonkmarket.domain.credentials import (
    COMMON_PASSWORDS,
    check_not_username,
    check_password,
    normalise_username,
)
from stonkmarket.domain.errors import InvalidUsernameError, WeakPasswordError

USERNAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789._-"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice", "alice"),
        (" Alice ", "alice"),
        ("BOB.SMITH", "bob.smith"),
        ("a_b-c.d", "a_b-c.d"),
        ("abc", "abc"),
        ("x" * 32, "x" * 32),
        ("007", "007"),
    ],
)
def test_normalise_username_accepts(raw: str, expected: str) -> None:
    assert normalise_username(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "ab",
        "x" * 33,
        "",
        "   ",
        "al ice",
        "alice@example.com",
        "al/ice",
        "ålice",
        # The Kelvin sign lower-cases to "k"; it must not become "kate".
        "\u212aate",
        "ali\tce",
    ],
)
def test_normalise_username_rejects(raw: str) -> None:
    with pytest.raises(InvalidUsernameError) as caught:
        normalise_username(raw)

    assert caught.value.field == "username"


def test_username_error_names_field_and_rule() -> None:
    with pytest.raises(InvalidUsernameError) as caught:
        normalise_username("a!", field="new_username")

    assert caught.value.field == "new_username"
    assert caught.value.message == (
        "new_username 'a!' is not a valid username: use 3 to 32 characters "
        "from a-z, 0-9 and . _ -, starting and ending with a letter or digit"
    )


EDGE = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789")
USERNAMES = st.builds(
    lambda first, middle, last: first + middle + last,
    EDGE,
    st.text(alphabet=USERNAME_ALPHABET, min_size=1, max_size=30),
    EDGE,
)


@given(USERNAMES)
def test_username_in_allowed_form_is_kept(username: str) -> None:
    assert normalise_username(username) == username


@given(USERNAMES)
def test_upper_case_username_is_lowered(username: str) -> None:
    assert normalise_username(username.upper()) == username


@pytest.mark.parametrize("raw", ["...", "-x-", "_ab", "ab.", ".a."])
def test_username_with_edge_punctuation_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidUsernameError):
        normalise_username(raw)


@given(st.text(min_size=3, max_size=32))
def test_username_with_other_character_is_rejected(raw: str) -> None:
    assume(any(c not in USERNAME_ALPHABET for c in raw.strip().lower()))

    with pytest.raises(InvalidUsernameError):
        normalise_username(raw)


def test_password_of_twelve_characters_is_accepted() -> None:
    check_password("tulip-canal9", "alice")


def test_password_of_128_characters_is_accepted() -> None:
    check_password("abcd" * 31 + "!xyz", "alice")


@pytest.mark.parametrize("password", [" " * 12, "k" * 127 + "!", "abababababab"])
def test_password_of_few_distinct_characters_is_rejected(password: str) -> None:
    with pytest.raises(WeakPasswordError, match="at least 5 different"):
        check_password(password, "alice")


@pytest.mark.parametrize(("password", "length"), [("short-pass1", 11), ("", 0)])
def test_short_password_is_rejected(password: str, length: int) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check_password(password, "alice")

    assert caught.value.field == "password"
    assert caught.value.message == (
        f"password must be 12 to 128 characters long, got {length}"
    )


def test_password_of_129_characters_is_rejected() -> None:
    with pytest.raises(WeakPasswordError, match="got 129"):
        check_password("k" * 129, "alice")


def test_password_length_counts_characters_not_bytes() -> None:
    # 12 characters, 36 bytes in UTF-8.
    password = "日本語のパスワードです。"

    check_password(password, "alice")

    assert len(password.encode()) == 36


def test_eleven_wide_characters_are_too_short() -> None:
    with pytest.raises(WeakPasswordError, match="got 11"):
        check_password("日本語のパスワードです", "alice")


def test_password_equal_to_username_is_rejected() -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check_password("Margaret.Hamilton", "margaret.hamilton")

    assert caught.value.field == "password"
    assert caught.value.message == (
        "the password must not be the same as the username; choose another password"
    )


def test_password_containing_username_is_accepted() -> None:
    check_password("margaret.hamilton.1969", "margaret.hamilton")


@pytest.mark.parametrize("password", ["password1234", "Password1234", "QWERTYUIOP12"])
def test_common_password_is_rejected(password: str) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check_password(password, "alice", field="new_password")

    assert caught.value.field == "new_password"
    assert caught.value.message == (
        "new_password is one of the most common passwords; choose one that is "
        "harder to guess"
    )


def test_common_passwords_are_long_lower_case_and_many() -> None:
    too_short = [p for p in COMMON_PASSWORDS if len(p) < 12]
    not_lower = [p for p in COMMON_PASSWORDS if p != p.lower()]

    assert too_short == []
    assert not_lower == []
    assert len(COMMON_PASSWORDS) >= 50


@given(st.text(min_size=12, max_size=128))
def test_any_long_enough_uncommon_password_is_accepted(password: str) -> None:
    assume(len(set(password)) >= 5)
    assume(password.lower() not in COMMON_PASSWORDS)
    assume(password.casefold() != "alice")

    check_password(password, "alice")


@given(st.text(max_size=11))
def test_any_password_under_twelve_characters_is_rejected(password: str) -> None:
    with pytest.raises(WeakPasswordError):
        check_password(password, "alice")


def test_check_not_username_names_the_given_field() -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check_not_username("bob-the-builder", "BOB-the-builder", field="new_username")

    assert caught.value.field == "new_username"
    assert caught.value.message.endswith("choose another new_username")
