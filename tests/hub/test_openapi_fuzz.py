"""Schemathesis against the hub, bounded: every operation of the OpenAPI document, requests generated from
it (valid and invalid), each one signed by an enrolled kiosk so it reaches the handler behind the signature
check. No answer may be a 5xx, and every answer must be one the document lists, with its content type and
body schema. Derandomised and capped, so it is the same run every time and takes seconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.hub_server import EnrolledKiosk, RunningHub, start_hub

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """One hub for the whole run (its database fills with whatever the fuzzer got accepted)."""
    with start_hub(Path(tmp_path_factory.mktemp("fuzz")) / "hub") as hub:
        yield hub


@pytest.fixture(scope="module")
def fuzzing_kiosk(fuzzed_hub: RunningHub) -> EnrolledKiosk:
    """The kiosk whose signature every generated request carries."""
    return fuzzed_hub.enroll_kiosk("fuzzer")


@pytest.fixture(scope="module")
def hub_schema(fuzzed_hub: RunningHub) -> schemathesis.BaseSchema:
    """The hub's own OpenAPI document, as served."""
    return schemathesis.openapi.from_dict(requests.get(f"{fuzzed_hub.url}/openapi.json", timeout=10).json())


def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(hub_schema: schemathesis.BaseSchema,
                                                                   fuzzed_hub: RunningHub,
                                                                   fuzzing_kiosk: EnrolledKiosk) -> None:
    """GIVEN requests generated from each operation of the OpenAPI document (signed like a kiosk's when the route
    is signed) WHEN the hub answers THEN none is a 5xx and each is documented: status, content type, body schema."""
    operations = [result.ok() for result in hub_schema.get_all_operations()]
    assert len(operations) == 11
    seen: Counter[tuple[str, int]] = Counter()
    with requests.Session() as session:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=30, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def answers_as_documented(case: schemathesis.Case) -> None:
                prepared = requests.Request(**case.as_transport_kwargs(base_url=fuzzed_hub.url)).prepare()
                body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode()
                if case.path.startswith("/v1/") and case.path != "/v1/enroll":
                    prepared.headers.update(fuzzing_kiosk.sign(case.method.upper(), prepared.path_url, body))
                response = session.send(prepared, timeout=30)
                seen[(case.path, response.status_code)] += 1
                case.validate_response(response, checks=CHECKS)

            answers_as_documented()
    # the generated requests got past the signature check and into the handlers, both ways
    assert seen[("/v1/submissions", 200)] and seen[("/v1/submissions", 400)] and seen[("/v1/heartbeat", 200)]
    assert seen[("/v1/enroll", 400)] and seen[("/v1/statuses", 200)] and seen[("/v1/presence-nonce", 200)]
    assert seen[("/v1/my-requests", 403)]  # a hub without trust anchors gives no list
