"""The outbox on a real SQLite file: durable, numbered, immutable, resumable."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from offline.outbox import Outbox, SubmissionState
from protocol.presence import holder_key
from protocol.sealing import PayloadSealer, open_sealed

NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)


def _outbox(path: Path, now: dt.datetime = NOW) -> Outbox:
    return Outbox(path, "KSK-0007", lambda: now)


def test_receipt_numbers_count_per_day(tmp_path: Path) -> None:
    """GIVEN requests on two days WHEN they are queued THEN numbers run 0001, 0002 and restart next day."""
    box = _outbox(tmp_path / "o.sqlite")
    first = box.enqueue(service="s", sealed=b"x", holder=None)
    second = box.enqueue(service="s", sealed=b"y", holder=None)
    box.close()
    tomorrow = _outbox(tmp_path / "o.sqlite", NOW + dt.timedelta(days=1))
    third = tomorrow.enqueue(service="s", sealed=b"z", holder=None)
    assert [first.receipt_no, second.receipt_no, third.receipt_no] == [
        "KSK-0007-261121-0001", "KSK-0007-261121-0002", "KSK-0007-261122-0001"]
    assert len({first.id, second.id, third.id}) == 3


def test_queued_payload_is_immutable(tmp_path: Path) -> None:
    """GIVEN a queued request WHEN anything tries to change its payload or id THEN SQLite refuses."""
    box = _outbox(tmp_path / "o.sqlite")
    box.enqueue(service="s", sealed=b"x", holder=None)
    for column in ("sealed", "id", "service"):
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            box.db.execute(f"UPDATE submissions SET {column} = 'other'")


def test_sending_goes_back_to_queued_only_when_resumed(tmp_path: Path) -> None:
    """GIVEN a request left `sending` by a crash WHEN the outbox opens again THEN it is still `sending` (another live
    process may be sending it); WHEN the sync holding the lock resumes in-flight requests THEN it is `queued` again."""
    box = _outbox(tmp_path / "o.sqlite")
    item = box.enqueue(service="s", sealed=b"x", holder=None)
    box.db.execute("UPDATE submissions SET state = 'sending'")
    box.db.conn.commit()
    box.close()
    again = _outbox(tmp_path / "o.sqlite")
    assert again.get(item.id).state is SubmissionState.SENDING
    assert again.resume_in_flight() == 1
    assert again.get(item.id).state is SubmissionState.QUEUED
    assert again.stats()["queued"] == 1 and again.stats()["sending"] == 0


def test_enqueued_request_survives_a_killed_process(tmp_path: Path) -> None:
    """GIVEN a process that enqueues and is then killed with SIGKILL WHEN the file is reopened THEN the request is there."""
    path = tmp_path / "o.sqlite"
    repo = str(Path(__file__).resolve().parents[2])
    code = (
        f"import datetime as dt, os, signal, sys; sys.path.insert(0, {repo!r})\n"
        "from offline.outbox import Outbox\n"
        f"box = Outbox(__import__('pathlib').Path({str(path)!r}), 'K', lambda: dt.datetime.now(dt.timezone.utc))\n"
        "print(box.enqueue(service='s', sealed=b'x', holder=None).id, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9
    submission_id = proc.stdout.strip()
    assert _outbox(path).get(submission_id).state is SubmissionState.QUEUED


def test_stats_report_oldest_queued_age(tmp_path: Path) -> None:
    """GIVEN a request queued an hour ago WHEN stats are read THEN the oldest queued age is 3600 s."""
    box = _outbox(tmp_path / "o.sqlite")
    box.enqueue(service="s", sealed=b"x", holder=None)
    later = Outbox(tmp_path / "o.sqlite", "KSK-0007", lambda: NOW + dt.timedelta(hours=1))
    stats = later.stats()
    assert stats["oldest_queued_age_s"] == 3600 and stats["total"] == 1 and stats["delivered"] == 0


def test_sealed_payload_opens_only_with_the_hub_key() -> None:
    """GIVEN a payload sealed to the hub WHEN opened THEN the hub key reads it and another key cannot."""
    hub = PrivateKey.generate()
    sealed = PayloadSealer(bytes(hub.public_key)).seal({"citizen": {"personal_number": "01024085083"}})
    assert b"01024085083" not in sealed
    assert open_sealed(bytes(hub), sealed)["citizen"]["personal_number"] == "01024085083"
    with pytest.raises(Exception, match="Decryption failed|decrypt"):
        open_sealed(bytes(PrivateKey.generate()), sealed)


def test_holder_key_names_a_card_per_kiosk() -> None:
    """GIVEN one card's certificate WHEN two kiosks name its holder THEN the names differ (rows of two kiosks
    cannot be linked), one kiosk always gives the same, and another certificate another."""
    a, b = holder_key("KSK-0001", b"certificate"), holder_key("KSK-0002", b"certificate")
    assert a != b and a == holder_key("KSK-0001", b"certificate") != holder_key("KSK-0001", b"certificate 2")
    assert holder_key("KSK-000", b"1certificate") != holder_key("KSK-0001", b"certificate")  # lengths are framed


def test_receipt_numbers_follow_the_kiosks_local_day(tmp_path: Path) -> None:
    """GIVEN a kiosk in Tbilisi (UTC+4) WHEN requests come at 19:30 and 20:30 UTC (23:30 and 00:30 local)
    THEN the second is numbered on the next local day, whatever the machine's TZ."""
    from zoneinfo import ZoneInfo

    evening = dt.datetime(2026, 11, 21, 19, 30, tzinfo=dt.timezone.utc)
    now = [evening]
    box = Outbox(tmp_path / "o.sqlite", "KSK-0007", lambda: now[0], zone=ZoneInfo("Asia/Tbilisi"))
    numbers = [box.enqueue(service="s", sealed=b"x", holder=None).receipt_no]
    now[0] += dt.timedelta(hours=1)
    numbers.append(box.enqueue(service="s", sealed=b"x", holder=None).receipt_no)
    box.close()
    assert numbers == ["KSK-0007-261121-0001", "KSK-0007-261122-0001"]


