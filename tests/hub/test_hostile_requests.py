"""What an attacker on the hub's port can send: every odd request gets a 4xx with a word, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from nacl.signing import SigningKey

from protocol.wire import HEADER_SIGNATURE, sign_request
from tests.fixtures.hub_server import RunningHub

NESTED = b"[" * 1000 + b"]" * 1000  # 2 KB of nesting: blows the JSON parser's recursion limit


def _problem(answer: requests.Response, status: int, word: str) -> None:
    assert (answer.status_code, answer.json()) == (status, {"error": word})


def _enrol_body(hub: RunningHub, **extra: Any) -> dict[str, Any]:
    return {"code": hub.enroll_code(), "device_public_key": base64.b64encode(bytes(SigningKey.generate()
                                                                                    .verify_key)).decode(), **extra}


# --- finding 1: answers that were 500s ---------------------------------------------------------------

def test_deeply_nested_json_is_refused_with_a_word(client: Any, hub_server: RunningHub) -> None:
    """GIVEN 2 KB of JSON nested 1000 deep WHEN sent to enroll, submissions and heartbeat THEN a 4xx word, no 500."""
    answer = requests.post(f"{hub_server.url}/v1/enroll", data=NESTED, timeout=10)
    assert answer.status_code in (400, 413) and answer.json()["error"] in ("too_deep", "too_large")
    _problem(client.call("POST", "/v1/submissions", NESTED), 400, "too_deep")
    _problem(client.call("POST", "/v1/heartbeat", b'{"version": "1", "x": ' + NESTED + b"}"), 400, "too_deep")
    small = b"[" * 400 + b"]" * 400  # under the enrolment cap, over any sane depth
    _problem(requests.post(f"{hub_server.url}/v1/enroll", data=small, timeout=10), 400, "too_deep")
    assert hub_server.stats()["submissions"] == 0


@pytest.mark.parametrize("length", [0, 1, 63, 65, 128])
def test_signature_header_of_the_wrong_length_is_401(client: Any, length: int) -> None:
    """GIVEN a signature header that is valid base64 but not 64 bytes WHEN sent THEN 401 bad_signature, no 500."""
    forged = base64.b64encode(b"s" * length).decode()
    answer = client.call("GET", "/v1/roles", headers={HEADER_SIGNATURE: forged})
    _problem(answer, 401, "bad_signature")


@pytest.mark.parametrize("since", ["9223372036854775808", "99999999999999999999999", "-1", "1.5", "+5", "%205",
                                   "%D9%A5", "0x10", "1e3"])
def test_cursor_outside_a_64_bit_count_is_400(client: Any, since: str) -> None:
    """GIVEN a statuses cursor too large, negative, signed or not plain digits WHEN asked THEN 400 bad_cursor."""
    _problem(client.call("GET", f"/v1/statuses?since={since}"), 400, "bad_cursor")


def test_largest_cursor_is_answered(client: Any) -> None:
    """GIVEN the largest 64-bit cursor WHEN asked THEN an empty page, not an error."""
    answer = client.call("GET", "/v1/statuses?since=9223372036854775807")
    assert answer.status_code == 200 and answer.json()["statuses"] == []


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity",
                                    b"100000000000000000000000", b"1" + b"0" * 400])
@pytest.mark.parametrize("where", ["queued", "oldest_queued_age_s", "other"])
def test_heartbeat_numbers_out_of_range_are_400(client: Any, hub_server: RunningHub, number: bytes, where: str) -> None:
    """GIVEN a heartbeat number that is infinite, NaN or past 64 bits WHEN sent THEN 400 bad_number, nothing stored."""
    body = b'{"version": "1", "queue": {"' + where.encode() + b'": ' + number + b"}}"
    _problem(client.call("POST", "/v1/heartbeat", body), 400, "bad_number")
    assert hub_server.count("heartbeats") == 0


def test_heartbeat_with_two_huge_counts_is_stored_without_overflow(client: Any, hub_server: RunningHub) -> None:
    """GIVEN queued and sending each the largest 64-bit count WHEN beaten THEN 200 (their sum does not overflow)."""
    top = 2**63 - 1
    body = json.dumps({"version": "1", "queue": {"queued": top, "sending": top}}).encode()
    assert client.call("POST", "/v1/heartbeat", body).status_code == 200


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def hub_logs() -> Iterator[_Records]:
    """Every record the hub and its server log (uvicorn's loggers do not propagate to the root)."""
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("hub", "uvicorn", "fastapi")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def _raw(hub: RunningHub, head: str, body: bytes) -> socket.socket:
    host, port = hub.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(head.encode("latin-1") + b"\r\n" + body)
    return sock


def _settle(logs: _Records) -> list[logging.LogRecord]:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not logs.records:
        time.sleep(0.05)
    time.sleep(0.3)  # anything logged after the first record
    return logs.records


@pytest.mark.parametrize("signed", [False, True])
def test_client_gone_mid_body_is_one_warning_line(client: Any, hub_server: RunningHub, hub_logs: _Records,
                                                  signed: bool) -> None:
    """GIVEN a client that declares a body WHEN it disconnects half-way THEN one warning line, no traceback."""
    path = "/v1/submissions" if signed else "/v1/enroll"
    headers = client.kiosk.sign("POST", path, b"x" * 900) if signed else {}
    head = f"POST {path} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 900\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    _raw(hub_server, head, b'{"code": "').close()
    records = _settle(hub_logs)
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.WARNING, None)], [r.getMessage() for r in records]
    assert "\n" not in records[0].getMessage()
    assert requests.get(f"{hub_server.url}/healthz", timeout=10).ok


