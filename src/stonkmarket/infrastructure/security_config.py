"""Security settings read from the environment: accounts, tokens, rate limits, CORS."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import msgspec

# The first admin's password when ADMIN_PASS is unset. Production rejects it.
DEFAULT_ADMIN_PASS = "stonkmarket-admin"
MIN_SECRET_BYTES = 32
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SecurityConfigError(Exception):
    """Raised when a security environment variable has an invalid value."""


class SecurityConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Login, token lifetime, rate-limit, proxy and CORS settings."""

    environment: str = "development"
    jwt_secret: str | None = None
    jwt_expire_minutes: int = 60
    admin_user: str = "admin"
    admin_pass: str = DEFAULT_ADMIN_PASS
    public_reads: bool = True
    rate_limit_requests: int = 120
    # Seconds.
    rate_limit_window: int = 60
    trusted_proxies: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return tuple(ipaddress.ip_network(p) for p in self.trusted_proxies)


def load_security(env: Mapping[str, str]) -> SecurityConfig:
    """Parse and validate the security variables, or raise SecurityConfigError.

    With ENVIRONMENT=production, a missing or short JWT_SECRET and the default
    ADMIN_PASS are rejected too.
    """
    environment = env.get("ENVIRONMENT", "development")
    if environment not in ("development", "production"):
        raise SecurityConfigError(
            f"ENVIRONMENT must be development or production, got {environment!r}"
        )
    config = SecurityConfig(
        environment=environment,
        jwt_secret=env.get("JWT_SECRET") or None,
        jwt_expire_minutes=_whole(env, "JWT_EXPIRE_MINUTES", 60, 1, 7 * 24 * 60),
        admin_user=env.get("ADMIN_USER") or "admin",
        admin_pass=env.get("ADMIN_PASS") or DEFAULT_ADMIN_PASS,
        public_reads=_flag(env, "PUBLIC_READS", default=True),
        rate_limit_requests=_whole(env, "RATE_LIMIT_REQUESTS", 120, 1, 1_000_000),
        rate_limit_window=_whole(env, "RATE_LIMIT_WINDOW", 60, 1, 86_400),
        trusted_proxies=_list(env, "TRUSTED_PROXIES"),
        cors_allowed_origins=_list(env, "CORS_ALLOWED_ORIGINS"),
    )
    _check_proxies(config.trusted_proxies)
    _check_origins(config.cors_allowed_origins)
    if config.is_production:
        check_production(config)
    return config


def check_production(config: SecurityConfig) -> None:
    """Raise SecurityConfigError for a weak JWT secret or the default admin password."""
    secret = config.jwt_secret or ""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise SecurityConfigError(
            f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes when "
            f"ENVIRONMENT=production ({'unset' if not secret else 'too short'}); "
            f"generate one with: {GENERATE_SECRET}"
        )
    if config.admin_pass == DEFAULT_ADMIN_PASS:
        raise SecurityConfigError(
            "ADMIN_PASS must be set to a password of your own when "
            "ENVIRONMENT=production; the built-in default is public"
        )


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise SecurityConfigError(
            f"{name} must be a whole number from {low} to {high}, got {text!r}"
        )
    return int(text)


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise SecurityConfigError(f"{name} must be true or false, got {text!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _check_proxies(proxies: tuple[str, ...]) -> None:
    """Reject an entry that is not an address or a network.

    A network with host bits set, such as 10.0.0.1/8, is rejected too: it is
    more likely a typo than meant.
    """
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy)
        except ValueError as exc:
            raise SecurityConfigError(
                "TRUSTED_PROXIES must list IP addresses or networks such as "
                f"10.0.0.0/8, separated by commas; {proxy!r} is neither ({exc})"
            ) from exc


def _check_origins(origins: tuple[str, ...]) -> None:
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise SecurityConfigError(
                "CORS_ALLOWED_ORIGINS must list origins such as "
                f"https://app.example.com, separated by commas; got {origin!r}"
            )
