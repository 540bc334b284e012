"""Security settings: production rejects weak secrets, and errors name the variable."""

from __future__ import annotations

import ipaddress

import pytest

from stonkmarket.infrastructure.config import ConfigError, load_config

STRONG = {"JWT_SECRET": "k" * 32, "ADMIN_PASS": "correct horse battery staple"}


def test_production_accepts_strong_secret_and_password() -> None:
    config = load_config({"ENVIRONMENT": "production", **STRONG})

    assert config.security.is_production
    assert config.security.jwt_secret == "k" * 32


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"JWT_SECRET": ""}, "JWT_SECRET must be at least 32 bytes .*unset"),
        ({"JWT_SECRET": "k" * 31}, "JWT_SECRET must be at least 32 bytes .*too short"),
        ({"ADMIN_PASS": ""}, "ADMIN_PASS must be set to a password of your own"),
        ({"ADMIN_PASS": "stonkmarket-admin"}, "ADMIN_PASS must be set"),
    ],
)
def test_production_rejects_weak_secret_or_default_password(
    changes: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({"ENVIRONMENT": "production", **STRONG, **changes})


def test_secret_error_shows_how_to_generate_one() -> None:
    with pytest.raises(ConfigError, match=r"secrets\.token_urlsafe"):
        load_config({"ENVIRONMENT": "production"})


def test_development_uses_defaults() -> None:
    security = load_config({}).security

    assert (security.environment, security.jwt_secret) == ("development", None)
    assert (security.rate_limit_requests, security.rate_limit_window) == (120, 60)
    assert security.public_reads is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ENVIRONMENT", "staging", "ENVIRONMENT must be development or production"),
        ("JWT_EXPIRE_MINUTES", "0", "JWT_EXPIRE_MINUTES must be a whole number"),
        ("RATE_LIMIT_REQUESTS", "ten", "RATE_LIMIT_REQUESTS must be a whole number"),
        ("RATE_LIMIT_WINDOW", "-5", "RATE_LIMIT_WINDOW must be a whole number"),
        ("PUBLIC_READS", "maybe", "PUBLIC_READS must be true or false"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,proxy", "TRUSTED_PROXIES must list IP"),
        ("TRUSTED_PROXIES", "10.0.0.1/8", "has host bits set"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES must list IP"),
        ("CORS_ALLOWED_ORIGINS", "app.example.com", "CORS_ALLOWED_ORIGINS must list"),
        ("CORS_ALLOWED_ORIGINS", "https://a.example/x", "CORS_ALLOWED_ORIGINS"),
    ],
)
def test_invalid_value_error_names_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({name: value})


def test_trusted_proxies_become_networks() -> None:
    security = load_config(
        {"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1,2001:db8::/32,,"}
    ).security

    assert security.trusted_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("2001:db8::/32"),
    )
