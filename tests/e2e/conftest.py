from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.http.app import create_app
from tests.auth_support import log_in


@pytest.fixture
def container(config: Config) -> Container:
    return build(config)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    """A client logged in as the first admin."""
    with TestClient(app=create_app(container)) as test_client:
        log_in(test_client)
        yield test_client


@pytest.fixture
def anonymous_client(container: Container) -> Iterator[TestClient[Any]]:
    """A client that has not logged in."""
    with TestClient(app=create_app(container)) as test_client:
        yield test_client
