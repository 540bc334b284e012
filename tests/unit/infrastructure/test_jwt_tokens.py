"""HS256 access tokens: exact claims, and every forged or stale token rejected."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest

from stonkmarket.application.tokens import InvalidTokenError, TokenClaims
from stonkmarket.infrastructure.jwt_tokens import JwtTokens

# 64 bytes, so tokens forged with HS512 in these tests raise no key-length warning.
SECRET = "0123456789abcdef" * 4
NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
# 19,844 days from 1970-01-01 to 2024-05-01, times 86,400 s, plus 12 h.
NOW_SECONDS = 1_714_564_800
HOUR_LATER_SECONDS = NOW_SECONDS + 3_600

MALFORMED = (
    "the token is malformed; send it exactly as the login returned it,"
    " as `Authorization: Bearer <token>`"
)
WRONG_ALGORITHM = "the token must be signed with HS256; log in again"
BAD_SIGNATURE = "the token's signature is invalid; log in again"
EXPIRED = "the token has expired; log in again"
NOT_YET_VALID = (
    "the token is not valid yet; check that the server clocks agree, then log in again"
)


class Clock:
    """A clock that stays where a test puts it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _tokens(now: dt.datetime = NOW, **options: Any) -> JwtTokens:
    return JwtTokens(SECRET, clock=Clock(now), **options)


def _claims(**changes: Any) -> dict[str, Any]:
    """The claims `_tokens().issue("42", "ada", "viewer")` writes, with changes."""
    claims: dict[str, Any] = {
        "iss": "stonkmarket",
        "aud": "stonkmarket-api",
        "sub": "42",
        "name": "ada",
        "role": "viewer",
        "iat": NOW_SECONDS,
        "nbf": NOW_SECONDS,
        "exp": HOUR_LATER_SECONDS,
        "jti": "0123456789abcdef0123456789abcdef",
    }
    claims.update(changes)
    return claims