# --- finding 4: the enrolment cap and headers before bodies ---------------------------------------

def test_enrolment_body_over_1_kb_is_413(hub_server: RunningHub) -> None:
    """GIVEN a valid enrolment padded past 1 KB WHEN posted THEN 413 too_large and no kiosk enrolled."""
    body = json.dumps(_enrol_body(hub_server)).encode()
    padded = body[:-1] + b" " * (1100 - len(body)) + b"}"
    answer = requests.post(f"{hub_server.url}/v1/enroll", data=padded, timeout=10,
                           headers={"Content-Type": "application/json"})
    _problem(answer, 413, "too_large")
    chunked = requests.post(f"{hub_server.url}/v1/enroll", data=iter([padded[:600], padded[600:]]), timeout=10)
    _problem(chunked, 413, "too_large")
    assert hub_server.stats()["kiosks"] == 0


def test_longest_real_enrolment_fits_the_cap(hub_server: RunningHub) -> None:
    """GIVEN a 64-character code and a 100-letter Georgian name, JSON-escaped WHEN enrolled THEN 201."""
    body = _enrol_body(hub_server, name="ქ" * 100)
    body["code"] = body["code"] + " " * (64 - len(body["code"]))
    assert requests.post(f"{hub_server.url}/v1/enroll", json=body, timeout=10).status_code == 201


def _first_line(sock: socket.socket) -> str:
    try:
        return sock.recv(200).split(b"\r\n", 1)[0].decode()
    except TimeoutError:
        return "no answer before the body was sent"
    finally:
        sock.close()


def test_unknown_kiosk_is_refused_before_its_body_is_read(hub_server: RunningHub) -> None:
    """GIVEN an unknown kiosk declaring a 3 MB body WHEN only the headers arrive THEN 401 at once."""
    headers = sign_request(SigningKey.generate(), "k-0000000000000000", "POST", "/v1/submissions", b"",
                           hub_server.store.clock())
    head = "POST /v1/submissions HTTP/1.1\r\nHost: hub\r\nContent-Length: 3000000\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    assert _first_line(_raw(hub_server, head, b"{")) == "HTTP/1.1 401 Unauthorized"


def test_stale_date_is_refused_before_the_body_is_read(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a known kiosk signing with a date an hour old WHEN only the headers of a big body arrive THEN 401."""
    old = hub_server.store.clock().replace(microsecond=0) - dt.timedelta(hours=1)
    headers = client.kiosk.sign("POST", "/v1/heartbeat", b"", old)
    head = "POST /v1/heartbeat HTTP/1.1\r\nHost: hub\r\nContent-Length: 3000000\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    assert _first_line(_raw(hub_server, head, b"{")) == "HTTP/1.1 401 Unauthorized"


# --- finding 3: the OpenAPI document says what the hub answers ------------------------------------

DOCUMENTED = {
    ("/healthz", "get"): {"200"},
    ("/metrics", "get"): {"200"},
    ("/v1/enroll", "post"): {"201", "400", "403", "408", "413", "503"},
    ("/v1/submissions", "post"): {"200", "400", "401", "408", "413", "503"},
    ("/v1/statuses", "get"): {"200", "400", "401", "408", "413", "503"},
    ("/v1/presence-nonce", "post"): {"200", "401", "408", "413", "503"},
    ("/v1/my-requests", "post"): {"200", "400", "401", "403", "408", "413", "503"},
    ("/v1/catalogue", "get"): {"200", "304", "401", "404", "408", "413", "503"},
    ("/v1/crl", "get"): {"200", "304", "401", "404", "408", "413", "503"},
    ("/v1/roles", "get"): {"200", "401", "408", "413", "503"},
    ("/v1/heartbeat", "post"): {"200", "400", "401", "408", "413", "503"},
}


def test_openapi_lists_the_answers_each_route_gives(hub_server: RunningHub) -> None:
    """GIVEN the served OpenAPI document WHEN each route's responses are read THEN exactly the codes it answers.

    No 422 anywhere (the hub turns FastAPI's validation errors into 400), and every error is a Problem.
    """
    document = requests.get(f"{hub_server.url}/openapi.json", timeout=10).json()
    found = {(path, method): set(op["responses"]) for path, ops in document["paths"].items()
             for method, op in ops.items()}
    assert found == DOCUMENTED
    for (path, method), codes in DOCUMENTED.items():
        for code in codes - {"200", "201", "204", "304"}:
            schema = document["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (path, method, code)


def test_missing_query_parameter_is_the_documented_400(client: Any) -> None:
    """GIVEN the statuses feed with a cursor that is no number WHEN asked THEN 400 bad_cursor, as documented
    (not 422); AND "my requests" without its proof of presence is 400 bad_schema."""
    _problem(client.call("GET", "/v1/statuses?since=x"), 400, "bad_cursor")
    _problem(client.call("POST", "/v1/my-requests", json.dumps({"presense": {}}).encode()), 400, "bad_schema")
