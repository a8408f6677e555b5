"""What flows back to kiosks: statuses after the back office acts, "my requests", and heartbeats into the fleet."""

from __future__ import annotations

import json
from typing import Any

from hub import backoffice
from hub.models import HubState
from tests.fixtures.hub_server import RunningHub


def test_statuses_round_trip_after_set_status(client: Any, make_item: Any, hub_server: RunningHub) -> None:
    """GIVEN three delivered items WHEN the back office changes two THEN the kiosk sees exactly those, once."""
    items = [make_item() for _ in range(3)]
    client.submit(items)
    first = client.call("GET", "/v1/statuses?since=")
    assert first.json() == {"statuses": [], "cursor": "0", "more": False}

    backoffice.set_status(hub_server.store, items[0]["id"], HubState.IN_PROGRESS)
    backoffice.set_status(hub_server.store, items[2]["id"], HubState.REJECTED, "photo missing")
    feed = client.call("GET", "/v1/statuses?since=0").json()
    assert [(s["id"], s["state"], s["reason"]) for s in feed["statuses"]] == [
        (items[0]["id"], "in_progress", None), (items[2]["id"], "rejected", "photo missing")]

    backoffice.set_status(hub_server.store, items[0]["id"], HubState.CLOSED)
    later = client.call("GET", f"/v1/statuses?since={feed['cursor']}").json()
    assert [(s["id"], s["state"]) for s in later["statuses"]] == [(items[0]["id"], "closed")]
    assert client.call("GET", f"/v1/statuses?since={later['cursor']}").json()["statuses"] == []


def test_statuses_are_only_this_kiosks(client: Any, make_item: Any, hub_server: RunningHub) -> None:
    """GIVEN another kiosk's submission changed WHEN this kiosk asks THEN it sees nothing of it."""
    other = type(client)(hub_server, hub_server.enroll_kiosk("other"), client.session)
    item = make_item()
    other.submit([item])
    backoffice.set_status(hub_server.store, item["id"], HubState.CLOSED)
    assert client.call("GET", "/v1/statuses?since=0").json()["statuses"] == []
    assert len(other.call("GET", "/v1/statuses?since=0").json()["statuses"]) == 1


def test_bad_cursor_is_400(client: Any) -> None:
    """GIVEN a cursor that is not a number WHEN asked THEN 400 bad_cursor."""
    answer = client.call("GET", "/v1/statuses?since=yesterday")
    assert (answer.status_code, answer.json()) == (400, {"error": "bad_cursor"})


def test_heartbeat_shows_in_the_fleet(client: Any, hub_server: RunningHub) -> None:
    """GIVEN a kiosk's heartbeat WHEN the fleet is listed THEN it shows version, queue depth, printer and reader."""
    beat = {"version": "0.1.0", "queue": {"queued": 4, "sending": 1, "oldest_queued_age_s": 93.5},
            "printer": "paper_near_end", "reader": "ok", "ratings": {"5": 3},
            "audit_checkpoint": {"seq": 17, "hash": "ab" * 32}}
    answer = client.call("POST", "/v1/heartbeat", json.dumps(beat).encode(), gzipped=True)
    assert (answer.status_code, answer.json()) == (200, {"audit_problem": None})
    [row] = backoffice.fleet(hub_server.store)
    assert row["kiosk_id"] == client.kiosk.kiosk_id and row["name"] == "Sno community centre"
    assert (row["version"], row["queue_depth"], row["oldest_queued_age_s"]) == ("0.1.0", 5, 93.5)
    assert (row["printer"], row["reader"], row["audit_checkpoint"]["seq"]) == ("paper_near_end", "ok", 17)
    assert row["last_heartbeat"] is not None and 0 <= row["heartbeat_age_s"] < 60


def test_bad_heartbeat_is_400(client: Any) -> None:
    """GIVEN a heartbeat without a version WHEN posted THEN 400 bad_schema."""
    answer = client.call("POST", "/v1/heartbeat", b'{"queue": {}}')
    assert (answer.status_code, answer.json()) == (400, {"error": "bad_schema"})
