"""Security headers, CORS from the configured origins only, and the body limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.security_config import SecurityConfig
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.http.app import MAX_BODY_BYTES, create_app

Client = TestClient[Any]
ORIGIN = "https://app.example.com"


@pytest.fixture
def production_client(tmp_path: Path) -> Iterator[Client]:
    security = SecurityConfig(
        environment="production",
        jwt_secret="p" * 40,
        admin_pass="a passphrase of our own",
        cors_allowed_origins=(ORIGIN,),
    )
    config = Config(data_dir=tmp_path, security=security)
    with TestClient(app=create_app(build(config))) as client:
        yield client


def test_every_response_sets_security_headers(
    production_client: Client,
) -> None:
    for path in ("/api/dips/ranking", "/api/symbols/NOPE", "/api/no-such-route"):
        headers = production_client.get(path).headers

        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        assert headers["strict-transport-security"].startswith("max-age=63072000")


def test_development_sends_no_hsts(client: Client) -> None:
    assert "strict-transport-security" not in client.get("/api/health").headers


def test_docs_page_allows_swagger_cdn(production_client: Client) -> None:
    page = production_client.get("/api/docs", follow_redirects=True)

    policy = page.headers["content-security-policy"]
    assert page.status_code == 200
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in policy
    assert "cdn.jsdelivr.net/npm/swagger-ui-dist" in page.text


def test_cors_allows_configured_origin_only(production_client: Client) -> None:
    allowed = production_client.options(
        "/api/dips/ranking",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    rejected = production_client.options(
        "/api/dips/ranking",
        headers={
            "Origin": "https://evil.example.com",
            "Access-Control-Request-Method": "GET",
        },
    )
    simple = production_client.get(
        "/api/dips/ranking", headers={"Origin": "https://evil.example.com"}
    )

    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in rejected.headers
    assert "access-control-allow-origin" not in simple.headers


def test_cors_off_without_configured_origins(client: Client) -> None:
    response = client.get("/api/dips/ranking", headers={"Origin": ORIGIN})

    assert "access-control-allow-origin" not in response.headers


def test_oversized_body_gets_413(client: Client) -> None:
    response = client.post(
        "/api/symbols",
        content=b"{" + b" " * MAX_BODY_BYTES + b"}",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "REQUEST_ENTITY_TOO_LARGE"
