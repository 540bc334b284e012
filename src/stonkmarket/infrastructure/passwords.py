"""The PasswordHasher port over argon2-cffi, with argon2id."""

from __future__ import annotations

import secrets

import argon2
from argon2.exceptions import VerificationError


class Argon2PasswordHasher:
    """Hashes with argon2id; the defaults are argon2-cffi's (RFC 9106 low memory).

    `memory_cost` is in KiB. Tests pass cheap parameters; a hash made with
    other parameters than these needs a rehash.
    """

    def __init__(
        self, *, time_cost: int = 3, memory_cost: int = 65_536, parallelism: int = 4
    ) -> None:
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self.dummy_hash = self.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, ValueError):
            # A wrong password raises VerifyMismatchError, a VerificationError;
            # an unreadable hash raises InvalidHashError, a ValueError, or
            # UnicodeEncodeError when it is not ASCII.
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except ValueError:
            # An unreadable hash: whatever made it, replace it.
            return True
