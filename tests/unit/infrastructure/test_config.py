from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stonkmarket.infrastructure.config import Config, ConfigError, load_config

ENV_EXAMPLE = Path(__file__).parents[3] / ".env.example"

# A value for each variable that differs from its default.
CHANGED = {
    "DATABASE_URL": "postgresql://app:secret@db.internal:5432/stonkmarket",
    "DATA_DIR": "/srv/data",
    "HOST": "0.0.0.0",
    "PORT": "9001",
    "LOG_FORMAT": "json",
    "VALKEY_URL": "redis://cache.internal:6379/2",
    "ENVIRONMENT": "production",
    "JWT_SECRET": "a" * 40,
    "JWT_EXPIRE_MINUTES": "15",
    "ADMIN_USER": "root-of-all",
    "ADMIN_PASS": "a long passphrase of my own",
    "PUBLIC_READS": "false",
    "RATE_LIMIT_REQUESTS": "30",
    "RATE_LIMIT_WINDOW": "10",
    "TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.7",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    "PRICE_SOURCE": "sample",
    "SOURCE_CALLS_PER_SECOND": "0.5",
}

# Production needs a secret and a password of its own beside it.
PRODUCTION_NEEDS = {"JWT_SECRET": "s" * 40, "ADMIN_PASS": "another passphrase here"}


def _example_variables() -> list[str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    return [
        line.split("=", 1)[0] for line in lines if line and not line.startswith("#")
    ]


def test_every_variable_in_env_example_has_a_changed_value_here() -> None:
    assert sorted(_example_variables()) == sorted(CHANGED)


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_every_variable_in_env_example_is_read(name: str) -> None:
    companions = PRODUCTION_NEEDS if name == "ENVIRONMENT" else {}
    default = load_config(companions)

    changed = load_config({**companions, name: CHANGED[name]})

    assert changed != default


def test_no_environment_gives_the_embedded_defaults() -> None:
    assert load_config({}) == Config(
        data_dir=Path("var"),
        host="127.0.0.1",
        port=8000,
        log_format="console",
        schedule_jobs=True,
    )


def test_port_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="PORT must be a number from 1 to 65535, got 'http'"
    ):
        load_config({"PORT": "http"})


def test_unknown_price_source_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="PRICE_SOURCE must be yfinance or sample, got 'csv'"
    ):
        load_config({"PRICE_SOURCE": "csv"})


@pytest.mark.parametrize("text", ["0", "fast", "1e9"])
def test_call_rate_outside_its_range_is_refused(text: str) -> None:
    with pytest.raises(
        ConfigError,
        match=(
            f"SOURCE_CALLS_PER_SECOND must be a number from 0.01 to 1000, got '{text}'"
        ),
    ):
        load_config({"SOURCE_CALLS_PER_SECOND": text})


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="LOG_FORMAT must be console or json, got 'xml'"
    ):
        load_config({"LOG_FORMAT": "xml"})


def test_database_url_selects_postgres_for_both_stores() -> None:
    config = load_config({"DATABASE_URL": "postgresql://app:pw@10.0.0.5:5433/stonk"})

    assert config.uses_postgres
    assert config.views_url == "postgresql+asyncpg://app:pw@10.0.0.5:5433/stonk"


def test_database_url_of_another_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be a PostgreSQL URL"):
        load_config({"DATABASE_URL": "mysql://root@127.0.0.1/stonk"})


def test_valkey_url_of_another_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="VALKEY_URL must be a Valkey URL"):
        load_config({"VALKEY_URL": "http://127.0.0.1:6379"})


def test_compose_file_runs_two_api_replicas_beside_postgres_and_valkey() -> None:
    compose = yaml.safe_load((ENV_EXAMPLE.parent / "docker-compose.yml").read_text())
    services = compose["services"]

    assert {"postgres", "valkey", "migrate", "api"} <= set(services)
    assert services["api"]["deploy"]["replicas"] == 2
    api = services["api"]["environment"]
    assert api["VALKEY_URL"].startswith("redis://valkey")
    assert api["ENVIRONMENT"] == "production"
    assert api["JWT_SECRET"].startswith("${JWT_SECRET:?")
    assert "healthcheck" in services["valkey"]


def test_compose_runs_workers_and_scheduler() -> None:
    compose = yaml.safe_load((ENV_EXAMPLE.parent / "docker-compose.yml").read_text())
    services = compose["services"]

    assert services["worker"]["command"][:2] == ["stonkmarket", "worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["scheduler"]["command"] == ["stonkmarket", "scheduler"]
    for name in ("worker", "scheduler"):
        assert services[name]["environment"]["VALKEY_URL"].startswith("redis://valkey")


@pytest.mark.parametrize(
    ("database_url", "valkey_url", "shares"),
    [
        (None, None, False),
        ("postgresql://app@127.0.0.1/stonkmarket", None, False),
        (None, "redis://127.0.0.1:6379/0", False),
        ("postgresql://app@127.0.0.1/stonkmarket", "redis://127.0.0.1:6379/0", True),
    ],
)
def test_jobs_go_to_workers_only_with_both_servers(
    database_url: str | None, valkey_url: str | None, shares: bool
) -> None:
    config = Config(database_url=database_url, valkey_url=valkey_url)

    assert config.shares_jobs is shares
