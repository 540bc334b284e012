from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from stonkmarket.infrastructure.config import Config
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.http.app import create_app


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build(Config(data_dir=tmp_path / "data"))


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(container)) as test_client:
        yield test_client
