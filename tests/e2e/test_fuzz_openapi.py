"""Fuzzing every operation of the API's own OpenAPI document with schemathesis.

Schemathesis reads /api/openapi.json from the app and generates valid and
invalid requests for each operation. It sends them to the app in process, in
one run with the first admin's token and in one without a token. No response
may be a server error, and each must match the status codes, media types,
headers and body schemas that the document declares. A run collects every
finding before it fails, so one failure lists each broken operation with a
curl command.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode, Response
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.python import asgi

from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.security_config import SecurityConfig
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.http.app import create_app
from tests.auth_support import log_in

SEED_TICKER = "FUZZ"
SEED_JOB = "cleanup"
SEED_CLOSES = (100.0, 104.0, 110.0, 97.0, 92.0, 95.0, 90.0, 88.0)
# Each operation gets up to this many valid and as many invalid requests.
# Operations with a ticker, job or run in the path get as many again with the
# seeded one, so that their 200 path is reached. Hypothesis sends fewer when an
# operation has few distinct inputs.
EXAMPLES_PER_PASS = 18
MIN_REQUESTS_PER_RUN = 500
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A login ignores the token, so only the anonymous run fuzzes it, and accepts
# the 429 after 10 attempts a window. Logging out would end the admin's session.
NOT_AS_ADMIN = frozenset(
    {"POST /api/auth/login", "POST /api/auth/logout", "POST /api/auth/logout-all"}
)
# Unwatching the seeded ticker would send the later operations to their 404.
NOT_PINNED = frozenset({"DELETE /api/symbols/{symbol}"})
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_PASS,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class FuzzTarget:
    schema: schemathesis.BaseSchema
    admin_token: str
    seeded: dict[str, str]


@dataclass(frozen=True)
class Finding:
    operation: str
    status: int
    failure: str
    curl: str
    body: str


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    findings: dict[tuple[str, int, str], Finding] = field(default_factory=dict)


@pytest.fixture
def fuzz_target(tmp_path: Path) -> Iterator[FuzzTarget]:
    """Build the app over a fresh embedded store with one watched, priced ticker."""
    security = SecurityConfig(rate_limit_requests=1_000_000)
    # The sample source keeps the price jobs a request starts offline.
    config = Config(
        data_dir=tmp_path / "data", security=security, price_source="sample"
    )
    app = create_app(build(config))
    try:
        schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        with asgi.get_client(app) as client:
            token = log_in(client)
            seeded = _seed(client)
        yield FuzzTarget(schema=schema, admin_token=token, seeded=seeded)
    finally:
        # The app keeps running between requests until its lifespan ends.
        # Schemathesis' pytest plugin ends it after each test too, but it may
        # be disabled.
        asgi.shutdown_lifespans()


def _seed(client: asgi.ASGIClient) -> dict[str, str]:
    """Watch and price a ticker and run a job; return the path values to pin."""
    first = dt.date.today() - dt.timedelta(days=len(SEED_CLOSES))
    bars = [
        {"date": (first + dt.timedelta(days=i)).isoformat(), "close": close}
        for i, close in enumerate(SEED_CLOSES)
    ]
    watched = client.post("/api/symbols", json={"ticker": SEED_TICKER})
    recorded = client.post(f"/api/symbols/{SEED_TICKER}/prices", json={"bars": bars})
    assert (watched.status_code, recorded.status_code) == (201, 201), recorded.text
    run = client.post(f"/api/cronjobs/{SEED_JOB}/run")
    assert run.status_code == 202, run.text
    run_id = run.json()["run_id"]
    return {
        "symbol": SEED_TICKER,
        "ticker": SEED_TICKER,
        "name": SEED_JOB,
        "run_id": run_id,
    }


@pytest.mark.parametrize("as_admin", [True, False], ids=["admin", "anonymous"])
def test_fuzzed_requests_meet_openapi_contract(
    fuzz_target: FuzzTarget, as_admin: bool
) -> None:
    token = fuzz_target.admin_token
    headers = {"Authorization": f"Bearer {token}"} if as_admin else {}
    tally = Tally()

    for result in fuzz_target.schema.get_all_operations():
        operation = result.ok()
        if as_admin and operation.label in NOT_AS_ADMIN:
            continue
        for mode, pinned in _passes(operation, fuzz_target.seeded):
            _fuzz(operation, mode, pinned, headers, tally)

    assert tally.requests >= MIN_REQUESTS_PER_RUN, _summary(tally)
    if as_admin:
        assert _reads_without_2xx(tally) == set(), _summary(tally)
    assert not tally.findings, _describe(tally.findings.values())


def _passes(
    operation: APIOperation, seeded: dict[str, str]
) -> Iterator[tuple[GenerationMode, dict[str, str]]]:
    yield GenerationMode.POSITIVE, {}
    yield GenerationMode.NEGATIVE, {}
    pinned = {
        name: value for name, value in seeded.items() if f"{{{name}}}" in operation.path
    }
    if pinned and operation.label not in NOT_PINNED:
        yield GenerationMode.POSITIVE, pinned


def _fuzz(
    operation: APIOperation,
    mode: GenerationMode,
    pinned: dict[str, str],
    headers: dict[str, str],
    tally: Tally,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned)

    @SETTINGS
    @hypothesis.given(case=strategy)
    def send(case: Case) -> None:
        response = case.call(headers=headers)
        tally.requests += 1
        tally.statuses[(operation.label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            _record(tally, case, response, group, headers)

    try:
        send()
    except Unsatisfiable:
        # An operation without parameters or body has nothing to make invalid.
        if mode is not GenerationMode.NEGATIVE:
            raise


def _record(
    tally: Tally,
    case: Case,
    response: Response,
    group: FailureGroup,
    headers: dict[str, str],
) -> None:
    """Keep the shortest request of each kind of failure per operation and status."""
    label, status = case.operation.label, response.status_code
    # Schemathesis masks the token as [Filtered] in the command.
    curl = case.as_curl_command(headers=headers)
    for failure in group.exceptions:
        if _is_accepted(failure, status):
            continue
        key = (label, status, failure.title)
        known = tally.findings.get(key)
        if known is None or len(curl) < len(known.curl):
            tally.findings[key] = Finding(
                label, status, str(failure), curl, response.text[:1000]
            )


def _is_accepted(failure: object, status: int) -> bool:
    """Tell whether the failure is an undeclared 5xx, which not_a_server_error
    reports already."""
    return isinstance(failure, UndefinedStatusCode) and status >= 500


def _reads_without_2xx(tally: Tally) -> set[str]:
    reads = {label for label, _ in tally.statuses if label.startswith("GET ")}
    succeeded = {label for label, status in tally.statuses if 200 <= status < 300}
    return reads - succeeded


def _summary(tally: Tally) -> str:
    lines = [f"{tally.requests} requests; statuses by operation:"]
    lines += [
        f"  {label} {status} x{count}"
        for (label, status), count in sorted(tally.statuses.items())
    ]
    return "\n".join(lines)


def _describe(findings: Iterable[Finding]) -> str:
    return "\n\n".join(
        f"{f.operation} returned {f.status}: {f.failure}\n{f.curl}\n{f.body}"
        for f in findings
    )