def _signed(
    claims: dict[str, Any], algorithm: str = "HS256", secret: str = SECRET
) -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _segment(value: dict[str, Any]) -> str:
    """Encode a JSON object as unpadded base64url, as a JWT segment."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hand_signed(header: dict[str, Any], payload: str) -> str:
    """Sign `<header>.<payload>` with HMAC-SHA256 and the secret, whatever the alg."""
    signing_input = f"{_segment(header)}.{payload}"
    digest = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"


def _rejection(token: str, now: dt.datetime = NOW) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        _tokens(now).read(token)
    return caught.value.message


def test_issued_token_round_trips_with_exact_claims() -> None:
    tokens = _tokens(NOW + dt.timedelta(microseconds=750_000))

    token, claims = tokens.issue("42", "ada", "admin")

    # The issue time keeps milliseconds; validity starts at the whole second.
    assert claims == TokenClaims(
        subject="42",
        username="ada",
        role="admin",
        issued_at=NOW + dt.timedelta(milliseconds=750),
        not_before=NOW,
        expires_at=dt.datetime(2024, 5, 1, 13, 0, 0, tzinfo=dt.UTC),
        token_id=claims.token_id,
    )
    assert len(claims.token_id) == 32
    assert int(claims.token_id, 16) >= 0
    assert tokens.read(token) == claims


def test_issued_token_carries_the_registered_claims() -> None:
    token, claims = _tokens().issue("42", "ada", "viewer")

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})

    assert header == {"alg": "HS256", "typ": "JWT"}
    assert payload == _claims(jti=claims.token_id)


def test_each_issued_token_has_its_own_id() -> None:
    tokens = _tokens()

    _, first = tokens.issue("42", "ada", "viewer")
    _, second = tokens.issue("42", "ada", "viewer")

    assert first.token_id != second.token_id


def test_lifetime_sets_the_expiry() -> None:
    token, claims = _tokens(lifetime=dt.timedelta(minutes=5)).issue("7", "bo", "viewer")

    assert claims.expires_at == dt.datetime(2024, 5, 1, 12, 5, 0, tzinfo=dt.UTC)
    assert jwt.decode(token, options={"verify_signature": False})["exp"] == (
        NOW_SECONDS + 300
    )


def test_hand_encoded_token_is_read() -> None:
    claims = _tokens().read(_signed(_claims()))

    assert claims.subject == "42"
    assert claims.username == "ada"
    assert claims.role == "viewer"
    assert claims.expires_at == dt.datetime(2024, 5, 1, 13, 0, 0, tzinfo=dt.UTC)
    assert claims.token_id == "0123456789abcdef0123456789abcdef"


def test_alg_none_is_rejected() -> None:
    header = _segment({"alg": "none", "typ": "JWT"})
    token = f"{header}.{_segment(_claims())}."

    assert _rejection(token) == WRONG_ALGORITHM


def test_header_without_alg_is_rejected() -> None:
    header = _segment({"typ": "JWT"})
    token = f"{header}.{_segment(_claims())}."

    assert _rejection(token) == WRONG_ALGORITHM


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithm_is_rejected(algorithm: str) -> None:
    token = _signed(_claims(), algorithm=algorithm)

    assert _rejection(token) == WRONG_ALGORITHM


def test_rs256_header_signed_with_the_secret_is_rejected() -> None:
    # A verifier that trusted the header could take the secret as an RSA key.
    token = _hand_signed({"alg": "RS256", "typ": "JWT"}, _segment(_claims()))

    assert _rejection(token) == WRONG_ALGORITHM


def test_hand_built_hs256_signature_is_accepted() -> None:
    # Built like the RS256 case, which is therefore rejected for its header alone.
    token = _hand_signed({"alg": "HS256", "typ": "JWT"}, _segment(_claims()))

    assert _tokens().read(token).subject == "42"


def test_changed_payload_with_the_old_signature_is_rejected() -> None:
    header, _, signature = _signed(_claims()).split(".")
    promoted = _segment(_claims(role="admin"))

    assert _rejection(f"{header}.{promoted}.{signature}") == BAD_SIGNATURE


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = _signed(_claims(), secret="another secret of at least thirty-two bytes")

    assert _rejection(token) == BAD_SIGNATURE


def test_token_for_another_audience_is_rejected() -> None:
    token = _signed(_claims(aud="another-api"))

    assert (
        _rejection(token) == "the token was issued for another API; log in to this one"
    )


def test_audience_as_a_list_is_rejected() -> None:
    token = _signed(_claims(aud=["stonkmarket-api"]))

    assert (
        _rejection(token) == "the token was issued for another API; log in to this one"
    )


def test_token_from_another_issuer_is_rejected() -> None:
    token = _signed(_claims(iss="elsewhere"))

    assert _rejection(token) == (
        "the token was issued by another service; log in to this one"
    )


def test_token_expired_11_s_ago_is_rejected() -> None:
    later = dt.datetime(2024, 5, 1, 13, 0, 11, tzinfo=dt.UTC)

    assert _rejection(_signed(_claims()), now=later) == EXPIRED


def test_token_expired_exactly_the_leeway_ago_is_rejected() -> None:
    later = dt.datetime(2024, 5, 1, 13, 0, 10, tzinfo=dt.UTC)

    assert _rejection(_signed(_claims()), now=later) == EXPIRED


def test_token_expired_5_s_ago_is_accepted() -> None:
    later = dt.datetime(2024, 5, 1, 13, 0, 5, tzinfo=dt.UTC)

    claims = _tokens(later).read(_signed(_claims()))

    assert claims.expires_at == dt.datetime(2024, 5, 1, 13, 0, 0, tzinfo=dt.UTC)


def test_issued_token_expires_after_lifetime_and_leeway() -> None:
    clock = Clock(NOW)
    tokens = JwtTokens(SECRET, clock=clock)
    token, _ = tokens.issue("42", "ada", "viewer")

    clock.now = dt.datetime(2024, 5, 1, 13, 0, 9, tzinfo=dt.UTC)
    tokens.read(token)
    clock.now = dt.datetime(2024, 5, 1, 13, 0, 10, tzinfo=dt.UTC)

    with pytest.raises(InvalidTokenError, match=r"^the token has expired"):
        tokens.read(token)


def test_token_not_valid_for_30_s_is_rejected() -> None:
    token = _signed(_claims(nbf=NOW_SECONDS + 30))

    assert _rejection(token) == NOT_YET_VALID


def test_token_not_valid_for_5_s_is_accepted() -> None:
    token = _signed(_claims(nbf=NOW_SECONDS + 5))

    claims = _tokens().read(token)

    assert claims.not_before == dt.datetime(2024, 5, 1, 12, 0, 5, tzinfo=dt.UTC)


def test_future_issue_time_is_rejected() -> None:
    token = _signed(_claims(iat=NOW_SECONDS + 30))

    assert _rejection(token) == NOT_YET_VALID


@pytest.mark.parametrize(
    "claim", ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "role", "name"]
)
def test_token_missing_a_claim_is_rejected(claim: str) -> None:
    claims = _claims()
    del claims[claim]

    assert _rejection(_signed(claims)) == (
        f"the token is missing the '{claim}' claim; log in again"
    )


def test_token_with_a_null_claim_is_rejected() -> None:
    token = _signed(_claims(jti=None))

    assert _rejection(token) == "the token is missing the 'jti' claim; log in again"


def test_role_root_is_rejected() -> None:
    token = _signed(_claims(role="root"))

    assert _rejection(token) == (
        "the token has an invalid claim: Invalid enum value 'root' - at `$.role`;"
        " log in again"
    )


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"exp": str(HOUR_LATER_SECONDS)}, "Expected `int`, got `str` - at `$.exp`"),
        ({"nbf": 1_714_564_800.5}, "Expected `int`, got `float` - at `$.nbf`"),
        ({"iat": True}, "Expected `float`, got `bool` - at `$.iat`"),
        ({"exp": 10**13}, "Expected `int` <= 253402300799 - at `$.exp`"),
        ({"name": 7}, "Expected `str`, got `int` - at `$.name`"),
        ({"name": ""}, "Expected `str` of length >= 1 - at `$.name`"),
        ({"sub": ""}, "Expected `str` of length >= 1 - at `$.sub`"),
        ({"jti": ""}, "Expected `str` of length >= 1 - at `$.jti`"),
    ],
)
def test_claim_of_the_wrong_type_is_rejected(
    changes: dict[str, Any], detail: str
) -> None:
    token = _signed(_claims(**changes))

    assert (
        _rejection(token) == f"the token has an invalid claim: {detail}; log in again"
    )


@pytest.mark.parametrize(("claim", "value"), [("sub", 42), ("jti", 7)])
def test_non_string_sub_or_jti_is_rejected(claim: str, value: int) -> None:
    token = _signed(_claims(**{claim: value}))

    assert _rejection(token) == (
        "the token has an invalid 'sub' or 'jti' claim; log in again"
    )


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "a.b",
        "...",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
        f"{_segment({'alg': 'HS256'})}.{_segment({'a': 1})[:-2]}!!.sig",
    ],
)
def test_garbage_is_rejected_without_echoing_it(token: str) -> None:
    message = _rejection(token)

    assert message == MALFORMED
    if token:
        assert token not in message


@pytest.mark.parametrize("payload", [b"[1]", b"not json"])
def test_payload_not_a_json_object_is_rejected(payload: bytes) -> None:
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    token = _hand_signed({"alg": "HS256", "typ": "JWT"}, encoded)

    assert _rejection(token) == MALFORMED


def test_secret_under_32_bytes_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JwtTokens("x" * 31)


def test_issuing_an_unknown_role_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown role 'root'"):
        _tokens().issue("42", "ada", "root")  # type: ignore[arg-type]


def test_naive_clock_is_rejected() -> None:
    tokens = _tokens(dt.datetime(2024, 5, 1, 12, 0, 0))

    with pytest.raises(ValueError, match="aware datetime"):
        tokens.issue("42", "ada", "viewer")
