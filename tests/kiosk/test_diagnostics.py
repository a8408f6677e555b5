"""`kiosk diag`: each part failing in turn is reported in its own section, with the reason in words."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.bootstrap import build_services
from entrypoints.cli import main
from entrypoints.diag_cli import diagnose_wired
from kiosk.config import Settings
from kiosk.diagnostics import SECTIONS, DiskThresholds, diagnose, hub_section
from tests.hardware.fake_tcp_printer import NEAR_END, FakeTcpPrinter

REPO = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _with(settings: Settings, **sections: dict) -> Settings:
    return dataclasses.replace(settings, **{name: dataclasses.replace(getattr(settings, name), **values)
                                            for name, values in sections.items()})


def _statuses(report: dict) -> dict[str, str]:
    return {name: report[name]["status"] for name in SECTIONS}


@pytest.fixture
def healthy(demo_settings: Settings, hub_server) -> Settings:
    """A simulated kiosk whose hub (the real one, on loopback) answers."""
    return _with(demo_settings, hub={"url": hub_server.url})


def test_a_healthy_kiosk_reports_ok_everywhere(healthy: Settings, clock) -> None:
    """GIVEN simulated card and printer and a running hub WHEN diagnosed THEN every section is ok, the hub's
    latency is measured, and the exit code is 0."""
    services = build_services(healthy, clock=clock.wall, monotonic=clock.monotonic)
    services.card_reader.start(services.journey.on_card_event)
    services.demo.reader.insert(services.demo.new_card())
    try:
        report = diagnose(healthy, services=services)
    finally:
        services.close()
    assert _statuses(report) == dict.fromkeys(SECTIONS, "ok"), report
    assert report["status"] == "ok" and report["card"]["readers"][0]["card_present"] is True
    assert report["hub"]["http_status"] > 0 and report["hub"]["latency_ms"] >= 0
    assert report["queue"]["queued"] == 0 and "reprints_pending" in report["queue"]
    assert report["system"]["versions"]["python"] and report["system"]["disk_free_bytes"] > 0


@pytest.mark.parametrize("failing", ["card", "printer", "hub", "disk"])
def test_each_part_failing_in_turn_is_named(failing: str, healthy: Settings, clock) -> None:
    """GIVEN one part broken at a time — the card reader unplugged, a printer that never answers, the hub's
    port closed, the disk (by threshold) nearly full — WHEN diagnosed THEN exactly that section is an
    error with its reason, and the others are not."""
    settings, disk, printer = healthy, DiskThresholds(), None
    if failing == "printer":
        printer = FakeTcpPrinter(state=None)
        settings = _with(settings, printer={"uri": printer.uri})
    elif failing == "hub":
        settings = _with(settings, hub={"url": f"http://127.0.0.1:{_closed_port()}"})
    elif failing == "disk":
        disk = DiskThresholds(warning_bytes=2**62, error_bytes=2**61)
    services = build_services(settings, clock=clock.wall, monotonic=clock.monotonic)
    services.demo.reader.unplugged = failing == "card"
    try:
        report = diagnose(settings, services=services, disk=disk, hub_timeout_s=2)
    finally:
        services.close()
        if printer:
            printer.close()
    section = "system" if failing == "disk" else failing
    expected = {name: "error" if name == section else "ok" for name in SECTIONS}
    assert _statuses(report) == expected, report
    reason = report[section]["reason"]
    assert {"card": "no card reader", "printer": "not answering", "hub": "unreachable",
            "disk": "disk nearly full"}[failing] in reason


def test_warnings_do_not_fail(healthy: Settings, clock) -> None:
    """GIVEN paper near its end and a disk under the warning level WHEN diagnosed THEN both sections warn,
    nothing is an error, and the exit code stays 0."""
    printer = FakeTcpPrinter(state=NEAR_END)
    settings = _with(healthy, printer={"uri": printer.uri})
    try:
        report = diagnose_wired(settings, disk=DiskThresholds(warning_bytes=2**62, error_bytes=0))
    finally:
        printer.close()
    assert report["printer"]["status"] == report["system"]["status"] == "warning"
    assert report["status"] == "warning"
    assert "near its end" in report["printer"]["reason"] and "getting full" in report["system"]["reason"]


def test_no_pcscd_is_a_card_error() -> None:
    """GIVEN the real PC/SC reader adapter and no pcscd at the socket it talks to WHEN the card section is
    asked THEN it is an error saying PC/SC does not answer (a child process: libpcsclite reads the socket
    path once)."""
    pytest.importorskip("smartcard", reason="pyscard is not installed")
    code = ("import json; from hardware.pcsc_reader import PcscCardReader; "
            "from kiosk.diagnostics import card_section; print(json.dumps(card_section(PcscCardReader())))")
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    part = json.loads(proc.stdout)
    assert part["status"] == "error" and part["pcsc_answers"] is False
    assert "cannot be asked" in part["reason"]


def test_hub_not_configured_is_a_warning() -> None:
    """GIVEN no hub URL WHEN the hub section is asked THEN a warning: requests stay queued."""
    part = hub_section("")
    assert part["status"] == "warning" and "stay queued" in part["reason"]


def test_secrets_and_errors_in_the_system_section(demo_settings: Settings) -> None:
    """GIVEN a passcode hash in the config and a log with an error naming a personal number WHEN the system
    section is made THEN the hash is hidden and the number redacted in the last errors."""
    settings = _with(demo_settings, access={"technician_passcode_hash": "scrypt$n=16384,r=8,p=1$c2FsdA$aGFzaA"})
    logs = settings.kiosk.data_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "kiosk.log").write_text("2026-11-21 10:00:00,000 INFO kiosk: started\n"
                                    "2026-11-21 10:00:01,000 ERROR kiosk.x: bad card 01024085083 PIN 1234\n")
    report = diagnose_wired(settings)
    system = report["system"]
    assert system["config"]["access"]["technician_passcode_hash"] == "(set, hidden)"
    assert system["config"]["access"]["passcode_max_tries"] == 5
    [line] = system["last_errors"]
    assert "01024085083" not in line and "1234" not in line and "[personal-number]" in line


def test_cli_diag_json_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a simulated configuration WHEN `kiosk diag --json` runs THEN five sections and exit 0 (no hub is
    a warning); with the hub at a closed port THEN exit 1 and the hub section is the error."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[card]\ndriver = "simulated"\nreader = "simulated"\n'
                      '[printer]\nuri = "simulated"\n')
    assert main(["diag", "--json", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(SECTIONS) <= set(report) and report["status"] == "warning"
    monkeypatch.setenv("KIOSK_HUB_URL", f"http://127.0.0.1:{_closed_port()}")
    assert main(["diag", "--json", "--config", str(config)]) == 1
    assert json.loads(capsys.readouterr().out)["hub"]["status"] == "error"
    assert main(["diag", "--config", str(config)]) == 1
    assert "hub      ERROR    hub unreachable" in capsys.readouterr().out


def test_cli_diag_names_a_config_error_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an unconfigured kiosk WHEN `kiosk diag --json` runs THEN it names the missing setting, the device
    sections are errors, the rest still report, and it exits 1."""
    monkeypatch.setenv("KIOSK_KIOSK_DATA_DIR", str(tmp_path))
    assert main(["diag", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert re.search(r"card\.(reader|driver): not set", report["config_error"])
    assert report["card"]["status"] == "error" and report["queue"]["status"] == "ok"


def test_cli_diag_card_without_a_card_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a simulated reader with no card WHEN `kiosk diag card --json` runs THEN it lists the reader,
    says no card was read and exits 1."""
    for key, value in {"KIOSK_KIOSK_DATA_DIR": str(tmp_path), "KIOSK_CARD_READER": "simulated",
                       "KIOSK_CARD_DRIVER": "simulated", "KIOSK_PRINTER_URI": "simulated"}.items():
        monkeypatch.setenv(key, value)
    assert main(["diag", "card", "--json"]) == 1
    part = json.loads(capsys.readouterr().out)
    assert part["readers"][0]["card_present"] is False and part["status"] == "error"

