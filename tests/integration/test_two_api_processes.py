"""Two API processes on one PostgreSQL database and one Valkey, as in production.

Each process runs its own projector. The advisory lock lets one apply a batch
at a time while the other waits, and both return the same body for every read.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.infrastructure.projection_runner import RUNNER_LOCK
from stonkmarket.infrastructure.security_config import DEFAULT_ADMIN_PASS
from tests.auth_support import ADMIN_USER

READS = [
    "/api/dips/ranking",
    "/api/dips/ranking?window=30",
    "/api/dipfinder/signals/KO",
    "/api/dipfinder/signals?tickers=KO,PG,JNJ",
    "/api/dips/PG/chart?days=100",
    "/api/dipfinder/config",
    "/api/symbols",
    "/api/audit",
    "/api/projections",
]

# Lists the holders of the runner's advisory lock in this test's database only,
# because other tests use databases of their own. pg_locks shows a bigint key
# with its high half in classid and its low half in objid.
LOCK_HOLDERS = """
SELECT pid, granted FROM pg_locks
WHERE locktype = 'advisory'
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND ((classid::bigint << 32) | objid::bigint) = %(key)s
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_apis(postgres_url: str, valkey_url: str, tmp_path: Path) -> Iterator[list[str]]:
    processes, urls = [], []
    for name in ("a", "b"):
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": postgres_url,
            "VALKEY_URL": valkey_url,
            "PORT": str(port),
            "DATA_DIR": str(tmp_path / name),
            "LOG_FORMAT": "json",
            # Both processes sign and check tokens with one secret.
            "JWT_SECRET": "shared-secret-of-the-two-processes-0123456789",
        }
        with (tmp_path / f"{name}.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "stonkmarket", "serve"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            _wait_ready(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become ready within 60 s")


def _admin_headers(url: str) -> dict[str, str]:
    login = httpx.post(
        f"{url}/api/auth/login",
        json={"username": ADMIN_USER, "password": DEFAULT_ADMIN_PASS},
        timeout=30,
    )
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


class LockWatch:
    """Samples the holders of the runner's lock until stopped."""

    def __init__(self, postgres_url: str) -> None:
        self.postgres_url = postgres_url
        self.samples: list[list[tuple[int, bool]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        with psycopg.connect(self.postgres_url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(LOCK_HOLDERS, {"key": RUNNER_LOCK}).fetchall()
                self.samples.append(
                    [(int(pid), bool(granted)) for pid, granted in rows]
                )
                time.sleep(0.002)


def test_api_processes_take_turns_and_agree(
    two_apis: list[str], postgres_url: str
) -> None:
    first, second = two_apis
    auth = _admin_headers(first)
    source = SamplePriceSource()
    with LockWatch(postgres_url) as watch:
        for index, ticker in enumerate(("KO", "PG", "JNJ")):
            # Writes go to both processes, as a load balancer would send them.
            writer = two_apis[index % 2]
            httpx.post(f"{writer}/api/symbols", json={"ticker": ticker}, headers=auth)
            batch = source.fetch(ticker, start=dt.date(2021, 1, 1))
            bars = [
                {"date": day.isoformat(), "close": close}
                for day, close in zip(batch.dates, batch.closes, strict=True)
            ]
            response = httpx.post(
                f"{writer}/api/symbols/{ticker}/prices",
                json={"bars": bars},
                headers=auth,
                timeout=60,
            )
            assert response.status_code == 201, response.text
        httpx.put(
            f"{second}/api/dipfinder/config", json={"min_dip_abs": 0.08}, headers=auth
        )

    bodies = {
        url: [httpx.get(url + path, headers=auth).content for path in READS]
        for url in two_apis
    }

    granted = [sum(1 for _, ok in sample if ok) for sample in watch.samples]
    assert max(granted) == 1  # at least one sample saw a holder, none saw two
    assert bodies[first] == bodies[second]
    assert b'"lag":0' in bodies[first][-1]
    assert b'"min_dip_abs":0.08' in bodies[first][READS.index("/api/dipfinder/config")]


def test_projectors_wait_for_lock_then_apply(
    two_apis: list[str], postgres_url: str
) -> None:
    first, second = two_apis
    with psycopg.connect(postgres_url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": RUNNER_LOCK})
        outcome: list[httpx.Response] = []
        auth = _admin_headers(first)
        writer = threading.Thread(
            target=lambda: outcome.append(
                httpx.post(
                    f"{first}/api/symbols",
                    json={"ticker": "KO"},
                    headers=auth,
                    timeout=30,
                )
            )
        )
        writer.start()
        deadline = time.monotonic() + 5
        waiting: list[tuple[int, bool]] = []
        while time.monotonic() < deadline and len(waiting) < 2:
            rows = holder.execute(LOCK_HOLDERS, {"key": RUNNER_LOCK}).fetchall()
            waiting = [(pid, granted) for pid, granted in rows if not granted]
            time.sleep(0.05)
        symbols_while_locked = httpx.get(f"{second}/api/symbols").json()
        holder.rollback()  # releases the lock
    writer.join()

    assert len(waiting) == 2  # one projector of each process
    assert symbols_while_locked == []
    assert outcome[0].status_code == 201
    assert [s["ticker"] for s in httpx.get(f"{second}/api/symbols").json()] == ["KO"]


def test_served_api_ignores_untrusted_forwarded_for(
    two_apis: list[str],
) -> None:
    """The server must not trust the header either, although uvicorn trusts it
    from a local peer by default."""
    first, second = two_apis
    statuses = [
        httpx.post(
            f"{(first, second)[attempt % 2]}/api/auth/login",
            json={"username": f"guess{attempt}", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"198.51.100.{attempt}"},
            timeout=30,
        ).status_code
        for attempt in range(11)
    ]

    assert statuses == [401] * 10 + [429]
