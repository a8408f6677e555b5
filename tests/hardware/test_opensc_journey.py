"""The villager's journey through a real middleware: pcscd, vpcd, a virtual PIV ID card (``kiosk dev
virtual-card``) and OpenSC's PKCS#11 module, with the kiosk configured as for a real card
(``card.driver = "pkcs11"``, ``card.reader = "pcsc"``)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from entrypoints.bootstrap import build_services
from kiosk.config import load_settings
from kiosk.session import Step
from offline.outbox import SubmissionState
from protocol.catalogue import ServiceKind
from tests.fixtures.hub_server import REPO
from tests.fixtures.journey_run import answer_for
from tests.fixtures.ui_loop import UiLoop
from tests.fixtures.vpcd_card import PcscdProcess

OPENSC_MODULE = Path("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")


@pytest.fixture
def virtual_card(vpcd_pcscd: PcscdProcess, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """``kiosk dev virtual-card`` running against the private pcscd, and the settings it printed."""
    if not OPENSC_MODULE.exists():
        pytest.skip("OpenSC's PKCS#11 module is not installed (Debian package opensc-pkcs11)")
    vpcd_pcscd.start()
    child = subprocess.Popen([sys.executable, "-m", "entrypoints", "dev", "virtual-card", "--port", str(vpcd_pcscd.port),
                              "--data-dir", str(tmp_path / "kiosk")], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    printed: dict[str, str] = {}
    watchdog = threading.Timer(30, child.kill)  # a card that never starts must not hang the run
    watchdog.start()
    try:
        for line in child.stdout:  # it prints its settings at once, then waits
            key, _, value = line.strip().partition("=")
            if value and key.isupper():
                printed[key] = value
            if "KIOSK_CARD_TRUST_ANCHORS" in printed:
                break
    finally:
        watchdog.cancel()
    if "KIOSK_CARD_TRUST_ANCHORS" not in printed:
        child.kill()
        pytest.fail("kiosk dev virtual-card did not start")
    try:
        yield child, printed
    finally:
        child.kill()
        child.wait(10)
        from tests.fixtures.vpcd_card import vpcd_reader_name
        from tests.hardware.conftest import _wait_slot_empty

        _wait_slot_empty(vpcd_reader_name(0))


def test_a_villager_sends_a_request_with_the_virtual_card_through_opensc(
        virtual_card: tuple[subprocess.Popen[str], dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the kiosk on pcsc + OpenSC and the virtual card in the reader, card operations on their own thread
    as in the touch app WHEN the villager types the PIN, answers a form and confirms THEN the request is queued
    with the card's proof of presence; WHEN the card is pulled THEN the session ends and nothing of it is held."""
    _child, printed = virtual_card
    monkeypatch.setenv("OPENSC_CONF", printed["OPENSC_CONF"])
    env = {"KIOSK_KIOSK_DATA_DIR": str(tmp_path / "kiosk"), "KIOSK_CARD_DRIVER": "pkcs11", "KIOSK_CARD_READER": "pcsc",
           "KIOSK_CARD_PKCS11_MODULE": printed["KIOSK_CARD_PKCS11_MODULE"],
           "KIOSK_CARD_TRUST_ANCHORS": printed["KIOSK_CARD_TRUST_ANCHORS"], "KIOSK_CARD_REVOCATION": "off",
           "KIOSK_HUB_PUBLIC_KEY": base64.b64encode(bytes(PrivateKey.generate().public_key)).decode(),
           "KIOSK_PRINTER_URI": ""}
    settings = load_settings(None, env={**os.environ, **env})
    services = build_services(settings)
    ui = UiLoop()
    try:
        journey = services.journey
        journey.card_work.use_thread(ui.post)  # OpenSC called from the card thread, as the kiosk does
        services.card_reader.start(lambda event: ui.post(lambda: journey.on_card_event(event)))
        ui.pump(lambda: journey.step is Step.PIN)
        pin = bytearray(b"1234")
        journey.enter_pin(pin)
        ui.pump(lambda: journey.card_work.idle)
        assert journey.step is Step.SERVICES and pin == bytearray(), journey.session.problem
        service = next(s for s in journey.catalogue.services
                       if s.kind is ServiceKind.FORM and not s.needs_signature and s.fields)
        journey.choose_service(service.id)
        while journey.step is Step.FORM:
            journey.answer(answer_for(journey.current_field, journey))
        journey.confirm()
        ui.pump(lambda: journey.card_work.idle)
        assert journey.step is Step.DONE, journey.session.problem
        assert journey.session.presence is not None
        [queued] = services.outbox.list()
        assert queued.state is SubmissionState.QUEUED
        _child.stdin.write("\n")  # Enter: the card comes out
        _child.stdin.flush()
        ui.pump(lambda: journey.step is Step.ATTRACT)
        assert journey.session.is_empty
    finally:
        services.card_reader.stop()
        services.close()


def test_kiosk_diag_card_reads_the_virtual_card_through_opensc(
        virtual_card: tuple[subprocess.Popen[str], dict[str, str]], tmp_path: Path) -> None:
    """GIVEN the virtual card in the reader and the kiosk pointed at OpenSC (only environment variables)
    WHEN a technician runs `kiosk diag card --json` THEN it reads the holder (masked) and finds both certificates
    valid, without a PIN."""
    import json

    _child, printed = virtual_card
    env = {**os.environ, **printed, "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "diag"), "KIOSK_CARD_READER": "pcsc",
           "KIOSK_CARD_REVOCATION": "off"}
    proc = subprocess.run([sys.executable, "-m", "entrypoints", "diag", "card", "--json"], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["card_read"] is True and report["holder"]["personal_number"] == "********083"
    assert {c["role"]: c["status"] for c in report["certificates"]} == {"authentication": "valid", "signing": "valid"}
    assert "01024085083" not in proc.stdout


def test_the_technicians_card_test_reads_the_virtual_card_through_opensc(
        virtual_card: tuple[subprocess.Popen[str], dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the kiosk on pcsc + OpenSC and the virtual card in the reader WHEN the technician's desk runs its card
    check and card test (the diagnostic screen's buttons) THEN the reader shows with a card in, the holder is read
    masked and both certificates are valid — no PIN asked."""
    _child, printed = virtual_card
    monkeypatch.setenv("OPENSC_CONF", printed["OPENSC_CONF"])
    env = {**os.environ, **printed, "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "tech"), "KIOSK_CARD_READER": "pcsc",
           "KIOSK_CARD_REVOCATION": "off", "KIOSK_PRINTER_URI": "",
           "KIOSK_HUB_PUBLIC_KEY": base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()}
    services = build_services(load_settings(None, env=env))
    try:
        deadline = time.monotonic() + 10  # pcscd sees the card at vpcd's next poll
        while not any(r["card_present"] for r in services.technician.card()["readers"]):
            assert time.monotonic() < deadline, "the virtual card never showed in its reader"
            time.sleep(0.1)
        section = services.technician.card()
        report = services.technician.test_card()
    finally:
        services.close()
    assert section["status"] == "ok" and any(r["card_present"] for r in section["readers"]), section
    assert report["card_read"] is True and report["holder"]["personal_number"] == "********083", report
    assert {c["role"]: c["status"] for c in report["certificates"]} == {"authentication": "valid", "signing": "valid"}
