"""Logging test clients in: the first admin of a fresh container, by default."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from stonkmarket.infrastructure.security_config import DEFAULT_ADMIN_PASS

ADMIN_USER = "admin"


def log_in(
    client: Any, username: str = ADMIN_USER, password: str = DEFAULT_ADMIN_PASS
) -> str:
    """Log `client` in, send its token with every later request, return the token."""
    client.headers.pop("Authorization", None)
    response = client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return token


@contextlib.contextmanager
def anonymously(client: httpx.Client | Any) -> Iterator[None]:
    """Send the requests inside the block without the client's token."""
    token = client.headers.pop("Authorization", None)
    try:
        yield
    finally:
        if token is not None:
            client.headers["Authorization"] = token


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free local port in a thread; yield its URL.

    Unlike the test clients, which pass requests to the app one at a time,
    a real server lets requests overlap.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
