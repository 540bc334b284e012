from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.http.app import create_app


@pytest.fixture
def container(config: Config) -> Container:
    return build(config)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(container)) as test_client:
        yield test_client
