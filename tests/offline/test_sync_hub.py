"""The sync engine against the real reference hub on 127.0.0.1: verdicts, re-sends, statuses, documents."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hardware.demo_pki import make_crl, make_demo_pki, write_crl
from hub import backoffice, documents
from hub.models import HubState as HubSideState
from kiosk.roles import HubPin, RoleStore
from offline.enrollment import Enrollment, enroll
from offline.hub_client import HubClient
from offline.outbox import HubState, Outbox, SubmissionState
from offline.sync import DocumentSinks, Health, SyncConfig, SyncEngine, SyncState
from protocol.sealing import PayloadSealer
from protocol.wire import ItemResult
from tests.fixtures.clock import real_now
from tests.fixtures.hub_server import RunningHub

REPO = Path(__file__).resolve().parents[2]


def utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Kiosk:
    """An enrolled kiosk's outbox, sealer and engine, wired as the CLI wires them."""

    def __init__(self, hub: RunningHub, data: Path, **config: int) -> None:
        self.data = data
        self.enrollment: Enrollment = enroll(requests.Session(), hub.url, hub.enroll_code(), data, name="t", clock=utc)
        self.session = requests.Session()
        self.outbox = Outbox(data / "outbox.sqlite", "KSK-0001", utc)
        self.sealer = PayloadSealer(self.enrollment.seal_key())
        self.catalogues: list[bytes] = []
        self.engine = self.make_engine(**config)

    def client(self) -> HubClient:
        return HubClient(self.session, self.enrollment.hub_url, self.enrollment.identity(self.data), clock=utc)

    def make_engine(self, **config: int) -> SyncEngine:
        identity = self.enrollment.identity(self.data)
        self.roles = RoleStore(self.data, HubPin(identity.hub_sign_key, identity.kiosk_id))
        sinks = DocumentSinks(on_catalogue=self.catalogues.append, crl_dir=self.data / "crl", on_roles=self.roles.save)
        return SyncEngine(outbox=self.outbox, client=self.client(), config=SyncConfig(**config),
                          health=Health("9.9", printer=lambda: "ready", reader=lambda: "no card"),
                          documents=sinks, clock=utc)

    def queue(self, n: int, citizen: str = "ck") -> list[str]:
        return [self.outbox.enqueue(service="residence_certificate", sealed=self.sealer.seal({"n": i}),
                                    holder=citizen).id for i in range(n)]


@pytest.fixture
def kiosk(hub_server: RunningHub, tmp_path: Path) -> Iterator[Kiosk]:
    made = Kiosk(hub_server, tmp_path / "kiosk", batch_max_items=4)
    yield made
    made.engine.stop()
    made.outbox.close()


def test_a_cycle_delivers_everything_in_capped_batches(hub_server: RunningHub, kiosk: Kiosk) -> None:
    """GIVEN ten queued requests and batches of four WHEN one cycle runs THEN all ten are delivered in three
    POSTs, the hub holds each once, and the heartbeat reached the fleet view."""
    ids = kiosk.queue(10)
    posts: list[str] = []
    kiosk.session.hooks["response"].append(
        lambda resp, *_a, **_k: posts.append(resp.request.path_url) if resp.request.method == "POST" else None)
    report = kiosk.engine.sync_once()
    assert posts.count("/v1/submissions") == 3 and posts.count("/v1/heartbeat") == 1
    assert report.error is None and report.results[ItemResult.ACCEPTED] == 10 and report.remaining_queued == 0
    assert {kiosk.outbox.get(i).state for i in ids} == {SubmissionState.DELIVERED}
    assert hub_server.stats()["submissions"] == 10 and hub_server.stats()["duplicates"] == 0
    (me,) = [k for k in backoffice.fleet(hub_server.store) if k["kiosk_id"] == kiosk.enrollment.kiosk_id]
    assert (me["version"], me["printer"], me["reader"], me["queue_depth"]) == ("9.9", "ready", "no card", 0)
    assert kiosk.engine.status.state is SyncState.ONLINE


def test_a_lost_answer_is_resent_and_counted_as_delivered(hub_server: RunningHub, kiosk: Kiosk, tmp_path: Path) -> None:
    """GIVEN a batch the hub stored but whose answer the kiosk never saved (crash while `sending`) WHEN the
    outbox reopens and a cycle runs (putting what was in flight back to queued) THEN the hub answers
    `duplicate`, the kiosk marks it delivered, and the hub still holds it once."""
    (item,) = kiosk.queue(1)
    batch = kiosk.outbox.claim_batch(10, 10**6)
    kiosk.client().submit(batch)  # the hub stores it; the answer is "lost"
    kiosk.outbox.close()
    kiosk.outbox = Outbox(kiosk.data / "outbox.sqlite", "KSK-0001", utc)  # restart: still sending until a sync
    assert kiosk.outbox.get(item).state is SubmissionState.SENDING       # holding the lock resumes it
    report = kiosk.make_engine().sync_once()
    assert report.results[ItemResult.DUPLICATE] == 1
    assert kiosk.outbox.get(item).state is SubmissionState.DELIVERED
    assert hub_server.stats()["submissions"] == 1 and hub_server.stats()["duplicates"] == 1


