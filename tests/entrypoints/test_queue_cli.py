"""`kiosk enroll`, `kiosk queue`, `kiosk sync --once` and `kiosk dev load` through `entrypoints.cli.main`,
against the real reference hub on 127.0.0.1, with the kiosk's data in a temp dir."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from entrypoints.cli import main
from hub import backoffice
from offline.outbox import ItemOutcome, Outbox
from protocol.wire import ItemResult
from tests.fixtures.hub_server import RunningHub


@pytest.fixture
def kiosk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated kiosk whose data directory is a temp dir, configured by environment variables only."""
    data = tmp_path / "kiosk"
    for key, value in {"KIOSK_KIOSK_DATA_DIR": str(data), "KIOSK_CARD_READER": "simulated",
                       "KIOSK_CARD_DRIVER": "simulated", "KIOSK_PRINTER_URI": "simulated",
                       "KIOSK_KIOSK_KIOSK_ID": "KSK-0042", "KIOSK_HUB_BATCH_MAX_ITEMS": "7"}.items():
        monkeypatch.setenv(key, value)
    return data


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_enrol_load_sync_and_count(hub_server: RunningHub, kiosk_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a fresh kiosk WHEN it is enrolled, 20 synthetic requests are loaded and `sync --once` runs THEN the hub
    holds 20 synthetic submissions sealed to its key, the queue stats say delivered 20, and sync exits 0."""
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    assert "enrolled with" in capsys.readouterr().out
    assert main(["dev", "load", "--count", "20", "--service", "residence_certificate"]) == 0
    capsys.readouterr()
    assert main(["queue", "stats", "--json"]) == 0
    stats = _json(capsys)
    assert {k: stats[k] for k in ("queued", "sending", "delivered", "closed", "rejected", "total")} == {
        "queued": 20, "sending": 0, "delivered": 0, "closed": 0, "rejected": 0, "total": 20}
    assert stats["oldest_queued_age_s"] >= 0 and stats["synthetic"] == 20
    assert main(["sync", "--once", "--json"]) == 0
    report = _json(capsys)
    assert report["accepted"] == 20 and report["remaining_queued"] == 0 and report["error"] is None
    assert report["problems"] == []  # heartbeat taken; unpublished documents are no problem
    assert hub_server.stats()["submissions"] == 20
    (first,) = backoffice.list_submissions(hub_server.store, limit=1)
    assert first["synthetic"] is True
    opened = backoffice.open_submission(hub_server.store, hub_server.keys, first["id"])["payload"]
    assert opened["synthetic"] is True and opened["service"] == "residence_certificate"
    assert main(["queue", "stats", "--json"]) == 0
    assert _json(capsys)["delivered"] == 20


def test_sync_without_a_reachable_hub_exits_1_and_says_why(hub_server: RunningHub, kiosk_env: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN an enrolled kiosk with queued requests whose hub has gone away WHEN `sync --once` runs THEN it exits 1,
    says the hub cannot be reached, and everything is still queued."""
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    assert main(["dev", "load", "--count", "3"]) == 0
    enrollment = json.loads((kiosk_env / "enrollment.json").read_text())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        enrollment["hub_url"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (kiosk_env / "enrollment.json").write_text(json.dumps(enrollment))
    capsys.readouterr()
    assert main(["sync", "--once"]) == 1
    assert "No connection to the central service" in capsys.readouterr().err
    assert main(["queue", "stats", "--json"]) == 0
    assert _json(capsys)["queued"] == 3


def test_sync_before_enrolment_exits_2(kiosk_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a kiosk never enrolled WHEN `sync --once` runs THEN it exits 2 saying it is not enrolled."""
    assert main(["sync", "--once"]) == 2
    assert "not enrolled" in capsys.readouterr().err


def test_re_enrolment_is_refused_without_force(hub_server: RunningHub, kiosk_env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN an enrolled kiosk WHEN `enroll` runs again THEN exit 2 naming --force; with --force it succeeds."""
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code(), "--force"]) == 0


def test_a_bad_code_exits_2(hub_server: RunningHub, kiosk_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a code the hub never made WHEN `enroll` runs THEN exit 2 and the message says the code was not accepted."""
    assert main(["enroll", "--hub", hub_server.url, "--code", "ZZZZ-ZZZZ-ZZZZ"]) == 2
    assert "code was not accepted" in capsys.readouterr().err


def test_queue_list_shows_receipts_without_personal_data(hub_server: RunningHub, kiosk_env: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN loaded requests WHEN `queue list --json` runs THEN it lists receipt numbers and states, and neither the
    demo citizen's personal number nor their name appears anywhere in the output."""
    assert main(["dev", "load", "--count", "2"]) == 0  # not enrolled: sealed to the demo hub key
    capsys.readouterr()
    assert main(["queue", "list", "--state", "queued", "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert [r["receipt_no"][:9] for r in rows] == ["KSK-0042-", "KSK-0042-"]
    assert {r["state"] for r in rows} == {"queued"} and all(r["synthetic"] for r in rows)
    assert "01024085083" not in out and "ბერიძე" not in out
    assert main(["queue", "list"]) == 0
    assert "01024085083" not in capsys.readouterr().out


def test_a_damaged_queue_is_reported_and_cleared_by_a_technician(kiosk_env: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a queue file of garbage WHEN `queue stats` runs THEN exit 2 with the "storage is damaged" message, again
    on the next run; after `queue clear-corruption` a fresh queue opens and the damaged file is still there."""
    kiosk_env.mkdir(parents=True)
    (kiosk_env / "outbox.sqlite").write_bytes(b"\x00garbage" * 1000)
    assert main(["queue", "stats", "--json"]) == 2
    assert "storage is damaged" in capsys.readouterr().err
    assert main(["queue", "stats", "--json"]) == 2
    capsys.readouterr()
    assert main(["queue", "clear-corruption"]) == 0
    assert "stays in outbox.sqlite.corrupt-" in capsys.readouterr().out
    assert main(["queue", "stats", "--json"]) == 0
    assert _json(capsys)["total"] == 0
    assert len(list(kiosk_env.glob("outbox.sqlite.corrupt-*"))) == 1


def test_dev_load_refuses_an_unknown_service(kiosk_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a service id not in the catalogue WHEN `dev load` runs THEN exit 2 listing the valid ids, nothing queued."""
    assert main(["dev", "load", "--count", "1", "--service", "no_such_service"]) == 2
    assert "residence_certificate" in capsys.readouterr().err


def test_queue_retry_sends_rejected_requests_again(kiosk_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a request the hub rejected WHEN a technician runs `queue retry --all-rejected` THEN it is queued again."""
    assert main(["dev", "load", "--count", "1"]) == 0
    box = Outbox(kiosk_env / "outbox.sqlite", "KSK-0042", lambda: dt.datetime.now(dt.timezone.utc))
    (item,) = box.claim_batch(1, 10**6)
    box.apply_results([ItemOutcome(item.id, ItemResult.REJECTED, "too_large")])
    box.close()
    capsys.readouterr()
    assert main(["queue", "list", "--state", "rejected"]) == 0
    assert "too_large" in capsys.readouterr().out
    assert main(["queue", "retry", "--all-rejected"]) == 0
    assert "1 rejected requests queued again" in capsys.readouterr().out
    assert main(["queue", "stats", "--json"]) == 0
    assert _json(capsys)["queued"] == 1
