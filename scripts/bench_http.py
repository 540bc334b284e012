"""Measure ranking requests per second from Valkey beside a bare Litestar endpoint.

Loads the sample into a fresh PostgreSQL database, serves the API with hot
copies in Valkey, and serves the same ranking bytes from a Litestar app with
one route and nothing else. One load generator, with keep-alive connections,
asks each server in turn; the ratio is the cost of the API's own path
(request ids, logging, the Valkey round trip, the ETag) over Litestar's.

    .venv/bin/python scripts/bench_http.py

Needs PostgreSQL on 127.0.0.1:5432 (BENCH_POSTGRES_URL) and Valkey or Redis on
127.0.0.1:6379 (BENCH_VALKEY_URL, database 14 by default, emptied).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import psycopg.sql
import valkey
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
VALKEY_URL = os.environ.get("BENCH_VALKEY_URL", "redis://127.0.0.1:6379/14")
PATH = "/api/dips/ranking"
CONNECTIONS = 16
SECONDS = 5.0

BARE_APP = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import uvicorn
    from litestar import Litestar, Response, get

    BODY = Path(sys.argv[1]).read_bytes()

    @get("/api/dips/ranking")
    async def ranking() -> Response[bytes]:
        return Response(BODY, media_type="application/json")

    uvicorn.run(Litestar([ranking]), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning")
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    url = make_url(ADMIN_URL)
    name = f"stonkmarket_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        dbname=url.database,
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        autocommit=True,
    )
    admin.execute(
        psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
    )
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)
            )
        )
        admin.close()


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base + PATH).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{command} did not serve {PATH}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


async def one_connection(port: int, until: float) -> int:
    """Send requests one after another on a keep-alive connection; count answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {PATH} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    answered = 0
    while time.monotonic() < until:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        answered += 1
    writer.close()
    return answered


async def load(port: int) -> float:
    """Requests per second over SECONDS from CONNECTIONS connections."""
    start = time.monotonic()
    counts = await asyncio.gather(
        *(one_connection(port, start + SECONDS) for _ in range(CONNECTIONS))
    )
    return sum(counts) / (time.monotonic() - start)


def main() -> None:
    valkey.Valkey.from_url(VALKEY_URL).flushdb()
    with fresh_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "VALKEY_URL": VALKEY_URL,
            "DATA_DIR": tmp,
            "LOG_FORMAT": "json",
        }
        print("loading the sample into PostgreSQL ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "stonkmarket", "demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        api_port, bare_port = free_port(), free_port()
        api_command = [sys.executable, "-m", "stonkmarket", "serve"]
        with serving(api_command, {**env, "PORT": str(api_port)}, api_port) as api:
            body = httpx.get(api + PATH).content
            body_file = Path(tmp) / "ranking.json"
            body_file.write_bytes(body)
            api_rate = asyncio.run(load(api_port))
        bare_command = [sys.executable, "-c", BARE_APP, str(body_file), str(bare_port)]
        with serving(bare_command, dict(os.environ), bare_port) as bare:
            assert httpx.get(bare + PATH).content == body
            bare_rate = asyncio.run(load(bare_port))
    valkey.Valkey.from_url(VALKEY_URL).flushdb()
    print(
        f"\nGET {PATH} ({len(body):,} bytes), {CONNECTIONS} keep-alive connections, "
        f"{SECONDS:g} s each, one uvicorn process per server:"
    )
    print(f"  API, ranking from Valkey   {api_rate:>8,.0f} requests/s")
    print(f"  bare Litestar, same bytes  {bare_rate:>8,.0f} requests/s")
    print(f"  ratio                      {api_rate / bare_rate:>8.2f}")


if __name__ == "__main__":
    main()
