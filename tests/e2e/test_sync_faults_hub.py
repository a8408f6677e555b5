"""The real hub on 127.0.0.1 misbehaving: 500, 429 with Retry-After, 200 with a garbage body — before it
stored the batch or after (a gateway in front of it failing on the way back) — and 401 for a kiosk it
no longer knows. The kiosk keeps every request queued and says why; after the fault, a clean sync
and every request is at the hub exactly once.

The faults come from a small ASGI layer wrapped around the hub's own application: it either answers
in the hub's place, or lets the hub store the batch and swaps the answer (no mock of the hub)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hub import enrolment
from hub.app import create_app
from hub.keys import ensure_keys
from hub.store import HubDatabase
from offline.hub_client import HubAnswerInvalid, HubBusy, HubServerError, HubUnauthorized
from offline.outbox import SubmissionState
from offline.sync import SyncState, SyncStatus
from protocol.wire import ItemResult
from tests.fixtures.hub_server import RunningHub
from tests.fixtures.sync_check import SyncKiosk, exactly_once, hub_cli_stats, hub_count, kiosk_cli


@dataclass(frozen=True)
class Fault:
    """One scripted answer to ``POST /v1/submissions``; ``after_hub``: the hub stores the batch first."""

    status: int
    body: bytes = b'{"error": "scripted"}'
    headers: tuple[tuple[bytes, bytes], ...] = ()
    after_hub: bool = False


@dataclass
class ScriptedFaults:
    """ASGI layer over the hub: the next ``script`` entries answer batch posts; ``posts`` notes when each came."""

    app: Any
    script: list[Fault] = field(default_factory=list)
    posts: list[float] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/submissions":
            await self.app(scope, receive, send)
            return
        self.posts.append(time.monotonic())
        if not self.script:
            await self.app(scope, receive, send)
            return
        fault = self.script.pop(0)
        if fault.after_hub:
            async def swallow(_message: dict[str, Any]) -> None:
                return None

            await self.app(scope, receive, swallow)  # the hub stores the batch; its answer is lost
        await send({"type": "http.response.start", "status": fault.status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(fault.body)).encode()),
            *fault.headers]})
        await send({"type": "http.response.body", "body": fault.body})


@pytest.fixture
def faulty_hub(tmp_path: Path) -> Iterator[tuple[RunningHub, ScriptedFaults]]:
    """The reference hub in a thread on a free loopback port, behind the fault layer."""
    db_path = tmp_path / "hub" / "hub.db"
    keys = ensure_keys(db_path)
    store = HubDatabase(db_path)
    faults = ScriptedFaults(create_app(store, keys))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(faults, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the hub did not start"
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    with RunningHub(f"http://127.0.0.1:{sock.getsockname()[1]}", db_path, keys, store, _stop=stop) as hub:
        yield hub, faults


@pytest.fixture
def kiosk(faulty_hub: tuple[RunningHub, ScriptedFaults], tmp_path: Path) -> Iterator[SyncKiosk]:
    """A kiosk enrolled with that hub."""
    made = SyncKiosk(faulty_hub[0], tmp_path / "kiosk")
    yield made
    made.close()


CASES = {
    "500-before-storing": (Fault(500, b"Internal Server Error"), HubServerError, "error.hub_server"),
    "500-after-storing": (Fault(502, b"<html>Bad Gateway</html>", after_hub=True), HubServerError, "error.hub_server"),
    "200-garbage": (Fault(200, b"<html>Welcome to the hotel Wi-Fi</html>", after_hub=True), HubAnswerInvalid,
                    "error.hub_answer_invalid"),
    "200-cut-json": (Fault(200, b'{"results": [{"id": "', after_hub=True), HubAnswerInvalid,
                     "error.hub_answer_invalid"),
    "200-too-few-verdicts": (Fault(200, b'{"results": []}', after_hub=True), HubAnswerInvalid,
                             "error.hub_answer_invalid"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_bad_answer_keeps_requests_queued_then_they_land_once(faulty_hub: tuple[RunningHub, ScriptedFaults],
                                                                kiosk: SyncKiosk, case: str) -> None:
    """GIVEN 40 queued requests WHEN the hub answers 5xx or a 200 with a body that is not a verdict for the batch
    (some after storing it) THEN the cycle reports the typed error, the UI hears offline with its message key,
    and all 40 stay queued; the next cycle delivers them (`duplicate` where the hub had stored them) and the
    hub holds each exactly once."""
    hub, faults = faulty_hub
    fault, error, key = CASES[case]
    faults.script = [fault]
    kiosk.queue(40)
    engine = kiosk.engine()
    heard: list[SyncStatus] = []
    engine.subscribe(heard.append)
    broken = engine.sync_once()
    assert isinstance(broken.error, error) and broken.next_in_s < 30
    assert heard[-1] == SyncStatus(SyncState.OFFLINE, 40, None, key)
    assert kiosk.outbox.stats()[SubmissionState.QUEUED.value] == 40
    assert hub_count(hub.db_path) == (40 if fault.after_hub else 0)

    again = engine.sync_once()
    assert again.error is None
    assert again.results[ItemResult.DUPLICATE if fault.after_hub else ItemResult.ACCEPTED] == 40
    exactly_once(hub.db_path, kiosk.outbox_path, kiosk.created)
    assert hub.stats()["duplicates"] == (40 if fault.after_hub else 0)


def test_429_retry_after_holds_the_engine_back_at_least_that_long(faulty_hub: tuple[RunningHub, ScriptedFaults],
                                                                  kiosk: SyncKiosk) -> None:
    """GIVEN the engine's thread with a 50 ms backoff and a 200 ms interval WHEN the hub answers 429 with
    Retry-After: 2 and the screens poke the engine every 100 ms (new requests) THEN the next batch post comes
    no sooner than 2 s later, the UI hears "busy" meanwhile, and then everything lands exactly once."""
    hub, faults = faulty_hub
    faults.script = [Fault(429, b'{"error": "slow_down"}', ((b"retry-after", b"2"),))]
    kiosk.queue(25)
    engine = kiosk.engine(interval_s=0.2, backoff_base_s=0.05, backoff_max_s=0.1)
    heard: list[SyncStatus] = []
    engine.subscribe(heard.append)
    engine.start()
    try:
        deadline = time.monotonic() + 15
        while kiosk.outbox.stats()[SubmissionState.DELIVERED.value] < 25 and time.monotonic() < deadline:
            engine.poke()
            time.sleep(0.1)
    finally:
        engine.stop(10)
    assert len(faults.posts) >= 2
    assert faults.posts[1] - faults.posts[0] >= 2.0, f"re-sent after {faults.posts[1] - faults.posts[0]:.2f} s"
    assert any(s.state is SyncState.OFFLINE and s.last_error == "error.hub_busy" and s.queued == 25 for s in heard)
    exactly_once(hub.db_path, kiosk.outbox_path, kiosk.created)


def test_busy_without_retry_after_is_typed_and_keeps_the_requests(faulty_hub: tuple[RunningHub, ScriptedFaults],
                                                                  kiosk: SyncKiosk) -> None:
    """GIVEN a hub answering 503 with Retry-After: 30 WHEN one cycle runs THEN HubBusy, the wait is at least 30 s
    (not the jittered backoff), and the requests stay queued."""
    _hub, faults = faulty_hub
    faults.script = [Fault(503, b"", ((b"retry-after", b"30"),))]
    kiosk.queue(5)
    report = kiosk.engine().sync_once()
    assert isinstance(report.error, HubBusy) and report.error.retry_after == 30 and report.next_in_s >= 30
    assert kiosk.outbox.stats()[SubmissionState.QUEUED.value] == 5


def test_a_kiosk_the_hub_no_longer_knows_keeps_its_queue_and_says_why(faulty_hub: tuple[RunningHub, ScriptedFaults],
                                                                      kiosk: SyncKiosk) -> None:
    """GIVEN a kiosk with 12 queued requests that the hub revoked WHEN it syncs THEN the engine tells the UI
    "not recognised", `kiosk sync --once` exits 1 saying so (401 unknown_kiosk), and `kiosk queue stats` still shows 12
    queued; WHEN a technician enrols it again (`kiosk enroll --force` with a new code) and syncs THEN all 12
    reach the hub exactly once."""
    hub, _faults = faulty_hub
    kiosk.queue(12)
    assert enrolment.revoke(hub.store, kiosk.enrollment.kiosk_id)
    engine = kiosk.engine()
    report = engine.sync_once()
    assert isinstance(report.error, HubUnauthorized) and report.error.reason == "unknown_kiosk"
    assert engine.status == SyncStatus(SyncState.OFFLINE, 12, None, "error.hub_unauthorized")
    refused = kiosk_cli(kiosk.data, "sync", "--once")
    assert refused.returncode == 1
    assert "does not recognise this kiosk" in refused.stderr and "unknown_kiosk" in refused.stderr
    stats = json.loads(kiosk_cli(kiosk.data, "queue", "stats", "--json").stdout)
    assert (stats["queued"], stats["sending"], stats["delivered"]) == (12, 0, 0)
    assert hub_count(hub.db_path) == 0

    enrolled = kiosk_cli(kiosk.data, "enroll", "--hub", hub.url, "--code", hub.enroll_code(), "--force")
    assert enrolled.returncode == 0, enrolled.stderr
    synced = kiosk_cli(kiosk.data, "sync", "--once")
    assert synced.returncode == 0, synced.stderr
    exactly_once(hub.db_path, kiosk.outbox_path, kiosk.created)
    figures = hub_cli_stats(hub.db_path)
    assert (figures["submissions"], figures["duplicates"], figures["kiosks_revoked"]) == (12, 0, 1)
