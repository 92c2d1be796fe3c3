"""Property-based fuzzing of the served API: schemathesis generates requests from /openapi.json.

Valid and invalid requests, for every operation, against the app under uvicorn on a real
PostgreSQL: no response may be a server error or break the document's schemas.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.app import create_app
from backend.conftest import live_server
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer
from servicekit.embedded import embedded_redis

ADMIN = bearer("backend")

EXAMPLES_PER_OPERATION_AND_MODE = 84  # 6 operations x 2 modes: 1,008 cases
# Not negative_data_rejection: FastAPI parses leniently (offset=0.0 is the integer 0).
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    status_code_conformance,
]


@pytest.fixture(scope="module")
def base_url(migrated_database_url: str) -> Iterator[str]:
    """The app under uvicorn; an embedded Redis keeps the fuzzer's events to itself."""
    with embedded_redis() as redis_url, live_server(
        create_app(migrated_database_url, redis_url, keys=TEST_KEYS)
    ) as url:
        yield url


def test_no_server_errors_and_no_schema_violations(base_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the served document is invalid: {result}"
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                deadline=None,
                derandomize=True,  # the same cases on every run
                phases=[Phase.generate],  # no shrinking: a failure is reported as found, fast
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                # An admin's token: every operation is open to it, so the fuzzer reaches them all.
                response = case.call(base_url=base_url, headers=ADMIN)
                statuses[(operation.label, response.status_code)] += 1
                case.validate_response(response, checks=CHECKS)

            check()
    total = sum(statuses.values())
    print(f"\n{total} cases; (operation, status): count")
    for (label, status), count in sorted(statuses.items()):
        print(f"  {label} {status}: {count}")
    assert total >= 1000