def test_a_rejected_item_stops_there_with_the_hub_reason(hub_server: RunningHub, kiosk: Kiosk) -> None:
    """GIVEN one item the hub will refuse (a payload too short to be a sealed box) among good ones WHEN sent
    THEN it is `rejected` with the hub's reason, the others are delivered, and nothing is left queued."""
    good = kiosk.queue(2)
    bad = kiosk.outbox.enqueue(service="residence_certificate", sealed=b"short", holder=None).id
    report = kiosk.engine.sync_once()
    assert report.results[ItemResult.REJECTED] == 1 and report.remaining_queued == 0
    rejected = kiosk.outbox.get(bad)
    assert rejected.state is SubmissionState.REJECTED and "sealed" in (rejected.reason or "")
    assert {kiosk.outbox.get(i).state for i in good} == {SubmissionState.DELIVERED}


def test_statuses_come_back_for_my_requests(hub_server: RunningHub, kiosk: Kiosk) -> None:
    """GIVEN delivered requests WHEN the back office closes one and rejects another THEN the next cycle brings
    both back: one closed, one closed with the agency's reason, and "my requests" offline shows the hub's words
    (online, from every centre: tests/hub/test_presence.py and tests/e2e/test_my_requests_online.py)."""
    a, b, c = kiosk.queue(3, citizen="villager")
    kiosk.engine.sync_once()
    backoffice.set_status(hub_server.store, a, HubSideState.CLOSED)
    backoffice.set_status(hub_server.store, b, HubSideState.REJECTED, "missing_document")
    report = kiosk.engine.sync_once()
    assert report.statuses == 2 and kiosk.outbox.meta("status_cursor") not in (None, "0")
    assert kiosk.outbox.get(a).state is SubmissionState.CLOSED
    assert kiosk.outbox.get(b).hub_state is HubState.REJECTED and kiosk.outbox.get(b).hub_reason == "missing_document"
    assert kiosk.outbox.get(c).state is SubmissionState.DELIVERED
    assert [r.id for r in kiosk.outbox.requests_for("villager")] == [c, b, a]
    assert kiosk.engine.sync_once().statuses == 0  # the cursor moved on


def test_documents_arrive_signed_and_etags_save_downloads(hub_server: RunningHub, kiosk: Kiosk, tmp_path: Path) -> None:
    """GIVEN a published catalogue, CRL bundle and role list WHEN cycles run THEN the catalogue reaches the callback
    once (304 afterwards), the CRL lands in crl_dir as DER, and the role store keeps the signed role list."""
    documents.publish_catalogue(hub_server.store, hub_server.keys, REPO / "assets" / "catalogue" / "catalogue.json")
    pki = make_demo_pki(real_now())  # the hub and the kiosk read the wall clock
    crl_src = tmp_path / "crl-src"
    write_crl(crl_src, "auth", make_crl(pki.auth_ca, this_update=pki.issued_at))
    documents.publish_crl(hub_server.store, hub_server.keys, crl_src)
    documents.add_role(hub_server.store, "01024085083", "technician", "Giorgi")
    assert kiosk.engine.sync_once().problems == []
    kiosk.engine.sync_once()
    assert kiosk.catalogues == [(REPO / "assets" / "catalogue" / "catalogue.json").read_bytes()]
    crls = list((kiosk.data / "crl").glob("hub-*.crl"))
    assert [p.read_bytes() for p in crls] == [(crl_src / "auth.crl").read_bytes()]
    assert kiosk.roles.load().name_of("01024085083") == "Giorgi"


def test_the_background_thread_drains_and_publishes(hub_server: RunningHub, kiosk: Kiosk) -> None:
    """GIVEN queued requests WHEN the engine's thread starts THEN it drains them and publishes syncing, then online."""
    kiosk.queue(5)
    online = threading.Event()
    heard = []

    def listen(status: object) -> None:
        heard.append(status)
        if status.state is SyncState.ONLINE:  # type: ignore[attr-defined]
            online.set()

    kiosk.engine.subscribe(listen)
    kiosk.engine.start()
    assert online.wait(20)
    kiosk.engine.stop(10)
    assert kiosk.outbox.stats()["delivered"] == 5
    assert heard[0].state is SyncState.SYNCING and heard[0].queued == 5 and heard[-1].queued == 0
