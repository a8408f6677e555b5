"""An SMS when a request's state changes, through a real Kannel and its fake SMS centre: once per change,
in the villager's language, to the phone inside the sealed payload, retried while the gateway is down."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hub import backoffice
from hub.models import HubState
from hub.notifier import Notifier
from hub.page_texts import TEXTS
from protocol.sealing import PayloadSealer
from tests.fixtures.clock import FakeClock, real_now
from tests.fixtures.hub_server import RunningHub, start_hub
from tests.fixtures.sms_gateway import KannelGateway
from tests.hub.conftest import SignedClient

REPO = Path(__file__).resolve().parents[2]
PUBLIC = "https://hub.example.ge"


def _request(hub: RunningHub, client: SignedClient, *, phone: str | None = "599 12 34 56", language: str = "ka") -> str:
    answers = {"reason": "work"} | ({"phone": phone} if phone else {})
    sealed = PayloadSealer(hub.seal_public_key).seal({"language": language, "answers": answers,
                                                      "citizen": {"personal_number": "01024056789"}})
    item = {"id": str(uuid.uuid4()), "receipt_no": f"KSK-1-{uuid.uuid4().int % 10_000:04d}",
            "service": "birth_record_extract", "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "citizen_key": None, "synthetic": False, "sealed": base64.b64encode(sealed).decode(),
            "tracking_token": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="), "language": language}
    assert client.submit([item]).json()["results"][0]["result"] == "accepted"
    return item["id"]


def test_set_status_from_the_command_line_texts_once_in_the_villagers_language(tmp_path: Path,
                                                                              sms_gateway: KannelGateway) -> None:
    """GIVEN `kiosk hub serve --sms-gateway … --public-url …` and a Georgian request with a phone WHEN the clerk runs
    `kiosk hub set-status ID in_progress` THEN exactly one SMS reaches the SMS centre: to +995…, in Georgian, with
    the state, the receipt number and the page's link; a later `closed` sends one more."""
    args = ["--sms-gateway", sms_gateway.sendsms_url, "--public-url", PUBLIC]
    with start_hub(tmp_path / "hub", in_thread=False, serve_args=args) as hub:
        import requests

        client = SignedClient(hub, hub.enroll_kiosk("Sno"), requests.Session())
        request_id = _request(hub, client)
        cli = [sys.executable, "-m", "entrypoints", "hub", "set-status", *hub.cli_args(), request_id]
        assert subprocess.run([*cli, "in_progress"], cwd=REPO, capture_output=True, timeout=60).returncode == 0
        [sms] = sms_gateway.wait_for(1)
        assert sms.receiver == "+995599123456"
        assert TEXTS["ka"]["state.in_progress"] in sms.text and "KSK-1-" in sms.text
        assert f"{PUBLIC}/r/{client.kiosk.kiosk_id}/" in sms.text and len(sms.text) <= 134
        time.sleep(3)  # a second worker pass, a restart: nothing sent twice
        assert len(sms_gateway.received()) == 1
        assert subprocess.run([*cli, "closed"], cwd=REPO, capture_output=True, timeout=60).returncode == 0
        assert TEXTS["ka"]["state.closed"] in sms_gateway.wait_for(2)[1].text
        [(outcome, answer)] = {(r[0], r[1][:2]) for r in hub.query("SELECT outcome, gateway_answer FROM notifications")}
        assert (outcome, answer) == ("sent", "0:")


def test_while_the_gateway_is_down_the_text_waits_and_goes_once_it_is_back(hub_server: RunningHub, client: Any,
                                                                          sms_gateway: KannelGateway) -> None:
    """GIVEN the gateway down WHEN a request changes state THEN the notifier records the failure and waits (10 s,
    then 20 s…); once the gateway is back and the wait is over, the SMS goes, once."""
    clock = FakeClock(real_now())  # the hub's own clock stamps the change: start the notifier's there
    notifier = Notifier(hub_server.store, hub_server.keys, sms_gateway.sendsms_url, PUBLIC, clock=clock.wall)
    request_id = _request(hub_server, client, language="en")
    sms_gateway.stop_smsbox()
    backoffice.set_status(hub_server.store, request_id, HubState.REJECTED, "the photo is missing")
    clock.advance(1)
    assert notifier.run_once() == 1
    [(attempts, outcome, done)] = hub_server.query("SELECT attempts, outcome, done_at FROM notifications")
    assert (attempts, outcome, done) == (1, "gateway_unreachable", None)
    sms_gateway.start_smsbox()
    assert notifier.run_once() == 0  # not due yet
    clock.advance(11)
    assert notifier.run_once() == 1
    [sms] = sms_gateway.wait_for(1)
    assert sms.text.startswith("Birth record extract: Refused.")
    assert notifier.run_once() == 0 and len(sms_gateway.received()) == 1


def test_no_phone_no_sms(hub_server: RunningHub, client: Any, sms_gateway: KannelGateway) -> None:
    """GIVEN a request without a phone WHEN it changes state THEN nothing is sent and the outbox says why."""
    notifier = Notifier(hub_server.store, hub_server.keys, sms_gateway.sendsms_url, PUBLIC)
    backoffice.set_status(hub_server.store, _request(hub_server, client, phone=None), HubState.CLOSED)
    assert notifier.run_once() == 1
    assert hub_server.query("SELECT outcome FROM notifications") == [("no_phone",)]
    time.sleep(1)
    assert sms_gateway.received() == []


def test_two_workers_sending_at_once_send_each_text_once(hub_server: RunningHub, client: Any,
                                                         sms_gateway: KannelGateway) -> None:
    """GIVEN ten changes waiting WHEN two notifiers (two workers) take them at the same moment THEN each change is
    sent by exactly one of them: ten SMS, ten rows settled."""
    ids = [_request(hub_server, client) for _ in range(10)]
    for request_id in ids:
        backoffice.set_status(hub_server.store, request_id, HubState.IN_PROGRESS)
    workers = [Notifier(hub_server.store, hub_server.keys, sms_gateway.sendsms_url, PUBLIC) for _ in range(2)]
    start = threading.Barrier(2)

    def run(worker: Notifier) -> None:
        start.wait()
        while worker.run_once(limit=3):
            pass

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(sms_gateway.wait_for(10)) == 10
    time.sleep(1)
    assert len(sms_gateway.received()) == 10
    with hub_server.store.read() as db:
        assert db.execute(text("SELECT COUNT(*) FROM notifications WHERE outcome = 'sent'")).scalar() == 10
