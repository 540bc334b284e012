"""Logging in and out, forged and stale tokens, roles, and account changes."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import structlog
from litestar.testing import TestClient

from stonkmarket.application.account_lookup import find_account
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher
from stonkmarket.infrastructure.security_config import (
    DEFAULT_ADMIN_PASS,
    SecurityConfig,
)
from stonkmarket.interfaces.bootstrap import Container, build, jwt_secret
from stonkmarket.interfaces.http.app import create_app
from tests.auth_support import ADMIN_USER, anonymously, log_in, serving

Client = TestClient[Any]
VIEWER_PASS = "a viewer's own passphrase"


def _admin_id(client: Client) -> str:
    return str(uuid.UUID(_claims(client)["sub"]))


def _claims(client: Client) -> dict[str, Any]:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _forge(container: Container, changes: dict[str, Any], **options: Any) -> str:
    """Sign the admin's claims with `changes`, as an attacker or a bug might."""
    now = dt.datetime.now(dt.UTC).timestamp()
    claims = {
        "iss": "stonkmarket",
        "aud": "stonkmarket-api",
        "sub": options.pop("sub"),
        "name": ADMIN_USER,
        "role": "admin",
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 600,
        "jti": uuid.uuid4().hex,
        **changes,
    }
    secret = options.pop("secret", jwt_secret(container.config))
    algorithm = options.pop("algorithm", "HS256")
    return jwt.encode(claims, secret, algorithm=algorithm)


