"""Two API processes share one login bucket through Valkey."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.security_config import SecurityConfig
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.http.app import create_app


def _bad_login(client: TestClient[Any], attempt: int) -> int:
    response = client.post(
        "/api/auth/login",
        json={"username": f"guess{attempt}", "password": "wrong-password"},
    )
    return response.status_code


def test_bad_logins_spread_over_two_processes_hit_one_limit(
    postgres_url: str, valkey_url: str, tmp_path: Path
) -> None:
    config = Config(
        data_dir=tmp_path,
        database_url=postgres_url,
        valkey_url=valkey_url,
        security=SecurityConfig(jwt_secret="one secret for both processes, 0123456789"),
    )
    first_app = create_app(build(config))
    second_app = create_app(build(config))
    with TestClient(app=first_app) as first, TestClient(app=second_app) as second:
        statuses = [
            _bad_login(first if attempt % 2 == 0 else second, attempt)
            for attempt in range(11)
        ]

    assert statuses == [401] * 10 + [429]
