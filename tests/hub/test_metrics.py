"""``GET /metrics``: what an operator's Prometheus scrapes, read from the database so every worker agrees."""

from __future__ import annotations

import json
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.hub_server import RunningHub


def _scrape(hub: RunningHub) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"{hub.url}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_what_kiosks_sent_and_how_long_since_each_beat(client: Any, make_item: Any,
                                                                     hub_server: RunningHub) -> None:
    """GIVEN a kiosk that sent three requests, re-sent two, sent one bad item and a heartbeat, and a second kiosk
    that never beat WHEN /metrics is scraped THEN submissions by state, duplicates, rejections by reason,
    each kiosk's heartbeat age, the silent kiosk and answer latencies by route are there."""
    items = [make_item() for _ in range(3)]
    client.submit(items)
    client.submit([*items[:2], make_item(id="not-a-uuid")])
    client.call("POST", "/v1/heartbeat", json.dumps({"version": "1"}).encode())
    hub_server.enroll_kiosk("silent")
    figures = _scrape(hub_server)
    assert figures[("kiosk_hub_submissions", (("state", "received"),))] == 3
    assert figures[("kiosk_hub_duplicates_total", ())] == 2
    assert figures[("kiosk_hub_rejections_total", (("reason", "invalid:id"),))] == 1
    age = figures[("kiosk_hub_heartbeat_age_seconds", (("kiosk_id", client.kiosk.kiosk_id),
                                                        ("name", "Sno community centre")))]
    assert 0 <= age < 60
    assert figures[("kiosk_hub_kiosks_silent", ())] == 1
    assert figures[("kiosk_hub_request_seconds_count", (("route", "/v1/submissions"), ("status", "200")))] >= 2
