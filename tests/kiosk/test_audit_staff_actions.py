"""Every privileged action the core offers lands in the audit log: staff actions, configuration, enrolment."""

from __future__ import annotations

import dataclasses
import json

import pytest
import requests

from entrypoints.bootstrap import build_services
from hardware.demo_pki import DEMO_CITIZEN
from kiosk.audit import Actor
from kiosk.clock import utc_now
from kiosk.errors import PaperOut
from kiosk.ports import PaperState
from kiosk.services import Services
from kiosk.staff import CancelReason, NotAllowed, NotCancellable
from offline.enrollment import enroll
from offline.outbox import SubmissionState
from tests.fixtures.journey_run import submit_one

STAFF = Actor("staff", "*******2345")
TECH = Actor("technician", "passcode")


def _log(services: Services) -> list[tuple[str, str, str, dict]]:
    return [(e.actor_role, e.actor_id, e.action, e.details) for e in services.privileged.audit.entries()]


def test_reprint_prints_without_personal_data_and_is_audited(services: Services) -> None:
    """GIVEN a receipt that did not print (paper out) WHEN staff reprint it while the paper is still out, then
    after a new roll THEN the first try is audited with the reason and raises, the second prints a receipt
    with the same number and no name or personal number, clears the reprint, and is audited."""
    services.demo.printer.set_paper(PaperState.OUT)
    request_id = submit_one(services)
    desk = services.privileged.staff
    assert [s.id for s, _ in desk.pending_reprints()] == [request_id]
    with pytest.raises(PaperOut):
        desk.reprint(STAFF, request_id)
    services.demo.printer.set_paper(PaperState.OK)
    receipt = desk.reprint(STAFF, request_id)
    printed = services.demo.printer.receipts[-1].receipt
    assert printed.receipt_no == receipt.receipt_no == services.outbox.get(request_id).receipt_no
    text = json.dumps([line.text for line in printed.lines], ensure_ascii=False)
    assert DEMO_CITIZEN["surname"] not in text and DEMO_CITIZEN["personal_number"][-3:] not in text
    assert desk.pending_reprints() == []
    reprints = [(who, d["outcome"]) for _, who, action, d in _log(services) if action == "staff.reprint"]
    assert reprints == [("*******2345", "error.paper_out"), ("*******2345", "printed")]


def test_cancel_a_queued_request_with_a_reason(services: Services) -> None:
    """GIVEN a queued request WHEN staff cancel it (duplicate), then try again THEN it is cancelled with the
    reason, the second try is refused, and both are audited."""
    request_id = submit_one(services)
    desk = services.privileged.staff
    cancelled = desk.cancel(STAFF, request_id, CancelReason.DUPLICATE)
    assert cancelled.state is SubmissionState.CANCELLED and cancelled.reason == "duplicate"
    assert services.outbox.stats()["cancelled"] == 1
    with pytest.raises(NotCancellable):
        desk.cancel(STAFF, request_id, CancelReason.DUPLICATE)
    assert [(a, d["outcome"], d["reason"]) for _, _, a, d in _log(services) if a == "staff.cancel"] == [
        ("staff.cancel", "cancelled", "duplicate"), ("staff.cancel", "refused", "duplicate")]


def test_an_assisted_session_logs_its_requests_and_its_end(services: Services) -> None:
    """GIVEN staff starting an assisted session WHEN the villager submits a request and takes the card out
    THEN the audit log says: assisted start, the request assisted by that staff member, assisted end."""
    desk = services.privileged.staff
    desk.start_assisted(STAFF)
    request_id = submit_one(services)
    services.demo.reader.remove()
    assisted = [(who, a, d) for _, who, a, d in _log(services) if a.startswith("assisted.")]
    assert assisted == [("*******2345", "assisted.start", {}),
                        ("*******2345", "assisted.request",
                         {"request_id": request_id, "receipt_no": services.outbox.get(request_id).receipt_no}),
                        ("*******2345", "assisted.end", {"reason": "session_ended"})]
    assert desk.assisted_by is None


def test_roles_are_checked_before_any_staff_action(services: Services) -> None:
    """GIVEN a technician and a villager WHEN they try staff-only actions THEN NotAllowed, nothing logged."""
    request_id = submit_one(services)
    desk = services.privileged.staff
    before = len(_log(services))
    with pytest.raises(NotAllowed):
        desk.start_assisted(TECH)
    with pytest.raises(NotAllowed):
        desk.cancel(Actor("citizen", "*******5083"), request_id, CancelReason.TEST)
    assert len(_log(services)) == before


def test_a_configuration_change_is_audited_at_start(demo_settings, clock) -> None:
    """GIVEN a kiosk started once WHEN it starts again unchanged, then with another centre name
    THEN the log has the first start and one change naming kiosk.centre_name only."""
    for settings in (demo_settings, demo_settings,
                     dataclasses.replace(demo_settings,
                                         kiosk=dataclasses.replace(demo_settings.kiosk, centre_name="Sno"))):
        built = build_services(settings, clock=clock.wall, monotonic=clock.monotonic)
        log = _log(built)
        built.close()
    changes = [d["changed"] for _, _, a, d in log if a == "config.changed"]
    assert changes == [["(first start)"], ["kiosk.centre_name"]]


def test_an_enrolment_from_the_shell_is_audited_at_the_next_start(demo_settings, clock, hub_server) -> None:
    """GIVEN the kiosk enrolled with the real hub outside the app (what `kiosk enroll` does) WHEN the kiosk
    starts twice THEN one enrolment entry, by the system, naming the hub and the kiosk id, never the code."""
    data = demo_settings.kiosk.data_dir
    code = hub_server.enroll_code()
    with requests.Session() as session:
        enrolled = enroll(session, hub_server.url, code, data, name="test kiosk", clock=utc_now)
    for _ in range(2):
        built = build_services(demo_settings, clock=clock.wall, monotonic=clock.monotonic)
        log = _log(built)
        built.close()
    enrolments = [(role, d) for role, _, a, d in log if a == "enrolment"]
    assert len(enrolments) == 1 and enrolments[0][0] == "system"
    assert (enrolments[0][1]["hub_url"], enrolments[0][1]["kiosk_id"]) == (hub_server.url, enrolled.kiosk_id)
    assert code not in json.dumps(enrolments)
