"""The rules a username and a new password must meet."""

from __future__ import annotations

import re

from stonkmarket.domain.errors import InvalidUsernameError, WeakPasswordError

# Starts and ends with a letter or digit, so "..." or "-x-" is not a name.
_USERNAME_FORM = re.compile(r"[a-z0-9][a-z0-9._-]{1,30}[a-z0-9]")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# Passwords of 12 characters or more that people pick most often, lower-cased.
# The length rule already rejects the shorter favourites.
COMMON_PASSWORDS = frozenset(
    {
        "000000000000",
        "111111111111",
        "123123123123",
        "123456123456",
        "123456789012",
        "1234567890123",
        "12345678901234",
        "1234567890qwerty",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abc123abc123",
        "abcdefghijkl",
        "administrator",
        "administrator1",
        "asdfasdfasdf",
        "asdfghjkl123",
        "baseball1234",
        "basketball12",
        "changeme1234",
        "default12345",
        "dragon123456",
        "football1234",
        "iloveyou1234",
        "letmein12345",
        "letmeinplease",
        "masterpassword",
        "monkey123456",
        "mypassword123",
        "p@ssw0rd1234",
        "p@ssword1234",
        "passw0rd1234",
        "password1234",
        "password12345",
        "password123!",
        "password123456",
        "passwordpassword",
        "princess1234",
        "qwerty123456",
        "qwerty1234567",
        "qwertyqwerty",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "secret123456",
        "starwars1234",
        "stonkmarket123",
        "stonkmarket1234",
        "sunshine1234",
        "superman1234",
        "trustno1trustno1",
        "welcome12345",
        "welcome123456",
        "zaq12wsxcde3",
    }
)


# "            " or "aaaaaaaaaaaa" passes a length rule and nothing else.
MIN_DISTINCT_CHARACTERS = 5


def normalise_username(raw: str, *, field: str = "username") -> str:
    """Return the username trimmed and lower-cased, or raise InvalidUsernameError."""
    # Only ASCII is lower-cased: str.lower() maps some other letters, such as
    # the Kelvin sign, onto a-z, and two spellings must never name one account.
    username = raw.strip().lower() if raw.isascii() else raw
    if not _USERNAME_FORM.fullmatch(username):
        raise InvalidUsernameError(
            f"{field} {raw!r} is not a valid username: use 3 to 32 characters "
            "from a-z, 0-9 and . _ -, starting and ending with a letter or digit",
            field=field,
        )
    return username


def check_password(password: str, username: str, *, field: str = "password") -> None:
    """Raise WeakPasswordError unless `password` may protect `username`'s account.

    Lengths count characters (code points), not bytes. Messages never repeat
    the password.
    """
    length = len(password)
    if not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"{field} must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} "
            f"characters long, got {length}",
            field=field,
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise WeakPasswordError(
            f"{field} repeats too few characters; use at least "
            f"{MIN_DISTINCT_CHARACTERS} different ones",
            field=field,
        )
    check_not_username(password, username, field=field)
    if password.lower() in COMMON_PASSWORDS:
        raise WeakPasswordError(
            f"{field} is one of the most common passwords; choose one that is "
            "harder to guess",
            field=field,
        )


def check_not_username(password: str, username: str, *, field: str) -> None:
    """Raise WeakPasswordError when the password is the username, in any case.

    `field` names the value to change: the password, or a new username.
    """
    if password.casefold() == username.casefold():
        raise WeakPasswordError(
            f"the password must not be the same as the username; choose another "
            f"{field}",
            field=field,
        )
