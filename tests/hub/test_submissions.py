"""Submissions: accepted once, duplicates counted, bad items rejected alone, bad batches refused whole."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from hub import backoffice
from hub.models import HubState
from protocol.wire import MAX_BATCH_ITEMS, MAX_BODY_BYTES
from tests.fixtures.hub_server import RunningHub

Maker = Callable[..., dict[str, Any]]


def test_signed_batch_is_accepted_and_stored_as_received(client: Any, make_item: Maker, hub_server: RunningHub) -> None:
    """GIVEN three sealed items WHEN posted THEN each is accepted, in order, and the hub can open them."""
    items = [make_item() for _ in range(3)]
    answer = client.submit(items)
    assert answer.status_code == 200
    assert answer.json() == {"results": [{"id": i["id"], "result": "accepted"} for i in items]}
    opened = backoffice.open_submission(hub_server.store, hub_server.keys, items[1]["id"])
    assert opened["payload"] == {"name": "Nino", "personal_number": "01024056789"}
    assert opened["kiosk_id"] == client.kiosk.kiosk_id and opened["state"] == "received"
    assert hub_server.stats()["submissions"] == 3


def test_resend_is_a_duplicate_and_counted(client: Any, make_item: Maker, hub_server: RunningHub) -> None:
    """GIVEN a delivered batch WHEN the kiosk re-sends it (answer lost) THEN duplicate, stored once, counted."""
    items = [make_item() for _ in range(2)]
    client.submit(items)
    again = client.submit([items[0], make_item(), items[1]])
    assert [r["result"] for r in again.json()["results"]] == ["duplicate", "accepted", "duplicate"]
    stats = hub_server.stats()
    assert (stats["submissions"], stats["duplicates"]) == (3, 2)


def test_another_kiosk_sending_an_id_first_neither_claims_nor_blocks_it(client: Any, make_item: Maker,
                                                                         hub_server: RunningHub) -> None:
    """Finding 2, request-id squatting. GIVEN kiosk B sends kiosk A's not-yet-delivered id first (with its own
    payload) WHEN A's real request arrives THEN A's is accepted and kept under A (B's is B's own), A's re-send is
    A's duplicate, a status A's clerk sets reaches A only, and the back office asks which kiosk's is meant."""
    mine = make_item()
    squatter = type(client)(hub_server, hub_server.enroll_kiosk("squatter"), client.session)
    assert squatter.submit([make_item(id=mine["id"])]).json()["results"] == [{"id": mine["id"], "result": "accepted"}]
    assert client.submit([mine]).json()["results"] == [{"id": mine["id"], "result": "accepted"}]
    assert client.submit([mine]).json()["results"] == [{"id": mine["id"], "result": "duplicate"}]
    holders = hub_server.query("SELECT kiosk_id, sealed FROM submissions WHERE id = :id ORDER BY kiosk_id", id=mine["id"])
    assert {k for k, _ in holders} == {client.kiosk.kiosk_id, squatter.kiosk.kiosk_id}
    assert base64.b64encode(bytes(dict(holders)[client.kiosk.kiosk_id])).decode() == mine["sealed"]
    with pytest.raises(backoffice.AmbiguousSubmission):
        backoffice.set_status(hub_server.store, mine["id"], HubState.CLOSED)
    backoffice.set_status(hub_server.store, mine["id"], HubState.CLOSED, kiosk_id=client.kiosk.kiosk_id)
    assert [s["state"] for s in client.call("GET", "/v1/statuses?since=").json()["statuses"]] == ["closed"]
    assert squatter.call("GET", "/v1/statuses?since=").json()["statuses"] == []
    assert hub_server.stats()["duplicates"] == 1


def test_bad_item_is_rejected_and_the_rest_stored(client: Any, make_item: Maker, hub_server: RunningHub) -> None:
    """GIVEN a batch with bad items between good ones WHEN posted THEN only the bad ones are rejected, with reasons."""
    good = [make_item(), make_item()]
    bad = [make_item(sealed="not base64!"), make_item(id="123"), make_item(created_at="2026-11-21T10:00:00"),
           make_item(synthetic="yes"), "not an object", make_item(extra="field")]
    results = client.submit([good[0], *bad, good[1]]).json()["results"]
    assert [r["result"] for r in results] == ["accepted", *["rejected"] * len(bad), "accepted"]
    assert [r.get("reason") for r in results[1:-1]] == [
        "invalid:sealed", "invalid:id", "invalid:created_at", "invalid:synthetic", "invalid:item", "invalid:extra"]
    assert results[2]["id"] == "123" and results[5]["id"] is None
    assert hub_server.stats()["submissions"] == 2


def test_gzip_body_is_accepted_and_the_answer_gzipped(client: Any, make_item: Maker, hub_server: RunningHub) -> None:
    """GIVEN a gzip-compressed batch signed as sent WHEN posted THEN its items are accepted, the verdicts gzipped."""
    items = [make_item() for _ in range(50)]
    answer = client.submit(items, gzipped=True)
    assert answer.status_code == 200 and {r["result"] for r in answer.json()["results"]} == {"accepted"}
    assert answer.headers["Content-Encoding"] == "gzip"
    assert hub_server.stats()["submissions"] == 50


def test_malformed_json_and_bad_shapes_are_400_and_store_nothing(client: Any, hub_server: RunningHub) -> None:
    """GIVEN bodies that are not JSON, not a batch, or broken gzip WHEN posted THEN 400 and nothing stored."""
    cases = [(b'{"items": [', {}, "malformed_json"), (b'[1, 2]', {}, "bad_schema"),
             (b'{"items": {}}', {}, "bad_schema"), (b'{"items": [], "more": 1}', {}, "bad_schema")]
    for body, extra, word in cases:
        answer = client.call("POST", "/v1/submissions", body, headers=extra)
        assert (answer.status_code, answer.json()) == (400, {"error": word}), body
    broken = client.call("POST", "/v1/submissions", b"", headers={"Content-Encoding": "gzip"})
    assert broken.status_code == 400
    assert hub_server.stats()["submissions"] == 0


def test_too_many_items_is_413_and_stores_nothing(client: Any, make_item: Maker, hub_server: RunningHub) -> None:
    """GIVEN one item more than the limit WHEN posted THEN 413 too_many_items and nothing stored."""
    item = make_item()
    answer = client.submit([item] * (MAX_BATCH_ITEMS + 1))
    assert (answer.status_code, answer.json()) == (413, {"error": "too_many_items"})
    assert hub_server.stats()["submissions"] == 0


def test_oversized_body_is_413_even_gzipped(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a body past 4 MB, plain or as a small gzip bomb WHEN posted THEN 413 too_large."""
    huge = json.dumps({"items": [], "pad": "x" * MAX_BODY_BYTES}).encode()
    plain = client.call("POST", "/v1/submissions", huge)
    bomb = client.call("POST", "/v1/submissions", huge, gzipped=True)
    assert len(gzip.compress(huge)) < 10_000
    for answer in (plain, bomb):
        assert (answer.status_code, answer.json()) == (413, {"error": "too_large"})
    assert hub_server.stats()["submissions"] == 0