def _me(client: Client, token: str) -> Any:
    with anonymously(client):
        return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def _unsigned(token: str) -> str:
    """The token's claims under an `alg: none` header and no signature."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode())
    payload = token.split(".")[1]
    return f"{header.decode().rstrip('=')}.{payload}."


NOW = int(dt.datetime.now(dt.UTC).timestamp())
FORGERIES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "another algorithm": ({}, {"algorithm": "HS512"}),
    "a wrong secret": ({}, {"secret": "w" * 40}),
    "a wrong audience": ({"aud": "another-api"}, {}),
    "a wrong issuer": ({"iss": "someone-else"}, {}),
    "expired beyond the leeway": (
        {"exp": int(dt.datetime.now(dt.UTC).timestamp()) - 15},
        {},
    ),
    "not valid for a minute": (
        {"nbf": int(dt.datetime.now(dt.UTC).timestamp()) + 60},
        {},
    ),
    "a stranger's account": ({"sub": str(uuid.uuid4())}, {}),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_or_stale_token_gets_401(
    client: Client, container: Container, forgery: str
) -> None:
    changes, options = FORGERIES[forgery]
    token = _forge(container, changes, sub=_admin_id(client), **options)

    response = _me(client, token)

    assert response.status_code == 401
    assert response.json()["error"] == "INVALID_TOKEN"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_unsigned_token_gets_401(client: Client) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")

    assert _me(client, _unsigned(token)).status_code == 401


def test_changed_token_payload_gets_401(client: Client) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["name"] = "someone"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()

    response = _me(client, f"{header}.{changed.rstrip('=')}.{signature}")

    assert response.status_code == 401


def test_token_within_expiry_leeway_is_accepted(
    client: Client, container: Container
) -> None:
    expired = int(dt.datetime.now(dt.UTC).timestamp()) - 5
    token = _forge(container, {"exp": expired}, sub=_admin_id(client))

    response = _me(client, token)

    assert response.status_code == 200
    assert response.json()["username"] == ADMIN_USER


def test_logged_out_token_gets_401(client: Client) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")

    assert client.post("/api/auth/logout").status_code == 204

    assert _me(client, token).status_code == 401
    assert "logged out" in _me(client, token).json()["message"]


def test_logout_all_revokes_older_tokens(client: Client) -> None:
    first = client.headers["Authorization"].removeprefix("Bearer ")
    second = log_in(client)

    assert client.post("/api/auth/logout-all").status_code == 204

    assert _me(client, first).status_code == 401
    assert _me(client, second).status_code == 401
    assert _me(client, log_in(client)).status_code == 200


def test_password_change_revokes_and_reissues_tokens(
    client: Client,
) -> None:
    old = client.headers["Authorization"].removeprefix("Bearer ")

    changed = client.put(
        "/api/auth/credentials",
        json={"current_password": DEFAULT_ADMIN_PASS, "new_password": VIEWER_PASS},
    )

    assert changed.status_code == 200
    assert _me(client, old).status_code == 401
    assert _me(client, changed.json()["access_token"]).status_code == 200
    with anonymously(client):
        rejected = client.post(
            "/api/auth/login",
            json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
        )
    assert rejected.status_code == 401
    log_in(client, ADMIN_USER, VIEWER_PASS)


def test_wrong_current_password_changes_nothing(client: Client) -> None:
    rejected = client.put(
        "/api/auth/credentials",
        json={"current_password": "not the password", "new_password": VIEWER_PASS},
    )

    assert rejected.status_code == 403
    assert rejected.json()["details"]["field"] == "current_password"
    assert client.get("/api/auth/me").status_code == 200


@pytest.mark.parametrize(
    ("new_password", "rule"),
    [
        ("short", "12"),
        ("admin", "12"),
        ("x" * 129, "128"),
        ("password1234", "common"),
    ],
)
def test_weak_new_password_rejected_with_rule(
    client: Client, new_password: str, rule: str
) -> None:
    rejected = client.put(
        "/api/auth/credentials",
        json={"current_password": DEFAULT_ADMIN_PASS, "new_password": new_password},
    )

    assert rejected.status_code == 422
    assert rejected.json()["details"]["field"] == "new_password"
    assert rule in rejected.json()["message"]


def test_password_equal_to_username_is_rejected(client: Client) -> None:
    client.post(
        "/api/users",
        json={"username": "longusername1", "password": VIEWER_PASS, "role": "viewer"},
    )
    log_in(client, "longusername1", VIEWER_PASS)

    rejected = client.put(
        "/api/auth/credentials",
        json={"current_password": VIEWER_PASS, "new_password": "LongUserName1"},
    )

    assert rejected.status_code == 422
    assert "username" in rejected.json()["message"]


def test_username_change_keeps_account_history(client: Client) -> None:
    renamed = client.put(
        "/api/auth/credentials",
        json={"current_password": DEFAULT_ADMIN_PASS, "new_username": "chief"},
    )
    log_in(client, "chief", DEFAULT_ADMIN_PASS)

    with anonymously(client):
        old_name = client.post(
            "/api/auth/login",
            json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
        )
    audit = client.get("/api/audit").json()["entries"]

    assert renamed.status_code == 200
    assert old_name.status_code == 401
    assert client.get("/api/auth/me").json()["username"] == "chief"
    actions = [(e["action"], e["before"], e["after"]) for e in audit]
    assert ("username_changed", {"username": "admin"}, {"username": "chief"}) in actions
    assert any(a == "account_registered" for a, _, _ in actions)


def test_audit_and_users_omit_passwords_and_hashes(
    client: Client,
) -> None:
    client.put(
        "/api/auth/credentials",
        json={"current_password": DEFAULT_ADMIN_PASS, "new_password": VIEWER_PASS},
    )
    log_in(client, ADMIN_USER, VIEWER_PASS)

    everything = client.get("/api/audit").text + client.get("/api/users").text

    assert "argon2" not in everything
    assert VIEWER_PASS not in everything
    assert DEFAULT_ADMIN_PASS not in everything


def test_unknown_user_login_matches_wrong_password(
    client: Client, container: Container
) -> None:
    verified: list[str] = []

    class Counting(Argon2PasswordHasher):
        def verify(self, password_hash: str, password: str) -> bool:
            verified.append(password)
            return super().verify(password_hash, password)

    container.hasher = Counting(time_cost=1, memory_cost=1024, parallelism=1)
    with anonymously(client):
        unknown = client.post(
            "/api/auth/login", json={"username": "nobody", "password": "whatever123"}
        )
        wrong = client.post(
            "/api/auth/login", json={"username": ADMIN_USER, "password": "wrong123"}
        )

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["message"] == wrong.json()["message"]
    assert verified == ["whatever123", "wrong123"]


def test_login_logs_username_not_password(client: Client) -> None:
    with structlog.testing.capture_logs() as lines, anonymously(client):
        client.post(
            "/api/auth/login", json={"username": ADMIN_USER, "password": "wrong-pass"}
        )
        client.post(
            "/api/auth/login",
            json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
        )

    security = [line for line in lines if line["event"].startswith("login_")]
    assert [line["event"] for line in security] == ["login_failed", "login_succeeded"]
    assert all(line["username"] == ADMIN_USER for line in security)
    assert "wrong-pass" not in repr(lines)
    assert DEFAULT_ADMIN_PASS not in repr(lines)


def _bad_logins(client: Client, count: int, **headers: str) -> list[int]:
    return [
        client.post(
            "/api/auth/login",
            json={"username": f"user{i}", "password": "wrong-password"},
            headers={k: v.format(i=i) for k, v in headers.items()},
        ).status_code
        for i in range(count)
    ]


def test_eleventh_login_from_address_gets_429(
    anonymous_client: Client,
) -> None:
    statuses = _bad_logins(anonymous_client, 11)
    rejected = anonymous_client.post(
        "/api/auth/login", json={"username": "another", "password": "x"}
    )

    assert statuses == [401] * 10 + [429]
    assert int(rejected.headers["retry-after"]) >= 1
    assert rejected.headers["ratelimit-limit"] == "10"
    assert rejected.headers["ratelimit-remaining"] == "0"


def test_untrusted_forwarded_for_keeps_one_bucket(
    anonymous_client: Client,
) -> None:
    statuses = _bad_logins(anonymous_client, 11, x_forwarded_for="203.0.113.{i}")

    assert statuses == [401] * 10 + [429]


def test_anyone_reads_only_admin_writes(client: Client) -> None:
    client.post(
        "/api/users",
        json={"username": "reader", "password": VIEWER_PASS, "role": "viewer"},
    )
    with anonymously(client):
        anonymous_read = client.get("/api/dips/ranking")
        anonymous_write = client.post("/api/symbols", json={"ticker": "KO"})
        anonymous_audit = client.get("/api/audit")
    log_in(client, "reader", VIEWER_PASS)
    viewer_read = client.get("/api/dips/ranking")
    viewer_write = client.post("/api/symbols", json={"ticker": "KO"})
    viewer_users = client.get("/api/users")

    assert anonymous_read.status_code == 200
    assert anonymous_write.status_code == 401
    assert anonymous_audit.status_code == 401
    assert viewer_read.status_code == 200
    assert (viewer_write.status_code, viewer_write.json()["error"]) == (
        403,
        "FORBIDDEN",
    )
    assert viewer_users.status_code == 403


def test_promoted_viewer_may_write(client: Client) -> None:
    client.post(
        "/api/users",
        json={"username": "reader", "password": VIEWER_PASS, "role": "viewer"},
    )
    promoted = client.put("/api/users/reader/role", json={"role": "admin"})
    log_in(client, "reader", VIEWER_PASS)

    assert promoted.json()["role"] == "admin"
    assert client.post("/api/symbols", json={"ticker": "KO"}).status_code == 201


def test_demotion_applies_on_next_request(client: Client) -> None:
    client.post(
        "/api/users",
        json={"username": "deputy", "password": VIEWER_PASS, "role": "admin"},
    )
    admin_token = client.headers["Authorization"]
    deputy_token = log_in(client, "deputy", VIEWER_PASS)
    client.headers["Authorization"] = admin_token

    client.put("/api/users/deputy/role", json={"role": "viewer"})
    client.headers["Authorization"] = f"Bearer {deputy_token}"

    assert client.post("/api/symbols", json={"ticker": "KO"}).status_code == 403


def test_taken_username_gets_409(client: Client) -> None:
    body = {"username": "reader", "password": VIEWER_PASS, "role": "viewer"}

    assert client.post("/api/users", json=body).status_code == 201
    assert client.post("/api/users", json=body).status_code == 409


def test_login_cookie_authenticates_with_strict_flags(
    client: Client,
) -> None:
    with anonymously(client):
        login = client.post(
            "/api/auth/login",
            json={
                "username": ADMIN_USER,
                "password": DEFAULT_ADMIN_PASS,
                "cookie": True,
            },
        )
        cookie = login.headers["set-cookie"]
        me = client.get("/api/auth/me")
        client.cookies.clear()

    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Path=/api" in cookie
    assert me.status_code == 200


def test_basic_authorization_header_gets_401(client: Client) -> None:
    with anonymously(client):
        response = client.get(
            "/api/auth/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}
        )

    assert response.status_code == 401


def test_concurrent_password_changes_get_one_409(
    container: Container,
) -> None:
    """Both requests hash their new password before either saves, so both
    changes start from the same account version. The event store appends only
    one of them, and the other request gets 409."""
    both_hashing = threading.Barrier(2, timeout=10)

    class HashTogether(Argon2PasswordHasher):
        armed = False  # the constructor hashes once, alone

        def hash(self, password: str) -> str:
            if self.armed:
                both_hashing.wait()
            return super().hash(password)

    async def change_twice(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base) as client:
            login = await client.post(
                "/api/auth/login",
                json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            hasher = HashTogether(time_cost=1, memory_cost=1024, parallelism=1)
            hasher.armed = True
            container.hasher = hasher
            responses = await asyncio.gather(
                *(
                    client.put(
                        "/api/auth/credentials",
                        json={
                            "current_password": DEFAULT_ADMIN_PASS,
                            "new_password": f"new passphrase number {i}",
                        },
                    )
                    for i in range(2)
                )
            )
        return sorted(r.status_code for r in responses)

    with serving(create_app(container)) as base:
        statuses = asyncio.run(change_twice(base))

    reopened = build(container.config)
    account = find_account(reopened.store, ADMIN_USER)
    reopened.store.close()
    assert statuses == [200, 409]
    assert account is not None
    # Registered, then exactly one password change.
    assert account.version == 2


@pytest.fixture
def private_client(tmp_path: Path) -> Iterator[Client]:
    config = Config(data_dir=tmp_path, security=SecurityConfig(public_reads=False))
    with TestClient(app=create_app(build(config))) as client:
        yield client


def test_private_reads_need_token(private_client: Client) -> None:
    rejected = private_client.get("/api/dips/ranking")
    log_in(private_client)

    assert rejected.status_code == 401
    assert private_client.get("/api/dips/ranking").status_code == 200
    assert private_client.get("/api/health").status_code == 200


def test_first_admin_not_reset_on_restart(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path)
    with TestClient(app=create_app(build(config))) as client:
        log_in(client)
        client.put(
            "/api/auth/credentials",
            json={"current_password": DEFAULT_ADMIN_PASS, "new_password": VIEWER_PASS},
        )
    with TestClient(app=create_app(build(config))) as client:
        with_default = client.post(
            "/api/auth/login",
            json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
        )
        log_in(client, ADMIN_USER, VIEWER_PASS)
        accounts = client.get("/api/users").json()

    assert with_default.status_code == 401
    assert [a["username"] for a in accounts] == [ADMIN_USER]


def test_bad_token_requests_use_up_rate_limit(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, security=SecurityConfig(rate_limit_requests=5))
    with TestClient(app=create_app(build(config))) as client:
        statuses = [
            client.get(
                "/api/auth/me", headers={"Authorization": "Bearer not.a.token"}
            ).status_code
            for _ in range(6)
        ]

    assert statuses == [401] * 5 + [429]


def test_empty_credentials_change_is_rejected(client: Client) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")

    rejected = client.put(
        "/api/auth/credentials", json={"current_password": DEFAULT_ADMIN_PASS}
    )

    assert rejected.status_code == 400
    assert rejected.json()["details"]["field"] == "new_password"
    assert _me(client, token).status_code == 200


def test_logout_survives_restart_and_is_audited(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path)
    with TestClient(app=create_app(build(config))) as client:
        token = log_in(client)
        assert client.post("/api/auth/logout").status_code == 204
    with TestClient(app=create_app(build(config))) as client:
        rejected = _me(client, token)
        log_in(client)
        audit = client.get("/api/audit", params={"subject": "account:admin"}).json()

    assert rejected.status_code == 401
    assert [e["action"] for e in audit["entries"]][:1] == ["logged_out"]
