"""The diagnostic bundle holds what a technician needs and nothing personal from the journeys before it."""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.cli import main
from hardware.demo_pki import DEMO_CITIZEN
from kiosk.audit import Actor
from kiosk.diag_bundle import write_bundle
from kiosk.diagnostics import diagnose
from kiosk.services import Services
from kiosk.staff import CancelReason
from tests.fixtures.journey_run import DEMO_PIN, PHONE, submit_one

SECRETS = [DEMO_CITIZEN["personal_number"], DEMO_CITIZEN["given_name"], DEMO_CITIZEN["surname"], PHONE]
PIN_TOKEN = re.compile(rf"(?<![0-9A-Za-z]){DEMO_PIN}(?![0-9A-Za-z])")


@pytest.fixture
def kiosk_log(services: Services) -> Iterator[Path]:
    """The kiosk's log file as `kiosk run` writes it, for the length of the test."""
    path = services.settings.kiosk.data_dir / "logs" / "kiosk.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def _contents(bundle: Path) -> dict[str, str]:
    with zipfile.ZipFile(bundle) as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def test_bundle_after_a_journey_holds_no_personal_data(services: Services, kiosk_log: Path, clock,
                                                       tmp_path: Path) -> None:
    """GIVEN a villager's whole journey (demo card, PIN 1234), a staff cancel, and a careless log line that
    names the villager WHEN the bundle is written to a "USB stick" THEN it holds the diag report, config,
    queue, audit tail and logs, the journey is visible in them (receipt number, audit entries), and no
    personal number, name, phone or PIN is anywhere in it."""
    request_id = submit_one(services)
    services.demo.reader.remove()
    services.privileged.staff.cancel(Actor("staff", "*******2345"), request_id, CancelReason.TEST)
    logging.getLogger("kiosk.careless").error(
        "card of %s %s (%s) refused, PIN %s", DEMO_CITIZEN["given_name"], DEMO_CITIZEN["surname"],
        DEMO_CITIZEN["personal_number"], DEMO_PIN)
    report = diagnose(services.settings, services=services)
    usb = tmp_path / "usb"
    bundle = write_bundle(services.settings, usb, report, outbox=services.outbox, audit=services.privileged.audit,
                          actor=Actor("technician", "passcode"), clock=clock.wall)

    assert bundle.parent == usb and bundle.name.startswith("kiosk-diag-KSK-0001-") and bundle.suffix == ".zip"
    files = _contents(bundle)
    assert {"diag.json", "config.json", "queue.json", "audit-tail.json", "manifest.json", "logs/kiosk.log"} <= set(files)
    receipt_no = services.outbox.get(request_id).receipt_no
    queue = json.loads(files["queue.json"])
    assert queue["latest"][0]["receipt_no"] == receipt_no and queue["stats"]["cancelled"] == 1
    audit = json.loads(files["audit-tail.json"])
    assert audit["verify"]["ok"] and "staff.cancel" in [e["action"] for e in audit["tail"]]
    assert "[personal-number]" in files["logs/kiosk.log"] and "request " + receipt_no in files["logs/kiosk.log"]
    for name, text in files.items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)
        assert not PIN_TOKEN.search(text), (name, PIN_TOKEN.search(text))
    assert services.privileged.audit.tail(1)[0].action == "diag.bundle"


def test_cli_diag_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a simulated kiosk WHEN `kiosk diag --bundle DIR` runs THEN it prints the report and the zip's path,
    the zip is in DIR, and the export is in the audit log."""
    for key, value in {"KIOSK_KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_CARD_READER": "simulated",
                       "KIOSK_CARD_DRIVER": "simulated", "KIOSK_PRINTER_URI": "simulated"}.items():
        monkeypatch.setenv(key, value)
    assert main(["diag", "--bundle", str(tmp_path / "usb")]) == 0
    out = capsys.readouterr().out
    [bundle] = (tmp_path / "usb").glob("kiosk-diag-*.zip")
    assert f"diagnostic bundle: {bundle}" in out
    assert json.loads(_contents(bundle)["diag.json"])["status"] == "warning"  # no hub configured
    assert main(["audit", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[-1]["action"] == "diag.bundle"
