"""The hash-chained audit log: appends, checkpoints, and tampering caught at the exact entry."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from entrypoints.cli import main
from kiosk.audit import Actor, AuditAction, AuditLog, Checkpoint, entry_hash, mask_id, record_configuration

STAFF = Actor("staff", mask_id("01001012345"))


def _log(path: Path, clock) -> AuditLog:
    return AuditLog(path, clock.wall)


def _filled(tmp_path: Path, clock, n: int = 6) -> Path:
    path = tmp_path / "audit.sqlite"
    log = _log(path, clock)
    for i in range(n):
        clock.advance(1)
        log.append(STAFF, AuditAction.REPRINT, {"receipt_no": f"KSK-0001-261121-{i:04d}"})
    log.close()
    return path


def _raw(path: Path) -> sqlite3.Connection:
    """The file as an attacker with write access sees it: the append-only triggers dropped first."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("DROP TRIGGER entries_no_delete")
    return conn


def _verify(path: Path, clock, expected: Checkpoint | None = None):
    log = _log(path, clock)
    try:
        return log.verify(expected)
    finally:
        log.close()


def test_entries_chain_and_verify(tmp_path: Path, clock) -> None:
    """GIVEN six appended entries WHEN verified THEN the chain holds, each links to the one before, and the
    checkpoint is the last entry's seq and hash."""
    path = _filled(tmp_path, clock)
    log = _log(path, clock)
    entries = list(log.entries())
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert entries[2].hash == entry_hash(3, entries[2].time, "staff", "*******2345", "staff.reprint",
                                         {"receipt_no": "KSK-0001-261121-0002"}, entries[1].hash)
    assert log.checkpoint() == Checkpoint(6, entries[-1].hash)
    result = log.verify(expected=log.checkpoint())
    assert result.ok and result.entries == 6
    log.close()


def test_the_database_refuses_update_and_delete(tmp_path: Path, clock) -> None:
    """GIVEN the log WHEN an UPDATE or DELETE is tried through SQLite THEN the triggers refuse both."""
    path = _filled(tmp_path, clock, 2)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE entries SET action = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM entries WHERE seq = 2")
    conn.close()


def test_an_edited_entry_is_named(tmp_path: Path, clock) -> None:
    """GIVEN entry 3's details rewritten in the file WHEN verified THEN entry 3 is named as changed."""
    path = _filled(tmp_path, clock)
    _raw(path).execute("UPDATE entries SET details = ? WHERE seq = 3", ['{"receipt_no":"KSK-0001-261121-9999"}'])
    result = _verify(path, clock)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert "changed" in result.problem


def test_a_deleted_entry_is_named(tmp_path: Path, clock) -> None:
    """GIVEN entry 4 deleted WHEN verified THEN entry 4 is named as missing."""
    path = _filled(tmp_path, clock)
    _raw(path).execute("DELETE FROM entries WHERE seq = 4")
    result = _verify(path, clock)
    assert result.broken_seq == 4 and "missing" in result.problem


def test_reordered_entries_are_caught_at_the_first_moved_one(tmp_path: Path, clock) -> None:
    """GIVEN entries 2 and 5 swapped (their contents exchanged, seq kept) WHEN verified THEN entry 2 is named."""
    path = _filled(tmp_path, clock)
    conn = _raw(path)
    rows = {r[0]: r[1:] for r in conn.execute("SELECT * FROM entries WHERE seq IN (2, 5)")}
    columns = "time = ?, actor_role = ?, actor_id = ?, action = ?, details = ?, prev_hash = ?, hash = ?"
    conn.execute(f"UPDATE entries SET {columns} WHERE seq = 2", rows[5])
    conn.execute(f"UPDATE entries SET {columns} WHERE seq = 5", rows[2])
    assert _verify(path, clock).broken_seq == 2


