"""The sync engine and hub client against a misbehaving HTTP peer on 127.0.0.1 (a real socket,
not the reference hub: it answers 429, 500, garbage, wrong shapes, bad signatures on purpose),
and the backoff arithmetic with a fake clock and a fixed "random"."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from nacl.signing import SigningKey

from offline.hub_client import (
    HubAnswerInvalid,
    HubBusy,
    HubClient,
    HubIdentity,
    HubServerError,
    HubUnauthorized,
    HubUnreachable,
    parse_retry_after,
)
from offline.outbox import Outbox, SubmissionState
from offline.sync import Backoff, DocumentSinks, Health, SyncConfig, SyncEngine, SyncState
from protocol.wire import HEADER_HUB_SIGNATURE, HEADER_NONCE, sign_answer, sign_document

NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)


class Peer(http.server.ThreadingHTTPServer):
    """Answers each request with the next scripted reply; remembers what it was sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: list[Any] = []
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:
        pass

    def _answer(self) -> None:
        peer: Peer = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        peer.seen.append((self.command, self.path, dict(self.headers), body))
        reply = peer.replies.pop(0) if peer.replies else (200, {}, b'{"audit_problem":null}')
        if reply == "drop":  # the connection dies before any answer
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        status, headers, payload = reply
        headers = dict(headers)
        signed_body = headers.pop("X-Sign-Instead", "").encode() or payload
        if status == 200 and HEADER_HUB_SIGNATURE not in headers and not headers.pop("X-Unsigned", None):
            # the hub's signature over the answer, bound to this request's nonce (a real hub's way)
            headers[HEADER_HUB_SIGNATURE] = sign_answer(HUB_KEY, self.headers.get(HEADER_NONCE, ""), status,
                                                        signed_body)
        self.send_response(status)
        truncated = headers.pop("X-Truncate", None)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2] if truncated else payload)
        if truncated:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    do_GET = do_POST = _answer


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


HUB_KEY = SigningKey.generate()


def _client(peer: Peer, pinned: SigningKey = HUB_KEY) -> HubClient:
    identity = HubIdentity("kiosk-1", SigningKey.generate(), pinned.verify_key)
    return HubClient(requests.Session(), peer.url, identity, clock=lambda: NOW, timeout_s=2)


