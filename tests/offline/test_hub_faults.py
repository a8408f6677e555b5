"""Bad input at the real hub (127.0.0.1): a clear 4xx with a word, and nothing stored — the cases
``tests/hub`` does not already cover: every other signed endpoint than submissions against unknown
kiosks, forgeries and replays; dates and nonces out of shape; gzip that lies; bodies past the limit
without a Content-Length; a replay after the hub restarts."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from nacl.signing import SigningKey

from protocol.sealing import PayloadSealer
from protocol.wire import HEADER_DATE, HEADER_NONCE, MAX_BATCH_ITEMS, MAX_BODY_BYTES, sign_request
from tests.fixtures.hub_server import EnrolledKiosk, RunningHub, start_hub

BEAT = json.dumps({"version": "1.0", "queue": {"queued": 1}}).encode()

# Every signed endpoint but submissions (tests/hub covers that one), with a body it would take:
# (method, path as signed, body).
ENDPOINTS = [
    ("POST", "/v1/heartbeat", BEAT),
    ("GET", "/v1/statuses?since=", b""),
    ("POST", "/v1/presence-nonce", b""),
    ("GET", "/v1/catalogue", b""),
    ("GET", "/v1/crl", b""),
    ("GET", "/v1/roles", b""),
]
ENDPOINT_IDS = [path.split("?")[0].rsplit("/", 1)[1] for _, path, _ in ENDPOINTS]


def utc() -> dt.datetime:
    """The wall clock, timezone-aware."""
    return dt.datetime.now(dt.timezone.utc)


def item(seal_key: bytes) -> dict[str, Any]:
    """One well-formed submission item sealed to ``seal_key``."""
    return {"id": str(uuid.uuid4()), "receipt_no": f"K-261121-{uuid.uuid4().int % 10_000:04d}",
            "service": "residence_certificate", "created_at": utc().isoformat(),
            "synthetic": True, "sealed": base64.b64encode(PayloadSealer(seal_key).seal({"n": 1})).decode()}


@dataclass
class Sender:
    """Sends raw bytes to the hub with whatever headers a test wants (requests adds nothing clever)."""

    hub: RunningHub
    kiosk: EnrolledKiosk

    def batch(self) -> bytes:
        """A fresh one-item batch, as JSON bytes."""
        return json.dumps({"items": [item(self.hub.seal_public_key)]}).encode()

    def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        """``body`` as it is, with exactly ``headers`` (plus the JSON content type when there is a body)."""
        if body:
            headers = {"Content-Type": "application/json", **headers}
        return requests.request(method, self.hub.url + path, data=body or None, headers=headers, timeout=20)

    def signed(self, method: str, path: str, body: bytes, **extra: str) -> requests.Response:
        """``body`` with a genuine signature for it, then ``extra`` headers on top."""
        return self.send(method, path, body, {**self.kiosk.sign(method, path, body), **extra})


def stored(hub: RunningHub) -> dict[str, int]:
    """How many rows each table a kiosk can write to holds (the refused must leave these alone)."""
    return {table: hub.count(table) for table in ("submissions", "duplicates", "nonces", "heartbeats", "kiosks")}


@pytest.fixture(scope="module")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """One real hub for this module (tests compare its tables before and after, so they can share it)."""
    with start_hub(tmp_path_factory.mktemp("hub")) as hub:
        yield hub


@pytest.fixture
def sender(shared_hub: RunningHub) -> Sender:
    """A kiosk newly enrolled with the shared hub."""
    return Sender(shared_hub, shared_hub.enroll_kiosk("fault tests"))


def refused(answer: requests.Response, status: int, word: str) -> None:
    """The hub answered ``status`` with the JSON ``{"error": word}``."""
    assert (answer.status_code, answer.headers.get("content-type")) == (status, "application/json"), answer.text
    assert answer.json() == {"error": word}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_signed_endpoint_refuses_an_unknown_kiosk(sender: Sender, method: str, path: str,
                                                        body: bytes) -> None:
    """GIVEN a key the hub never enrolled WHEN it calls any signed endpoint THEN 401 unknown_kiosk, nothing stored."""
    before = stored(sender.hub)
    headers = sign_request(SigningKey.generate(), "k-" + "0" * 16, method, path, body, utc())
    refused(sender.send(method, path, body, headers), 401, "unknown_kiosk")
    assert stored(sender.hub) == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_signed_endpoint_refuses_a_forged_signature(sender: Sender, method: str, path: str,
                                                          body: bytes) -> None:
    """GIVEN an enrolled kiosk's id signed with a thief's key WHEN any endpoint is called THEN 401 bad_signature,
    nothing stored (not even the nonce)."""
    before = stored(sender.hub)
    forged = sign_request(SigningKey.generate(), sender.kiosk.kiosk_id, method, path, body, utc())
    refused(sender.send(method, path, body, forged), 401, "bad_signature")
    assert stored(sender.hub) == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_signed_endpoint_refuses_a_replay(sender: Sender, method: str, path: str, body: bytes) -> None:
    """GIVEN a request the hub answered WHEN the same bytes and headers come again THEN 401 replay and the hub's
    tables are as the first call left them (one heartbeat, one nonce)."""
    before = stored(sender.hub)
    headers = sender.kiosk.sign(method, path, body)
    first = sender.send(method, path, body, headers)
    assert first.status_code in (200, 204, 404), first.text  # 404: a document never published
    after_first = stored(sender.hub)
    assert after_first["nonces"] == before["nonces"] + 1
    refused(sender.send(method, path, body, headers), 401, "replay")
    assert stored(sender.hub) == after_first


def test_a_replay_is_refused_after_the_hub_restarts(tmp_path: Path) -> None:
    """GIVEN a batch the hub accepted WHEN the hub restarts on the same database and the request is replayed
    THEN 401 replay (the nonce ledger is in the database, not in memory) and nothing is counted twice."""
    with start_hub(tmp_path) as hub:
        kiosk = hub.enroll_kiosk()
        data = json.dumps({"items": [item(hub.seal_public_key)]}).encode()
        headers = kiosk.sign("POST", "/v1/submissions", data)
        assert requests.post(hub.url + "/v1/submissions", data=data, headers=headers, timeout=10).status_code == 200
    with start_hub(tmp_path) as again:
        refused(requests.post(again.url + "/v1/submissions", data=data, headers=headers, timeout=10), 401, "replay")
        stats = again.stats()
        assert (stats["submissions"], stats["duplicates"]) == (1, 0)


@pytest.mark.parametrize(("header", "value", "word"), [
    (HEADER_DATE, "21/11/2026 10:00", "bad_date"),
    (HEADER_DATE, "", "bad_date"),
    (HEADER_NONCE, "abc", "bad_nonce"),
    (HEADER_NONCE, "G" * 32, "bad_nonce"),
], ids=["date-format", "date-empty", "nonce-short", "nonce-not-hex"])
def test_dates_and_nonces_out_of_shape_are_401(sender: Sender, header: str, value: str, word: str) -> None:
    """GIVEN a genuine signature whose date or nonce header is out of shape WHEN posted THEN 401 with its word."""
    before = stored(sender.hub)
    data = sender.batch()
    refused(sender.signed("POST", "/v1/submissions", data, **{header: value}), 401, word)
    assert stored(sender.hub) == before


def test_a_date_from_the_future_is_stale(sender: Sender) -> None:
    """GIVEN a request signed with a clock 10 minutes fast WHEN posted THEN 401 stale_date (both ways are checked)."""
    data = sender.batch()
    ahead = sender.kiosk.sign("POST", "/v1/submissions", data, utc() + dt.timedelta(minutes=10))
    before = stored(sender.hub)
    refused(sender.send("POST", "/v1/submissions", data, ahead), 401, "stale_date")
    assert stored(sender.hub) == before


def test_signature_for_another_method_or_the_unzipped_body_is_401(sender: Sender) -> None:
    """GIVEN a genuine signature made for GET, or over the JSON before gzip WHEN the gzip POST arrives
    THEN 401 bad_signature: the signature binds the method and the bytes as sent."""
    before = stored(sender.hub)
    data = sender.batch()
    as_get = sender.kiosk.sign("GET", "/v1/submissions", data)
    refused(sender.send("POST", "/v1/submissions", data, as_get), 401, "bad_signature")
    wire = gzip.compress(data)
    over_plain = {**sender.kiosk.sign("POST", "/v1/submissions", data), "Content-Encoding": "gzip"}
    refused(sender.send("POST", "/v1/submissions", wire, over_plain), 401, "bad_signature")
    assert stored(sender.hub) == before


@pytest.mark.parametrize(("wire", "encoding", "word"), [
    (lambda d: gzip.compress(d)[:-20], "gzip", "bad_gzip"),
    (lambda d: gzip.compress(d) + b"trailing junk", "gzip", "bad_gzip"),
    (lambda d: d, "gzip", "bad_gzip"),
    (lambda d: d, "br", "unsupported_encoding"),
    (lambda d: d, "gzip, deflate", "unsupported_encoding"),
], ids=["gzip-cut-short", "gzip-trailing-junk", "plain-called-gzip", "brotli", "two-encodings"])
def test_gzip_that_lies_is_400(sender: Sender, wire: Any, encoding: str, word: str) -> None:
    """GIVEN a signed batch whose compression is cut short, followed by junk, not gzip at all, or an encoding the
    hub does not speak WHEN posted THEN 400 with the word, nothing stored."""
    body = wire(sender.batch())
    before = stored(sender.hub)
    refused(sender.signed("POST", "/v1/submissions", body, **{"Content-Encoding": encoding}), 400, word)
    assert stored(sender.hub) == before


@pytest.mark.parametrize(("body", "word"), [
    (b'{"version": "1.0", "queue": {', "malformed_json"),
    (b'\xff\xfe{"version": "1.0"}', "malformed_json"),
    (b'["version", "1.0"]', "bad_schema"),
    (b'{"version": 1}', "bad_schema"),
], ids=["cut-json", "not-utf8", "array", "number-version"])
def test_a_bad_heartbeat_is_400_and_leaves_the_fleet_alone(sender: Sender, body: bytes, word: str) -> None:
    """GIVEN a signed heartbeat that is not JSON, not UTF-8 or of the wrong shape WHEN posted
    THEN 400 with the word, no heartbeat kept and the nonce not spent."""
    before = stored(sender.hub)
    refused(sender.signed("POST", "/v1/heartbeat", body), 400, word)
    assert stored(sender.hub) == before


def _chunks(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_a_body_past_the_limit_without_content_length_is_413(sender: Sender) -> None:
    """GIVEN a signed batch over 4 MB sent chunked (no Content-Length to refuse it by) WHEN posted
    THEN 413 too_large once the hub has read past the limit, and nothing stored."""
    before = stored(sender.hub)
    pad = "x" * (MAX_BODY_BYTES + 1000)
    data = json.dumps({"items": [item(sender.hub.seal_public_key)], "pad": pad}).encode()
    headers = {**sender.kiosk.sign("POST", "/v1/submissions", data), "Content-Type": "application/json"}
    answer = requests.post(sender.hub.url + "/v1/submissions", data=_chunks(data), headers=headers, timeout=30)
    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    refused(answer, 413, "too_large")
    assert stored(sender.hub) == before


def test_an_oversized_enrolment_is_413_and_enrols_nobody(shared_hub: RunningHub) -> None:
    """GIVEN the one unsigned endpoint WHEN a body past 4 MB arrives THEN 413 too_large and no kiosk enrolled."""
    before = stored(shared_hub)
    key = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    body = json.dumps({"code": shared_hub.enroll_code(), "device_public_key": key,
                       "name": "x" * MAX_BODY_BYTES}).encode()
    answer = requests.post(shared_hub.url + "/v1/enroll", data=body, timeout=30,
                           headers={"Content-Type": "application/json"})
    refused(answer, 413, "too_large")
    assert stored(shared_hub) == before


def test_the_largest_batch_allowed_is_taken_whole(sender: Sender) -> None:
    """GIVEN exactly the item limit WHEN posted gzipped THEN every item accepted (the limit is not off by one)."""
    before = stored(sender.hub)
    seal_key = sender.hub.seal_public_key
    items = [item(seal_key) for _ in range(MAX_BATCH_ITEMS)]
    wire = gzip.compress(json.dumps({"items": items}).encode())
    answer = sender.signed("POST", "/v1/submissions", wire, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 200
    assert [r["result"] for r in answer.json()["results"]] == ["accepted"] * MAX_BATCH_ITEMS
    assert stored(sender.hub)["submissions"] == before["submissions"] + MAX_BATCH_ITEMS
