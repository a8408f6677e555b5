"""A bad rural link between the kiosk's ``SyncEngine`` and the real hub on 127.0.0.1, played by the TCP
impairment proxy: latency with a bandwidth cap, resets mid-request and mid-response, a truncated
answer, a stall past the client's timeout. Each fault ends with a clean sync, and every request is
at the hub exactly once."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline.hub_client import HubUnreachable
from offline.outbox import SubmissionState
from offline.sync import SyncState
from protocol.wire import ItemResult
from tests.fixtures.hub_server import RunningHub
from tests.fixtures.impair_proxy import Impairment, ImpairmentProxy
from tests.fixtures.sync_check import SyncKiosk, exactly_once, hub_count


@pytest.fixture
def kiosk(hub_server: RunningHub, tmp_path: Path) -> Iterator[SyncKiosk]:  # noqa: F811  (the imported fixture)
    """A kiosk enrolled with the hub directly (the proxy only carries the sync traffic)."""
    made = SyncKiosk(hub_server, tmp_path / "kiosk")
    yield made
    made.close()


@pytest.fixture
def proxy(hub_server: RunningHub) -> Iterator[ImpairmentProxy]:
    """The impairment proxy in front of the hub, a perfect link until a test says otherwise."""
    port = urllib.parse.urlsplit(hub_server.url).port
    assert port is not None
    with ImpairmentProxy(("127.0.0.1", port)) as running:
        yield running


def test_slow_narrow_link_delivers_everything_once(hub_server: RunningHub, kiosk: SyncKiosk,
                                                   proxy: ImpairmentProxy) -> None:
    """GIVEN 150 ms each way and 150 kbit/s WHEN 60 queued requests are synced in batches of 25 THEN one cycle
    delivers them all, taking at least the round trips it needs, and the hub holds each once."""
    proxy.impair(Impairment(latency_s=0.15, bandwidth_bps=150_000))
    kiosk.queue(60)
    started = time.monotonic()
    report = kiosk.engine(base_url=proxy.url, batch_max_items=25).sync_once()
    elapsed = time.monotonic() - started
    assert report.error is None and report.results[ItemResult.ACCEPTED] == 60
    assert elapsed >= 3 * 0.3  # three batches, each a full round trip on this link
    assert proxy.bytes_up > 0 and proxy.bytes_down > 0
    exactly_once(hub_server.db_path, kiosk.outbox_path, kiosk.created)


# (fault, how many the hub stored when the kiosk gave up, what the re-send brings back)
FAULTS = {
    "reset-mid-request": (Impairment(reset_request_after=900, faulty_connections=1), 0, ItemResult.ACCEPTED),
    "reset-mid-response": (Impairment(reset_response_after=40, faulty_connections=1), 150, ItemResult.DUPLICATE),
    "truncated-response": (Impairment(truncate_response_after=700, faulty_connections=1), 150, ItemResult.DUPLICATE),
    "stall-past-timeout": (Impairment(stall_s=2.0, faulty_connections=1), 150, ItemResult.DUPLICATE),
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_a_broken_exchange_is_resent_and_lands_once(hub_server: RunningHub, kiosk: SyncKiosk,
                                                    proxy: ImpairmentProxy, fault: str) -> None:
    """GIVEN 150 queued requests WHEN the link breaks the batch's exchange — a reset while the request goes up
    (the hub stores nothing), a reset or a cut-off body while the answer comes back, or an answer held past
    the kiosk's 0.8 s timeout (the hub stored it all, the kiosk never heard) — THEN the cycle reports the hub
    unreachable, says so, and keeps every request queued; the next cycle re-sends them, the hub answers
    `accepted` or `duplicate` as it had them, every one is delivered, and the hub holds each exactly once."""
    impairment, stored_at_fault, resend_result = FAULTS[fault]
    proxy.impair(impairment)
    kiosk.queue(150)
    engine = kiosk.engine(base_url=proxy.url, timeout_s=0.8)
    broken = engine.sync_once()
    assert isinstance(broken.error, HubUnreachable), broken.error
    assert engine.status.state is SyncState.OFFLINE and engine.status.last_error == "error.hub_unreachable"
    assert kiosk.outbox.stats()[SubmissionState.QUEUED.value] == 150 and proxy.faults_done == 1
    time.sleep(0.3 if fault == "stall-past-timeout" else 0)  # nothing more is coming through that connection
    assert hub_count(hub_server.db_path) == stored_at_fault

    again = engine.sync_once()
    assert again.error is None and again.results[resend_result] == 150 and again.remaining_queued == 0
    assert engine.status.state is SyncState.ONLINE
    exactly_once(hub_server.db_path, kiosk.outbox_path, kiosk.created)
    stats = hub_server.stats()
    assert (stats["submissions"], stats["duplicates"]) == (150, 150 if stored_at_fault else 0)
