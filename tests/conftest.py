"""Shared fixtures: a fresh PostgreSQL database, an emptied Valkey database.

The tests use PostgreSQL on 127.0.0.1:5432 (override with TEST_POSTGRES_URL)
and Valkey, or Redis, on 127.0.0.1:6379 database 15 (override with
TEST_VALKEY_URL). When a server cannot be reached its tests are skipped,
except under CI=true, where an unreachable server fails the run.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import psycopg.sql
import pytest
import valkey
from sqlalchemy.engine import make_url

from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.passwords import Argon2PasswordHasher
from stonkmarket.infrastructure.security_config import SecurityConfig
from stonkmarket.interfaces import bootstrap

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
VALKEY_URL = os.environ.get("TEST_VALKEY_URL", "redis://127.0.0.1:6379/15")


def unreachable(message: str) -> NoReturn:
    """Skip the test, or fail it under CI=true, because a server is missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(ADMIN_URL)
    return psycopg.connect(
        dbname=url.database,
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password or "",
        connect_timeout=3,
        autocommit=True,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    try:
        admin = _admin_connection()
    except psycopg.OperationalError as exc:
        unreachable(f"PostgreSQL at {ADMIN_URL} is unreachable: {exc}")
    name = f"stonkmarket_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(
            psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
        )
        try:
            yield (
                make_url(ADMIN_URL)
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            admin.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg.sql.Identifier(name)
                )
            )


@pytest.fixture
def valkey_url() -> Iterator[str]:
    """The URL of a Valkey database emptied before and after the test."""
    client = valkey.Valkey.from_url(VALKEY_URL, socket_connect_timeout=3)
    try:
        client.flushdb()
    except valkey.exceptions.ConnectionError as exc:
        unreachable(f"Valkey at {VALKEY_URL} is unreachable: {exc}")
    try:
        yield VALKEY_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords in milliseconds in containers the tests build.

    The hasher's own tests use the real parameters; here only the cost
    changes, so the many tests that log in stay fast.
    """
    cheap = functools.partial(
        Argon2PasswordHasher, time_cost=1, memory_cost=1024, parallelism=1
    )
    monkeypatch.setattr(bootstrap, "Argon2PasswordHasher", cheap)


# Tests send many requests as one admin; the limits have tests of their own.
TEST_SECURITY = SecurityConfig(rate_limit_requests=100_000)


@pytest.fixture(params=["embedded", "postgres"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """The configuration of each profile: tests that use it run on both."""
    data_dir = tmp_path / "data"
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return Config(
            data_dir=data_dir,
            database_url=url,
            security=TEST_SECURITY,
            price_source="sample",
        )
    # The sample source keeps every job a test starts offline.
    return Config(data_dir=data_dir, security=TEST_SECURITY, price_source="sample")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnValkey:
    """A Valkey-protocol server of one test's own, which the test may stop and
    start again, empty, on the same port."""

    def __init__(self, server: str, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.command = [server, "--port", str(self.port), "--bind", "127.0.0.1"]
        self.command += ["--save", "", "--appendonly", "no", "--dir", str(folder)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                valkey.Valkey.from_url(self.url).ping()
                return
            except valkey.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_valkey(tmp_path: Path) -> Iterator[OwnValkey]:
    """A Valkey-protocol server of this test's own, started."""
    server = shutil.which("valkey-server") or shutil.which("redis-server")
    if server is None:
        unreachable("no valkey-server or redis-server to start")
    own = OwnValkey(server, tmp_path)
    own.start()
    yield own
    own.stop()
