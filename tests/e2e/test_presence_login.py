"""The card's proof of presence, made at a real login: with the hub's nonce when the hub answers,
without it when the hub is down — and a session never waits long for the hub."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from entrypoints.bootstrap import build_services
from entrypoints.sync_wiring import build_sync_engine
from hardware.demo_pki import load_or_make_demo_pki
from kiosk.clock import utc_now
from kiosk.config import load_settings
from kiosk.my_requests import CITIZEN_SECRET_FILE
from offline.enrollment import enroll, load_enrollment
from protocol.presence import PresenceToken
from protocol.sealing import open_sealed
from protocol.wire import ItemResult
from tests.fixtures.hub_server import start_hub
from tests.fixtures.journey_run import DEMO_PIN, submit_one


def test_a_login_signs_the_hubs_nonce_and_the_hub_takes_the_request(tmp_path: Path) -> None:
    """GIVEN a kiosk enrolled with a hub that trusts the card's CAs (and an old "my requests" key on its disk)
    WHEN the villager logs in and sends a request, then the hub goes down and another login follows
    THEN the first token names the enrolled kiosk and carries the hub's nonce, the hub accepts the request;
    the second login goes on without a nonce, within a second; the old key file is gone."""
    data = tmp_path / "kiosk"
    settings = load_settings(None, env={"KIOSK_KIOSK_DATA_DIR": str(data)}).simulated(data)
    pki = load_or_make_demo_pki(data / "demo-pki", utc_now())
    (data / CITIZEN_SECRET_FILE).write_bytes(b"k" * 32)
    hub = start_hub(tmp_path / "hub", trust_anchors=[pki.root.cert, pki.auth_ca.cert, pki.sign_ca.cert])
    try:
        enroll(requests.Session(), hub.url, hub.enroll_code(), data, name="Sno", clock=utc_now)
        enrolled = load_enrollment(data)
        assert enrolled is not None
        services = build_services(settings)
        assert not (data / CITIZEN_SECRET_FILE).exists()
        services.card_reader.start(services.journey.on_card_event)
        try:
            request_id = submit_one(services)
            token = services.journey.session.presence
            assert token is not None and token.challenge.kiosk_id == enrolled.kiosk_id
            assert token.challenge.hub_nonce
            services.demo.reader.remove()
            engine = build_sync_engine(settings)
            try:
                assert engine.sync_once().results[ItemResult.ACCEPTED] == 1
            finally:
                engine.close()
            sealed = hub.query("SELECT sealed FROM submissions WHERE id = :id", id=request_id)[0][0]
            assert PresenceToken.from_json(open_sealed(hub.keys.seal_private, bytes(sealed))["presence"]) == token

            hub.stop()
            services.demo.reader.insert(services.demo.new_card())
            started = time.monotonic()
            services.journey.enter_pin(bytearray(DEMO_PIN.encode()))
            assert time.monotonic() - started < 1.5  # the grace for the nonce, not a network timeout
            offline = services.journey.session.presence
            assert offline is not None and offline.challenge.hub_nonce is None
            assert offline.challenge.session_id != token.challenge.session_id
        finally:
            services.close()
    finally:
        hub.stop()
