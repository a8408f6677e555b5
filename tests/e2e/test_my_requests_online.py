""""My requests" from every centre when online, from this kiosk when the hub cannot be reached.

Two kiosks on simulated hardware (the same demo PKI, so one card works at both), a real hub on loopback
that trusts that PKI and checks every request's proof of presence, and the journeys driven as a
villager drives them: card in, PIN, a service.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from entrypoints.bootstrap import build_services
from entrypoints.sync_wiring import build_sync_engine
from hardware.demo_pki import load_or_make_demo_pki
from hub import backoffice
from hub.models import HubState
from kiosk.clock import utc_now
from kiosk.config import Settings, load_settings
from kiosk.my_requests import Source
from kiosk.session import Step
from offline.enrollment import enroll
from protocol.catalogue import ServiceKind
from protocol.wire import ItemResult
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.journey_run import DEMO_PIN, submit_one


def _settings(folder: Path, kiosk_id: str, centre: str) -> Settings:
    env = {"KIOSK_KIOSK_DATA_DIR": str(folder), "KIOSK_KIOSK_KIOSK_ID": kiosk_id, "KIOSK_KIOSK_CENTRE_NAME": centre}
    return load_settings(None, env=env).simulated(folder)


@pytest.fixture
def two_centres(tmp_path: Path) -> Iterator[tuple[RunningHub, Settings, Settings]]:
    """A hub trusting the demo PKI, and the kiosks of Sno and Kazbegi enrolled with it."""
    sno, kazbegi = _settings(tmp_path / "sno", "KSK-SNO", "Sno"), _settings(tmp_path / "kazbegi", "KSK-KAZ", "Kazbegi")
    pki = load_or_make_demo_pki(sno.kiosk.data_dir / "demo-pki", utc_now())
    shutil.copytree(sno.kiosk.data_dir / "demo-pki", kazbegi.kiosk.data_dir / "demo-pki")  # one card for both
    hub = start_hub(tmp_path / "hub", trust_anchors=[pki.root.cert, pki.auth_ca.cert, pki.sign_ca.cert])
    try:
        for settings in (sno, kazbegi):
            enroll(requests.Session(), hub.url, hub.enroll_code(), settings.kiosk.data_dir,
                   name=settings.kiosk.centre_name, clock=utc_now)
        yield hub, sno, kazbegi
    finally:
        hub.stop()


def _my_requests(services: Any) -> Any:
    """Card in, PIN, "my requests": what the screen would show."""
    journey = services.journey
    services.demo.reader.insert(services.demo.new_card())
    journey.enter_pin(bytearray(DEMO_PIN.encode()))
    assert journey.step is Step.SERVICES, journey.session.problem
    journey.choose_service(next(s.id for s in journey.catalogue.services if s.kind is ServiceKind.MY_REQUESTS))
    assert journey.step is Step.MY_REQUESTS
    result = journey.session.my_requests
    services.demo.reader.remove()  # the card comes out: the session ends
    return result


def test_my_requests_at_a_second_kiosk_lists_a_request_made_at_the_first(
        two_centres: tuple[RunningHub, Settings, Settings]) -> None:
    """GIVEN a request made with the card at Sno, synced, and moved to "in progress" by the back office
    WHEN the same card asks "my requests" at Kazbegi THEN the hub lists it, with Sno as its centre and its state;
    AND WHEN the hub is down THEN Kazbegi says it shows its own list (empty), and Sno still shows its request."""
    hub, sno, kazbegi = two_centres
    at_sno = build_services(sno)
    at_sno.card_reader.start(at_sno.journey.on_card_event)
    try:
        request_id = submit_one(at_sno)
        receipt_no = at_sno.outbox.get(request_id).receipt_no
        at_sno.demo.reader.remove()
        engine = build_sync_engine(sno)
        try:
            report = engine.sync_once()
        finally:
            engine.close()
        assert report.results[ItemResult.ACCEPTED] == 1, report
        assert hub.query("SELECT presence IS NOT NULL FROM submissions") == [(1,)]  # the card's proof came with it
        backoffice.set_status(hub.store, request_id, HubState.IN_PROGRESS)

        at_kazbegi = build_services(kazbegi)
        at_kazbegi.card_reader.start(at_kazbegi.journey.on_card_event)
        try:
            online = _my_requests(at_kazbegi)
            assert online.source is Source.HUB
            assert [(r.receipt_no, r.centre, r.state) for r in online.requests] == [(receipt_no, "Sno", "in_progress")]
            assert at_kazbegi.journey.session.is_empty  # the list went with the session
            hub.stop()
            offline = _my_requests(at_kazbegi)
            assert (offline.source, offline.requests) == (Source.KIOSK, ())
        finally:
            at_kazbegi.close()
        at_home = _my_requests(at_sno)
        assert at_home.source is Source.KIOSK and [r.receipt_no for r in at_home.requests] == [receipt_no]
    finally:
        at_sno.close()
