"""The technician's desk on the kiosk wired by the composition root: each check and action returns what
the technician screen draws, and the ones that change trust or write files are audited."""

from __future__ import annotations

import json
from pathlib import Path

from hardware.demo_pki import DEMO_CITIZEN
from kiosk.audit import Actor, AuditAction
from kiosk.ports import PaperState
from kiosk.services import Services
from kiosk.technician import pinned_hub_sign_key

TECH = Actor("technician", "passcode")


def _entries(services: Services, action: AuditAction) -> list[tuple[str, dict]]:
    return [(e.actor_role, e.details) for e in services.privileged.audit.entries() if e.action == action.value]


def test_the_card_check_lists_the_reader_and_the_card_test_masks_the_number(services: Services) -> None:
    """GIVEN the simulated reader with the demo card in it WHEN the technician checks the readers and tests the
    card THEN the reader is listed with its card, and the card is read with its number masked."""
    services.demo.reader.insert(services.demo.new_card())
    section = services.technician.card()
    assert section["status"] == "ok" and [r["card_present"] for r in section["readers"]] == [True]
    report = services.technician.test_card()
    assert report["card_read"] and report["certificates"]
    assert DEMO_CITIZEN["personal_number"] not in json.dumps(report)
    assert report["holder"]["personal_number"].startswith("*")


def test_a_test_print_lands_on_the_printer_in_the_language_asked(services: Services) -> None:
    """GIVEN the simulated printer, ready WHEN the technician prints the sample receipt in English THEN one
    receipt is printed, in English, and the outcome says it printed."""
    printed = len(services.demo.printer.receipts)
    outcome = services.technician.test_print("en")
    assert outcome.key == "tech.printer.printed"
    assert len(services.demo.printer.receipts) == printed + 1
    assert services.technician.printer()["status"] == "ok"


def test_a_printer_error_gives_its_translated_reason(services: Services) -> None:
    """GIVEN the printer out of paper WHEN the technician prints the sample receipt THEN nothing is printed and
    the outcome is a failure whose reason is the error's translation key, said in the screen's language."""
    services.demo.printer.set_paper(PaperState.OUT)
    printed = len(services.demo.printer.receipts)
    outcome = services.technician.test_print("en")
    assert (outcome.key, outcome.reason_key) == ("tech.printer.failed", "error.paper_out")
    assert len(services.demo.printer.receipts) == printed
    reason = services.translator("error.paper_out", "en")
    assert reason in outcome.words(lambda key, **params: services.translator(key, "en", **params))


def test_enrolment_with_a_real_hub_code_is_audited_pins_the_hub_and_restarts_sync(services: Services,
                                                                                  hub_server) -> None:
    """GIVEN a kiosk not enrolled, sync not running, and a fresh code from the real hub WHEN the technician enrols
    THEN the outcome names the hub and the kiosk id, one enrolment entry by the technician is in the audit log
    (hub, kiosk id, never the code), the hub's key is pinned and background sync runs."""
    assert not services.sync.running
    code = hub_server.enroll_code()
    outcome = services.technician.enrol(TECH, hub_server.url, code)
    assert outcome.key == "tech.enrol.done", outcome
    assert outcome.params["hub"] == hub_server.url
    enrolments = _entries(services, AuditAction.ENROLMENT)
    assert [role for role, _ in enrolments] == ["technician"]
    details = enrolments[0][1]
    assert (details["hub_url"], details["kiosk_id"], details["how"]) == \
        (hub_server.url, outcome.params["kiosk"], "technician_screen")
    assert code not in json.dumps(enrolments)
    assert pinned_hub_sign_key(services.settings.kiosk.data_dir) == hub_server.verify_key
    assert services.sync.running


def test_a_wrong_code_is_audited_as_failed(services: Services, hub_server) -> None:
    """GIVEN the real hub and a code it never made WHEN the technician enrols with it THEN the outcome is a failure
    saying why, the attempt is audited with the hub and the error (never the code), and sync stays off."""
    outcome = services.technician.enrol(TECH, hub_server.url, "WRONG-CODE-1234")
    assert outcome.key == "tech.enrol.failed"
    assert "EnrollmentCodeRefused" in str(outcome.params["reason"])
    enrolments = _entries(services, AuditAction.ENROLMENT)
    assert enrolments == [("technician", {"hub_url": hub_server.url, "outcome": "EnrollmentCodeRefused"})]
    assert "WRONG-CODE-1234" not in json.dumps(enrolments)
    assert not services.sync.running


def test_the_bundle_is_written_and_audited(services: Services, tmp_path: Path) -> None:
    """GIVEN a folder typed as a USB stick's path WHEN the technician writes the bundle THEN the zip is in the folder,
    the outcome names it, and the audit log holds the export by the technician; a relative path is no folder."""
    desk = services.technician
    assert desk.bundle_folder("usb") is None
    folder = desk.bundle_folder(f"  {tmp_path / 'usb'} ")
    assert folder == tmp_path / "usb"
    outcome = desk.write_bundle(TECH, folder)
    assert outcome.key == "tech.bundle.written"
    written = Path(str(outcome.params["path"]))
    assert written.parent == folder and written.exists()
    exports = _entries(services, AuditAction.DIAG_BUNDLE)
    assert [(role, d["file"]) for role, d in exports] == [("technician", written.name)]


def test_sync_now_before_enrolment_says_it_is_not_enrolled(services: Services) -> None:
    """GIVEN a kiosk never enrolled WHEN the technician asks for a sync now THEN the outcome is a failure whose
    reason names the missing enrolment, and the queue can still be read."""
    outcome = services.technician.sync_now()
    assert outcome.key == "tech.sync.failed"
    assert str(outcome.params["reason"]).startswith("NotEnrolled")
    assert services.technician.queue()["status"] in ("ok", "warning")
