"""The hub as a fleet runs it: several worker processes on PostgreSQL, every guarantee held by the database
(not by one process's memory), and a kiosk that enrols and syncs through it end to end."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hub import backoffice
from hub.models import HubState
from protocol.sealing import PayloadSealer
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.postgres import PostgresCluster
from tests.fixtures.sync_check import SyncKiosk, exactly_once
from tests.hub.conftest import SignedClient


@pytest.fixture
def fleet_hub(tmp_path: Path, postgres_cluster: PostgresCluster) -> Iterator[RunningHub]:
    """`kiosk hub serve --db postgresql://… --workers 2` as a child process."""
    url = postgres_cluster.create_database()
    with start_hub(tmp_path / "hub", db_url=url, in_thread=False, workers=2) as hub:
        yield hub


def _item(hub: RunningHub, **fields: Any) -> dict[str, Any]:
    sealed = PayloadSealer(hub.seal_public_key).seal({"name": "Nino"})
    return {"id": str(uuid.uuid4()), "receipt_no": "K1-1", "service": "s", "citizen_key": None, "synthetic": False,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "sealed": base64.b64encode(sealed).decode(), **fields}


def _at_once(calls: list[Any]) -> list[Any]:
    """Run the calls on threads released together; their results in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_one_signed_request_sent_to_both_workers_at_once_is_taken_once(fleet_hub: RunningHub) -> None:
    """GIVEN one signed batch (one nonce) WHEN it reaches the hub eight times at once, over eight connections
    spread over both workers THEN exactly one is answered 200 and stored, the others 401 replay."""
    kiosk = fleet_hub.enroll_kiosk()
    body = json.dumps({"items": [_item(fleet_hub)]}).encode()
    headers = {**kiosk.sign("POST", "/v1/submissions", body), "Content-Type": "application/json"}
    answers = _at_once([lambda: requests.post(fleet_hub.url + "/v1/submissions", data=body, headers=headers,
                                              timeout=30) for _ in range(8)])
    assert sorted(a.status_code for a in answers) == [200] + [401] * 7
    assert fleet_hub.count("submissions") == 1


def test_one_request_sent_in_many_batches_at_once_is_stored_once(fleet_hub: RunningHub) -> None:
    """GIVEN one request WHEN eight differently signed batches carry it at once THEN one 'accepted', seven
    'duplicate', one row: the primary key decides, whichever worker answers."""
    kiosk = fleet_hub.enroll_kiosk()
    item = _item(fleet_hub)
    with requests.Session() as session:
        client = SignedClient(fleet_hub, kiosk, session)
        verdicts = _at_once([lambda: client.submit([item]).json()["results"][0]["result"] for _ in range(8)])
    assert sorted(verdicts) == ["accepted"] + ["duplicate"] * 7
    assert fleet_hub.count("submissions") == 1 and fleet_hub.stats()["duplicates"] == 7


def test_status_numbers_are_handed_out_in_commit_order(fleet_hub: RunningHub) -> None:
    """GIVEN forty requests WHEN clerks change their states from eight threads at once THEN the statuses feed,
    read page by page with its cursor, shows every change exactly once."""
    kiosk = fleet_hub.enroll_kiosk()
    items = [_item(fleet_hub) for _ in range(40)]
    with requests.Session() as session:
        client = SignedClient(fleet_hub, kiosk, session)
        client.submit(items)
        seen: list[str] = []
        cursor = ""

        def clerk(part: list[dict[str, Any]]) -> Any:
            return lambda: [backoffice.set_status(fleet_hub.store, i["id"], HubState.IN_PROGRESS) for i in part]

        def read() -> None:
            nonlocal cursor
            page = client.call("GET", f"/v1/statuses?since={cursor}").json()
            seen.extend(s["id"] for s in page["statuses"])
            cursor = page["cursor"]

        _at_once([clerk(items[i::8]) for i in range(8)] + [lambda: [read() for _ in range(20)]])
        read()
    assert sorted(seen) == sorted(i["id"] for i in items) and len(seen) == 40


def test_a_kiosk_enrols_with_and_syncs_to_a_fleet_hub(fleet_hub: RunningHub, tmp_path: Path) -> None:
    """GIVEN `kiosk hub serve --db postgresql://… --workers 2` WHEN a kiosk enrols over HTTP, queues 60 requests
    and syncs, and a clerk closes one THEN every request is at the hub exactly once, the kiosk knows each is
    delivered, and the closed state comes back to the kiosk (every answer signed by the hub)."""
    kiosk = SyncKiosk(fleet_hub, tmp_path / "kiosk")
    kiosk.queue(60)
    engine = kiosk.engine(batch_max_items=20)
    for _ in range(10):
        if engine.sync_once().remaining_queued == 0:
            break
    exactly_once(fleet_hub, kiosk.outbox_path, kiosk.created)
    closed = kiosk.created[0]
    backoffice.set_status(fleet_hub.store, closed, HubState.CLOSED, "ready to collect")
    report = engine.sync_once()
    assert report.error is None and report.statuses == 1
    assert kiosk.outbox.get(closed).hub_state.value == "closed"


def test_metrics_add_up_across_workers(fleet_hub: RunningHub) -> None:
    """GIVEN twelve heartbeats answered by two worker processes WHEN /metrics is scraped (by whichever worker)
    THEN the latency count for the route is at least twelve: every worker's figures are summed."""
    from prometheus_client.parser import text_string_to_metric_families

    with requests.Session() as session:
        client = SignedClient(fleet_hub, fleet_hub.enroll_kiosk(), session)
        for _ in range(12):
            with requests.Session() as fresh:  # new connections, so both workers take some
                assert SignedClient(fleet_hub, client.kiosk, fresh).call(
                    "POST", "/v1/heartbeat", json.dumps({"version": "1"}).encode()).status_code == 200
    text = requests.get(f"{fleet_hub.url}/metrics", timeout=10).text
    counts = [s.value for f in text_string_to_metric_families(text) for s in f.samples
              if s.name == "kiosk_hub_request_seconds_count" and s.labels.get("route") == "/v1/heartbeat"]
    assert sum(counts) >= 12