class FakeMonotonic:
    """Monotonic time the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _engine(tmp_path: Path, peer: Peer, *, random: float = 0.5, sinks: DocumentSinks | None = None,
            mono: FakeMonotonic | None = None) -> tuple[SyncEngine, Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite", "KSK-1", lambda: NOW)
    engine = SyncEngine(outbox=box, client=_client(peer), config=SyncConfig(batch_max_items=10),
                        health=Health("test"), documents=sinks or DocumentSinks(), clock=lambda: NOW,
                        monotonic=mono or FakeMonotonic(), random=lambda: random)
    return engine, box


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    """GIVEN base 2 s, cap 60 s and random() = 0.999 WHEN failures repeat THEN waits approach 2, 4, 8, 16, 32, 60, 60;
    with random() = 0 they are 0 unless Retry-After says more; a success starts again from the base."""
    high = Backoff(2, 60, lambda: 0.999)
    assert [round(high.failed()) for _ in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    high.succeeded()
    assert round(high.failed()) == 2
    low = Backoff(2, 60, lambda: 0.0)
    assert low.failed() == 0.0 and low.failed(retry_after=7) == 7


def test_retry_after_reads_seconds_and_dates_and_ignores_garbage() -> None:
    """GIVEN Retry-After values WHEN parsed THEN seconds and HTTP dates work, garbage is None, huge values are capped."""
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Sat, 21 Nov 2026 10:01:00 GMT", NOW) == 60
    assert parse_retry_after("soon", NOW) is None and parse_retry_after(None, NOW) is None
    assert parse_retry_after("99999999", NOW) == 6 * 3600


def test_429_with_retry_after_keeps_items_queued_and_waits_at_least_that_long(tmp_path: Path, peer: Peer) -> None:
    """GIVEN a hub answering 429 Retry-After: 120 WHEN a cycle runs THEN the items are queued again, the engine is
    offline with the busy message, and the next attempt is no sooner than 120 s (jitter alone would give ~1 s)."""
    mono = FakeMonotonic()
    engine, box = _engine(tmp_path, peer, mono=mono)
    box.enqueue(service="s", sealed=b"x" * 60, holder=None)
    heard = []
    engine.subscribe(heard.append)
    peer.replies = [(429, {"Retry-After": "120"}, b'{"error": "slow_down"}')]
    report = engine.sync_once()
    assert isinstance(report.error, HubBusy) and report.next_in_s >= 120
    assert engine.not_before == mono.t + report.next_in_s
    assert box.stats()["queued"] == 1 and box.stats()["sending"] == 0
    assert heard[-1].state is SyncState.OFFLINE and heard[-1].last_error == "error.hub_busy"
    assert heard[-1].queued == 1 and any(s.state is SyncState.SYNCING for s in heard)


def test_500_then_recovery_resets_the_backoff(tmp_path: Path, peer: Peer) -> None:
    """GIVEN a hub answering 500 twice, then working WHEN three cycles run THEN waits grow (1 s, 2 s at random 0.5),
    then the item is delivered, the status is online and the wait is the normal interval."""
    engine, box = _engine(tmp_path, peer)
    item = box.enqueue(service="s", sealed=b"x" * 60, holder=None)
    peer.replies = [(500, {}, b"oops"), (500, {}, b"oops")]
    first, second = engine.sync_once(), engine.sync_once()
    assert isinstance(first.error, HubServerError) and (first.next_in_s, second.next_in_s) == (1.0, 2.0)
    verdict = json.dumps({"results": [{"id": item.id, "result": "accepted"}]}).encode()
    peer.replies = [(200, {}, verdict), (200, {}, b'{"statuses": [], "cursor": "0"}'), (200, {}, b'{"audit_problem":null}')]
    third = engine.sync_once()
    assert third.error is None and third.next_in_s == 30.0
    assert box.get(item.id).state is SubmissionState.DELIVERED
    assert engine.status.state is SyncState.ONLINE and engine.status.last_error is None
    assert engine.status.last_success == NOW


@pytest.mark.parametrize("reply", [
    (200, {}, b"<html>captive portal</html>"),
    (200, {}, b'{"results": "all good"}'),
    (200, {}, b'{"results": [{"id": "someone-else", "result": "accepted"}]}'),
    (200, {}, b'{"results": [{"result": "maybe"}]}'),
    (200, {"X-Truncate": "1"}, b'{"results": [{"result": "accepted"}]}' + b" " * 200),
    "drop",
], ids=["html", "wrong-shape", "wrong-id", "unknown-verdict", "truncated", "dropped"])
def test_garbage_answers_never_crash_and_never_lose_the_item(tmp_path: Path, peer: Peer, reply: Any) -> None:
    """GIVEN a hub answering garbage, a wrong shape, a foreign id, a truncated body or nothing WHEN a cycle runs
    THEN it reports a typed error and the item is queued again (the hub dedups it when it is re-sent)."""
    engine, box = _engine(tmp_path, peer)
    item = box.enqueue(service="s", sealed=b"x" * 60, holder=None)
    peer.replies = [reply]
    report = engine.sync_once()
    assert isinstance(report.error, (HubAnswerInvalid, HubUnreachable))
    assert box.get(item.id).state is SubmissionState.QUEUED


@pytest.mark.parametrize("forgery", ["unsigned", "another_key", "another_nonce", "another_body"])
def test_an_accepted_the_pinned_hub_did_not_sign_marks_nothing(tmp_path: Path, peer: Peer, forgery: str) -> None:
    """Finding 3. GIVEN a fake hub (a swapped hub_url) answering "accepted" unsigned, signed by another key, with a
    real signature taken from another request, or a real signature over another answer WHEN a cycle runs THEN
    HubAnswerInvalid, the request stays queued (sent again to the real hub), and nothing is marked delivered."""
    engine, box = _engine(tmp_path, peer)
    item = box.enqueue(service="s", sealed=b"x" * 60, holder=None)
    verdict = json.dumps({"results": [{"id": item.id, "result": "accepted"}]}).encode()
    other = json.dumps({"results": [{"id": item.id, "result": "rejected", "reason": "x"}]}).encode()
    signature = {
        "unsigned": None,
        "another_key": sign_answer(SigningKey.generate(), "0" * 32, 200, verdict),
        "another_nonce": sign_answer(HUB_KEY, "0" * 32, 200, verdict),
        "another_body": None,
    }[forgery]
    headers = {"X-Unsigned": "1"} if signature is None else {HEADER_HUB_SIGNATURE: signature}
    if forgery == "another_body":  # the peer signs `other` for this very nonce, then sends `verdict` instead
        headers = {"X-Sign-Instead": other.decode()}
    peer.replies = [(200, headers, verdict)]
    report = engine.sync_once()
    assert isinstance(report.error, HubAnswerInvalid) and "not signed" in str(report.error)
    assert box.get(item.id).state is SubmissionState.QUEUED and box.stats()["delivered"] == 0


def test_unreachable_hub_is_a_typed_error(tmp_path: Path) -> None:
    """GIVEN nothing listening on the hub's port WHEN the client calls THEN HubUnreachable, with its message key."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    identity = HubIdentity("k", SigningKey.generate(), HUB_KEY.verify_key)
    client = HubClient(requests.Session(), f"http://127.0.0.1:{port}", identity, clock=lambda: NOW, timeout_s=1)
    with pytest.raises(HubUnreachable) as caught:
        client.heartbeat({"version": "x"})
    assert caught.value.translation_key == "error.hub_unreachable"


