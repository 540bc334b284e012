"""The job queue's listener across a Valkey outage, on a server of the test's own."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from structlog.testing import capture_logs
from taskiq.api import run_receiver_task

from stonkmarket.infrastructure import task_broker
from stonkmarket.infrastructure.task_broker import make_broker
from tests.conftest import OwnValkey


@pytest.fixture
def fresh_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the module a logger not cached under an earlier test's configuration."""
    logger = structlog.get_logger(task_broker.__name__)
    monkeypatch.setattr(task_broker, "log", logger)


@pytest.mark.usefixtures("fresh_logger")
def test_listener_waits_out_an_outage_and_resumes(own_valkey: OwnValkey) -> None:
    broker = make_broker(own_valkey.url)
    done: asyncio.Queue[str] = asyncio.Queue()

    async def note(text: str) -> None:
        done.put_nowait(text)

    task = broker.register_task(note, task_name="test.note")

    async def scenario() -> tuple[str, str]:
        await broker.startup()
        receiver = asyncio.create_task(run_receiver_task(broker))
        await task.kiq("before")
        before = await asyncio.wait_for(done.get(), 10)
        own_valkey.stop()
        await asyncio.sleep(3)
        # Restarted empty: the stream and its consumer group are gone.
        own_valkey.start()
        await asyncio.sleep(3)
        await task.kiq("after")
        after = await asyncio.wait_for(done.get(), 40)
        receiver.cancel()
        await asyncio.wait({receiver}, timeout=5)
        await broker.shutdown()
        return before, after

    with capture_logs() as logs:
        received = asyncio.run(scenario())

    warnings = [line for line in logs if line["event"] == "job_queue_unavailable"]
    assert received == ("before", "after")
    # Waits of 0.5, 1 and 2 s fit in the 3 s outage, with at most one more
    # before the restarted server accepts connections.
    assert 2 <= len(warnings) <= 5
