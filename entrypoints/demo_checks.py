"""After the demo tour: what the hub makes of a thief, and what a second centre shows the same card.

Two checks the headless tour runs against its local hub once the villager's journey is over:

* a forged request — signed with this kiosk's own device key, as a thief who carried the kiosk away
  could sign, in the demo citizen's name, but without the card — must be refused by the hub;
* a second kiosk (another centre, enrolled with the same hub) asked "my requests" by the same card
  must list the requests made at the first;
* the demo clerk, signed in to the back office, marks the tour's first request ready to collect: the
  kiosk's next sync and the villager's status page must show it.

Each writes what it saw as JSON next to the tour's pictures and says ``ok`` or ``FAILED``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import requests

from entrypoints.bootstrap import build_services
from hardware.demo_pki import DEMO_CITIZEN
from kiosk.clock import utc_now
from kiosk.config import Settings
from kiosk.session import Step
from offline.enrollment import enroll, load_enrollment
from offline.hub_client import HubClient
from offline.sync_types import OutgoingItem
from protocol.catalogue import ServiceKind
from protocol.sealing import PayloadSealer
from protocol.wire import ItemResult

DEMO_CARD_PIN = "1234"  # a fresh demo card's PIN (the tour changed its own card's)


def forged_request(settings: Settings, target: Path) -> str | None:
    """Send a request made with the device key alone; None when the hub refused it, else what went wrong."""
    data = settings.kiosk.data_dir
    enrollment = load_enrollment(data)
    if enrollment is None:
        return "the demo kiosk is not enrolled"
    sealer = PayloadSealer(base64.b64decode(enrollment.hub_seal_public_key))
    now = utc_now()
    payload = {"schema": 1, "kiosk_id": settings.kiosk.kiosk_id, "service": "residence_certificate", "language": "ka",
               "submitted_at": now.isoformat(), "citizen": dict(DEMO_CITIZEN), "answers": {}, "synthetic": False}
    item = OutgoingItem(str(uuid.uuid4()), f"{settings.kiosk.kiosk_id}-FORGED-0001", "residence_certificate",
                        now.isoformat(), False, sealer.seal(payload), centre=settings.kiosk.centre_name)
    with requests.Session() as session:
        client = HubClient(session, enrollment.hub_url, enrollment.identity(data), clock=utc_now, timeout_s=10)
        outcome = client.submit([item])[0]
    seen = {"what": "a request signed with the kiosk's device key, in the demo citizen's name, without the card",
            "result": outcome.result.value, "reason": outcome.reason}
    target.write_text(json.dumps(seen, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if outcome.result is not ItemResult.REJECTED:
        return f"the hub answered {outcome.result.value} to a request made without the card"
    return None


def second_kiosk(settings: Settings, hub: Any, target: Path, made: list[str]) -> str | None:
    """A second centre's kiosk, enrolled with ``hub``: the same card's "my requests" must list ``made``."""
    folder = settings.kiosk.data_dir.parent / (settings.kiosk.data_dir.name + "-second-kiosk")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copytree(settings.kiosk.data_dir / "demo-pki", folder / "demo-pki")  # the same demo card works there
    second = settings.simulated(folder)
    second = dataclasses.replace(second, kiosk=dataclasses.replace(second.kiosk, kiosk_id="KSK-0002",
                                                                  centre_name="Kazbegi community centre"))
    with requests.Session() as session:
        enroll(session, hub.url, hub.enroll_code(), folder, name="demo second kiosk", clock=utc_now)
    services = build_services(second)
    try:
        assert services.demo is not None
        journey = services.journey
        services.card_reader.start(journey.on_card_event)
        services.demo.reader.insert(services.demo.new_card())
        journey.enter_pin(bytearray(DEMO_CARD_PIN.encode()))
        if journey.step is not Step.SERVICES:
            return f"the second kiosk did not take the demo card ({journey.step.value})"
        journey.choose_service(next(s.id for s in journey.catalogue.services if s.kind is ServiceKind.MY_REQUESTS))
        result = journey.session.my_requests
        services.demo.reader.remove()
    finally:
        services.close()
    if result is None:
        return "the second kiosk showed no list"
    listed = [{"receipt_no": r.receipt_no, "centre": r.centre, "state": r.state} for r in result.requests]
    target.write_text(json.dumps({"source": result.source.value, "requests": listed}, ensure_ascii=False, indent=1)
                      + "\n", encoding="utf-8")
    missing = set(made) - {r["receipt_no"] for r in listed}
    if result.source.value != "hub" or missing:
        return f"the second kiosk's list came from {result.source.value} and lacks {sorted(missing)}"
    return None


def office_closes_request(services: Any, hub: Any, password: str, receipt_no: str, status_url: str,
                          target: Path) -> str | None:
    """The demo clerk signs in to the back office (as a browser does: cookies, CSRF tokens), finds the request
    by its receipt number and marks it ready to collect; the kiosk's next sync and the villager's page show it."""
    base = f"{hub.url}/office"

    def csrf(page: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        return found.group(1) if found else ""

    with requests.Session() as browser:
        login = browser.get(f"{base}/login", timeout=10)
        signed_in = browser.post(f"{base}/login", timeout=10, data={
            "csrf": csrf(login.text), "username": "demo-clerk", "password": password})
        listed = browser.get(f"{base}/requests", params={"receipt": receipt_no, "lang": "en"}, timeout=10)
        link = re.search(r'href="(/office/requests/[^"]+)"', listed.text)
        if not signed_in.ok or link is None:
            return f"the demo clerk could not find {receipt_no} in the back office"
        page = browser.get(hub.url + link.group(1), timeout=10)
        seen = re.search(r'name="seen" value="(\d*)"', page.text)
        done = browser.post(hub.url + link.group(1), timeout=10, data={
            "csrf": csrf(page.text), "state": "closed", "seen": seen.group(1) if seen else ""})
        if "Ready to collect" not in done.text and "მზადაა" not in done.text:
            return "the back office did not take the change"
    services.sync.sync_once()
    kept = next((s for s in services.outbox.list() if s.receipt_no == receipt_no), None)
    villager = requests.get(status_url + ("&" if "?" in status_url else "?") + "lang=en", timeout=10)
    seen_by = {"kiosk": kept.hub_state.value if kept and kept.hub_state else None,
               "status_page": "Ready" in villager.text}
    target.write_text(json.dumps({"receipt_no": receipt_no, "closed_by": "demo-clerk", **seen_by}, indent=1) + "\n",
                      encoding="utf-8")
    if seen_by != {"kiosk": "closed", "status_page": True}:
        return f"the change did not reach everyone: {seen_by}"
    return None