def test_401_carries_the_hub_reason_and_a_wrong_clock_says_so(peer: Peer) -> None:
    """GIVEN 401 answers WHEN the client calls THEN the reason is kept; stale_date maps to the clock message."""
    client = _client(peer)
    peer.replies = [(401, {}, b'{"error": "unknown_kiosk"}'), (401, {}, b'{"error": "stale_date"}')]
    with pytest.raises(HubUnauthorized) as first:
        client.heartbeat({"version": "x"})
    with pytest.raises(HubUnauthorized) as second:
        client.heartbeat({"version": "x"})
    assert first.value.reason == "unknown_kiosk" and first.value.translation_key == "error.hub_unauthorized"
    assert second.value.translation_key == "error.hub_clock"


def test_requests_are_signed_and_batches_gzipped(tmp_path: Path, peer: Peer) -> None:
    """GIVEN a queued item WHEN it is sent THEN the POST is gzip JSON with the four signature headers."""
    engine, box = _engine(tmp_path, peer)
    box.enqueue(service="s", sealed=b"x" * 60, holder="holder-key-of-nino")
    peer.replies = [(500, {}, b"")]
    engine.sync_once()
    method, path, headers, body = peer.seen[0]
    assert (method, path) == ("POST", "/v1/submissions")
    assert headers["Content-Encoding"] == "gzip"
    sent = json.loads(gzip.decompress(body))["items"][0]
    assert "holder-key-of-nino" not in json.dumps(sent) and not {"holder", "citizen_key"} & set(sent)  # the holder key stays here
    assert {"X-Kiosk-Key", "X-Kiosk-Date", "X-Kiosk-Nonce", "X-Kiosk-Signature"} <= set(headers)


def _signed(body: bytes, key: SigningKey = HUB_KEY, etag: str = '"v2"') -> tuple[int, dict[str, str], bytes]:
    return 200, {"ETag": etag, HEADER_HUB_SIGNATURE: sign_document(key, body)}, body


def test_a_document_with_a_bad_signature_keeps_the_old_one(tmp_path: Path, peer: Peer) -> None:
    """GIVEN a catalogue signed by the pinned key, then one signed by another key WHEN pulled THEN only the first
    reaches the callback, the ETag stays the first one's, and the cycle still counts as a success."""
    got: list[bytes] = []
    engine, box = _engine(tmp_path, peer, sinks=DocumentSinks(on_catalogue=got.append))
    statuses = (200, {}, b'{"statuses": [], "cursor": "0"}')
    peer.replies = [statuses, _signed(b'{"version": 2}'), (200, {}, b'{"audit_problem":null}')]
    assert engine.sync_once().error is None
    peer.replies = [statuses, _signed(b'{"version": 3}', SigningKey.generate(), '"v3"'), (200, {}, b'{"audit_problem":null}')]
    report = engine.sync_once()
    assert got == [b'{"version": 2}'] and box.meta("catalogue_etag") == '"v2"'
    assert report.error is None and report.problems and "signature" in report.problems[0]
    assert peer.seen[-2][2]["If-None-Match"] == '"v2"'


def test_a_refused_catalogue_is_asked_for_again(tmp_path: Path, peer: Peer) -> None:
    """GIVEN the callback refuses a catalogue (ValueError) WHEN pulled THEN its ETag is not kept."""
    def refuse(_body: bytes) -> None:
        raise ValueError("catalogue has no services")

    engine, box = _engine(tmp_path, peer, sinks=DocumentSinks(on_catalogue=refuse))
    peer.replies = [(200, {}, b'{"statuses": [], "cursor": "0"}'), _signed(b"{}"), (200, {}, b'{"audit_problem":null}')]
    report = engine.sync_once()
    assert box.meta("catalogue_etag") is None and report.problems == ["catalogue: catalogue has no services"]


def _verdicts(ids: list[str]) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, json.dumps({"results": [{"id": i, "result": "accepted"} for i in ids]}).encode()


def test_413_halves_the_batch_and_a_single_oversized_item_is_rejected(tmp_path: Path, peer: Peer) -> None:
    """GIVEN four queued items and a hub whose limit is lower than ours WHEN it answers 413 to four THEN the engine
    sends two and two; and an item refused alone with 413 is marked rejected "too_large", not retried for ever."""
    engine, box = _engine(tmp_path, peer)
    ids = [box.enqueue(service="s", sealed=bytes([i]) * 60, holder=None).id for i in range(4)]
    statuses = (200, {}, b'{"statuses": [], "cursor": "0"}')
    peer.replies = [(413, {}, b'{"error": "too_large"}'), _verdicts(ids[:2]), _verdicts(ids[2:]), statuses]
    report = engine.sync_once()
    sizes = [len(json.loads(gzip.decompress(body))["items"]) for m, p, h, body in peer.seen if p == "/v1/submissions"]
    assert sizes == [4, 2, 2] and report.error is None
    assert {box.get(i).state for i in ids} == {SubmissionState.DELIVERED}
    big = box.enqueue(service="s", sealed=b"x" * 60, holder=None).id
    peer.replies = [(413, {}, b'{"error": "too_large"}'), statuses]
    engine.sync_once()
    assert box.get(big).state is SubmissionState.REJECTED and box.get(big).reason == "too_large"
