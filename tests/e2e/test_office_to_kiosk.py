"""A request's whole round trip: made with the card at a kiosk, worked by a clerk in the back office, and the
new state back at the kiosk ("my requests"), on the villager's status page and in the office's audit."""

from __future__ import annotations

from pathlib import Path

import requests

from entrypoints.bootstrap import build_services
from hardware.demo_pki import load_or_make_demo_pki
from hub.office.accounts import Accounts, Role
from kiosk.clock import utc_now
from kiosk.config import load_settings
from kiosk.session import Step
from offline.enrollment import enroll
from protocol.catalogue import ServiceKind
from tests.fixtures.hub_server import start_hub
from tests.fixtures.journey_run import DEMO_PIN, submit_one
from tests.fixtures.office_desk import PASSWORD, Desk


def test_a_clerk_closes_a_kiosk_request_and_the_kiosk_and_the_villager_see_it(tmp_path: Path) -> None:
    """GIVEN a request made with the card at a kiosk and synced to a hub that checks the card's proof
    WHEN a clerk finds it by its receipt number in the back office, sees the card was there, and marks it ready
    THEN the kiosk's next sync brings "closed", the card's "my requests" shows it closed, and the request's status
    page (the receipt's QR code opens it on a hub with --public-url) says it is ready."""
    data = tmp_path / "kiosk"
    settings = load_settings(None, env={"KIOSK_KIOSK_DATA_DIR": str(data)}).simulated(data)
    pki = load_or_make_demo_pki(data / "demo-pki", utc_now())
    with start_hub(tmp_path / "hub", trust_anchors=[pki.root.cert, pki.auth_ca.cert, pki.sign_ca.cert]) as hub:
        enroll(requests.Session(), hub.url, hub.enroll_code(), data, name="Sno", clock=utc_now)
        Accounts(hub.store, hub.keys).add("nino", Role.CLERK, PASSWORD)
        services = build_services(settings)
        services.card_reader.start(services.journey.on_card_event)
        try:
            request_id = submit_one(services)
            receipt = services.journey.session.result.receipt
            services.demo.reader.remove()
            services.sync.sync_once()

            clerk = Desk(hub)
            clerk.login("nino")
            listed = clerk.get(f"/office/requests?receipt={receipt.receipt_no}&lang=en")
            assert listed.text.count('<tr><td><a href="/office/requests/') == 1 and receipt.receipt_no in listed.text
            page = f"/office/requests/{hub.query('SELECT kiosk_id FROM submissions')[0][0]}/{request_id}"
            opened = clerk.get(page + "?lang=en")
            assert 'id="presence">verified' in opened.text.replace("\n", "").replace("  ", "")
            assert clerk.post(page, {"state": "closed", "seen": ""}).headers["location"] == page + "?done=closed"

            services.sync.sync_once()
            assert services.outbox.get(request_id).hub_state.value == "closed"
            services.demo.reader.insert(services.demo.new_card())
            services.journey.enter_pin(bytearray(DEMO_PIN.encode()))
            journey = services.journey
            journey.choose_service(next(s.id for s in journey.catalogue.services if s.kind is ServiceKind.MY_REQUESTS))
            assert journey.step is Step.MY_REQUESTS
            assert [(r.receipt_no, r.state) for r in journey.session.my_requests.requests] == [
                (receipt.receipt_no, "closed")]
            services.demo.reader.remove()
            kiosk_id, token = hub.query("SELECT kiosk_id, tracking_token FROM submissions")[0]
            assert token == services.outbox.get(request_id).tracking_token
            assert "Ready" in requests.get(f"{hub.url}/r/{kiosk_id}/{token}?lang=en", timeout=10).text
        finally:
            services.close()
