"""Access tokens as JSON Web Tokens signed with HMAC-SHA256 (HS256), via pyjwt.

pyjwt checks the signature, the required claims, the issuer and the audience.
pyjwt reads the system clock for time claims, so this module checks `exp`,
`nbf` and `iat` itself against an injectable clock, with pyjwt's rules. A
token is expired once `exp <= now - leeway` and not yet valid while
`nbf > now + leeway`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Final

import jwt
import msgspec

from stonkmarket.application.tokens import (
    ROLES,
    InvalidTokenError,
    Role,
    TokenClaims,
    now_utc,
)

ALGORITHM: Final = "HS256"
# pyjwt 2.15 warns on HS256 keys under 32 bytes, citing RFC 7518 section 3.2.
MIN_SECRET_BYTES: Final = 32
REQUIRED_CLAIMS: Final = (
    "iss",
    "aud",
    "sub",
    "iat",
    "nbf",
    "exp",
    "jti",
    "role",
    "name",
)

# Seconds since 1970 up to the last second of year 9999, the range of datetime.
NumericDate = Annotated[int, msgspec.Meta(ge=0, le=253_402_300_799)]
# The issue time keeps milliseconds (RFC 7519 allows a fractional NumericDate),
# so a token issued just after a password change is distinguished from one
# issued just before it.
IssuedAt = Annotated[float, msgspec.Meta(ge=0, le=253_402_300_799)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _Payload(msgspec.Struct, frozen=True):
    """The claims this service puts in a token, with the types it writes."""

    sub: NonEmpty
    name: NonEmpty
    role: Role
    iat: IssuedAt
    nbf: NumericDate
    exp: NumericDate
    jti: NonEmpty


class JwtTokens:
    """The AccessTokens port implemented with pyjwt and HS256.

    Only HS256 is accepted. A token whose header names any other algorithm,
    `none` included, is rejected before its signature is checked.
    """

    def __init__(
        self,
        secret: str,
        *,
        issuer: str = "stonkmarket",
        audience: str = "stonkmarket-api",
        lifetime: dt.timedelta = dt.timedelta(minutes=60),
        leeway: dt.timedelta = dt.timedelta(seconds=10),
        clock: Callable[[], dt.datetime] = now_utc,
    ) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long;"
                " generate one with `python -c 'import secrets;"
                " print(secrets.token_urlsafe(32))'`"
            )
        if lifetime < dt.timedelta(seconds=1):
            raise ValueError(f"the token lifetime must be at least 1 s, not {lifetime}")
        if leeway < dt.timedelta(0):
            raise ValueError(f"the leeway must not be negative, not {leeway}")
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self.leeway = leeway
        self._clock = clock

    def issue(self, subject: str, username: str, role: Role) -> tuple[str, TokenClaims]:
        """Sign a new token for an account and return it with its claims."""
        if not subject or not username:
            raise ValueError("a token needs a non-empty subject and username")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")

        issued_at = round(self._now().timestamp(), 3)
        valid_from = int(issued_at)
        payload = _Payload(
            sub=subject,
            name=username,
            role=role,
            iat=issued_at,
            nbf=valid_from,
            exp=valid_from + int(self.lifetime.total_seconds()),
            jti=uuid.uuid4().hex,
        )
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            **msgspec.to_builtins(payload),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return token, _claims(payload)

    def read(self, token: str) -> TokenClaims:
        """Verify a token and return its claims.

        Raises InvalidTokenError when the token is malformed, has an invalid
        signature or algorithm, names another issuer or audience, is missing a
        claim, is expired or is not yet valid. The message never contains the
        token.
        """
        decoded = self._verified_payload(token)
        try:
            payload = msgspec.convert(decoded, _Payload)
        except msgspec.ValidationError as exc:
            raise InvalidTokenError(
                f"the token has an invalid claim: {exc}; log in again"
            ) from exc
        self._check_times(payload)
        return _claims(payload)

    def _verified_payload(self, token: str) -> dict[str, Any]:
        """Check the signature, issuer, audience and presence of every claim."""
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "strict_aud": True,
                    # The times are checked against the injected clock instead.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(_client_message(exc)) from exc

    def _check_times(self, payload: _Payload) -> None:
        now = self._now().timestamp()
        leeway = self.leeway.total_seconds()
        if payload.exp <= now - leeway:
            raise InvalidTokenError("the token has expired; log in again")
        if payload.nbf > now + leeway or payload.iat > now + leeway:
            raise InvalidTokenError(
                "the token is not valid yet; check that the server clocks agree,"
                " then log in again"
            )

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now


def _claims(payload: _Payload) -> TokenClaims:
    return TokenClaims(
        subject=payload.sub,
        username=payload.name,
        role=payload.role,
        issued_at=_utc(payload.iat),
        not_before=_utc(payload.nbf),
        expires_at=_utc(payload.exp),
        token_id=payload.jti,
    )


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _client_message(exc: jwt.PyJWTError) -> str:
    """Return a client-facing message that names the problem and the fix."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token is missing the {exc.claim!r} claim; log in again"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"the token must be signed with {ALGORITHM}; log in again"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature is invalid; log in again"
    if isinstance(
        exc, jwt.exceptions.InvalidSubjectError | jwt.exceptions.InvalidJTIError
    ):
        return "the token has an invalid 'sub' or 'jti' claim; log in again"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "the token was issued for another API; log in to this one"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the token was issued by another service; log in to this one"
    if isinstance(exc, jwt.DecodeError):
        return (
            "the token is malformed; send it exactly as the login returned it,"
            " as `Authorization: Bearer <token>`"
        )
    return "the token is invalid; log in again"
