""""My requests" from the hub when online, from this kiosk when the hub cannot be reached."""

from __future__ import annotations

from pathlib import Path

import requests

from entrypoints.bootstrap import build_services
from entrypoints.sync_wiring import build_sync_engine, hub_requests_source
from hardware.demo_pki import DEMO_CITIZEN
from hub import backoffice
from hub.models import HubState
from kiosk.clock import utc_now
from kiosk.config import load_settings
from kiosk.my_requests import MyRequests, Source, outbox_source
from offline.enrollment import enroll
from protocol.sealing import load_or_make_secret
from tests.fixtures.hub_server import start_hub
from tests.fixtures.journey_run import submit_one


def test_my_requests_come_from_the_hub_online_and_from_the_kiosk_offline(tmp_path: Path) -> None:
    """GIVEN a kiosk enrolled with the real hub and one request synced and closed by the back office
    WHEN the citizen asks for their requests THEN the list comes from the hub with the hub's state;
    AND WHEN the hub is down THEN the same request comes from this kiosk's outbox, said to be local."""
    settings = load_settings(None, env={"KIOSK_KIOSK_DATA_DIR": str(tmp_path / "kiosk")}).simulated(tmp_path / "kiosk")
    hub = start_hub(tmp_path / "hub")
    try:
        enroll(requests.Session(), hub.url, hub.enroll_code(), settings.kiosk.data_dir, name="t", clock=utc_now)
        services = build_services(settings)
        services.card_reader.start(services.journey.on_card_event)
        try:
            request_id = submit_one(services)
            engine = build_sync_engine(settings)
            try:
                engine.sync_once()
            finally:
                engine.close()
            backoffice.set_status(hub.store, request_id, HubState.CLOSED, "ready to collect")
            lookup = MyRequests(secret=load_or_make_secret(settings.kiosk.data_dir / "citizen-hash.key"),
                                local=outbox_source(services.outbox), remote=hub_requests_source(settings))
            online = lookup.lookup(DEMO_CITIZEN["personal_number"])
            assert online.source is Source.HUB
            assert [r.state for r in online.requests] == ["closed"]
            hub.stop()
            offline = lookup.lookup(DEMO_CITIZEN["personal_number"])
            assert offline.source is Source.KIOSK
            assert [r.receipt_no for r in offline.requests] == [r.receipt_no for r in online.requests]
        finally:
            services.close()
    finally:
        hub.stop()