def test_an_inserted_entry_is_caught(tmp_path: Path, clock) -> None:
    """GIVEN a well-formed forged entry slipped in as entry 3 (later ones renumbered) WHEN verified THEN the
    chain breaks right after it, at the old entry 3 that no longer links."""
    path = _filled(tmp_path, clock)
    conn = _raw(path)
    later = conn.execute("SELECT * FROM entries WHERE seq >= 3 ORDER BY seq").fetchall()
    conn.execute("DELETE FROM entries WHERE seq >= 3")
    prev = conn.execute("SELECT hash FROM entries WHERE seq = 2").fetchone()[0]
    details = {"request_id": "forged"}
    forged = entry_hash(3, "2026-11-21T10:00:02.500+00:00", "staff", "*******2345", "staff.cancel", details, prev)
    conn.execute("INSERT INTO entries VALUES (3, '2026-11-21T10:00:02.500+00:00', 'staff', '*******2345', "
                 "'staff.cancel', ?, ?, ?)", [json.dumps(details, separators=(",", ":")), prev, forged])
    for row in later:
        conn.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (row[0] + 1, *row[1:]))
    result = _verify(path, clock)
    assert result.broken_seq == 4 and "does not link" in result.problem


def test_entries_cut_off_the_end_are_caught_by_the_hub_checkpoint(tmp_path: Path, clock) -> None:
    """GIVEN the hub holds checkpoint 6 WHEN entries 5 and 6 are cut off THEN the chain alone still holds but
    verifying against the checkpoint fails at entry 5."""
    path = _filled(tmp_path, clock)
    log = _log(path, clock)
    checkpoint = log.checkpoint()
    log.close()
    _raw(path).execute("DELETE FROM entries WHERE seq >= 5")
    assert _verify(path, clock).ok
    result = _verify(path, clock, checkpoint)
    assert result.broken_seq == 5 and "checkpoint" in result.problem


def test_personal_numbers_never_enter_the_log(tmp_path: Path, clock) -> None:
    """GIVEN details holding an 11-digit number WHEN appended THEN it is refused; actors carry a masked id."""
    log = _log(tmp_path / "audit.sqlite", clock)
    with pytest.raises(ValueError, match="personal number"):
        log.append(STAFF, AuditAction.CANCEL, {"note": "for 01024085083"})
    assert mask_id("01024085083") == "*******5083"
    assert log.checkpoint().seq == 0
    log.close()


def test_configuration_changes_are_logged_once_by_name(tmp_path: Path, clock) -> None:
    """GIVEN a first start, the same config again, then one changed setting WHEN recorded THEN two entries:
    the first start and the change naming only that setting (no values)."""
    log = _log(tmp_path / "audit.sqlite", clock)
    config = {"kiosk": {"kiosk_id": "KSK-0001", "centre_name": "Centre A"}, "printer": {"uri": ""}}
    assert record_configuration(log, config) is not None
    assert record_configuration(log, config) is None
    config["kiosk"]["centre_name"] = "Centre B"
    entry = record_configuration(log, config)
    assert entry is not None and entry.details["changed"] == ["kiosk.centre_name"]
    assert "Centre B" not in json.dumps(entry.details)
    log.close()


def test_cli_audit_verify_and_list(tmp_path: Path, clock, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a kiosk data dir with an audit log WHEN `kiosk audit verify` runs on it intact, then tampered
    THEN it exits 0, then 1 naming entry 2; `kiosk audit list --json` prints the entries."""
    _filled(tmp_path, clock, 3)
    monkeypatch.setenv("KIOSK_KIOSK_DATA_DIR", str(tmp_path))
    assert main(["audit", "verify"]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    assert main(["audit", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["seq"] for e in listed] == [1, 2, 3] and listed[0]["action"] == "staff.reprint"
    _raw(tmp_path / "audit.sqlite").execute("UPDATE entries SET actor_role = 'technician' WHERE seq = 2")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().out
    assert main(["audit", "verify", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["broken_seq"] == 2