def test_an_outbox_from_before_holder_keys_drops_its_keyed_hashes(tmp_path: Path) -> None:
    """GIVEN an outbox made before migration m005, a request filed under the old keyed hash of a personal number
    WHEN the new kiosk opens it THEN the column is the holder key, the old hash is gone, the request is kept and
    still sent; a request queued now is found by its holder key."""
    path = tmp_path / "outbox.sqlite"
    _outbox(path).close()
    with sqlite3.connect(path) as db:  # back to the schema of m004, with an old row
        db.execute("DROP INDEX idx_submissions_holder")
        db.execute("ALTER TABLE submissions RENAME COLUMN holder TO citizen_key")
        db.execute("CREATE INDEX idx_submissions_citizen_key ON submissions (citizen_key)")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_holder'")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO submissions (id, receipt_no, service, state, created_at, state_changed_at, sealed, "
                   "citizen_key, synthetic) VALUES ('00000000-0000-4000-8000-000000000001', 'KSK-0007-261120-0001', "
                   "'s', 'queued', ?, ?, x'00', 'e3b0c442' || hex(randomblob(28)), 0)",
                   [NOW.isoformat(), NOW.isoformat()])
    box = _outbox(path)
    try:
        columns = {row[1] for row in box.db.execute("PRAGMA table_info(submissions)").fetchall()}
        assert "holder" in columns and "citizen_key" not in columns
        assert box.db.execute("SELECT holder FROM submissions").fetchall() == [(None,)]
        assert [i.receipt_no for i in box.claim_batch(10, 10**6)] == ["KSK-0007-261120-0001"]
        mine = box.enqueue(service="s", sealed=b"y", holder=holder_key("KSK-0007", b"certificate"))
        assert [s.id for s in box.requests_for(holder_key("KSK-0007", b"certificate"))] == [mine.id]
    finally:
        box.close()
