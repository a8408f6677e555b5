"""The outbox's sync side on a real SQLite file: claiming, verdicts, hub statuses, "my requests", corruption."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from offline.outbox import HubState, HubStatus, ItemOutcome, Outbox, OutboxCorrupted, SubmissionState
from offline.outbox_integrity import clear_marker, is_corruption, marker_path
from protocol.wire import ItemResult

NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)


class Ticking:
    """A wall clock that moves one second per reading, so created_at orders the queue."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def _outbox(path: Path) -> Outbox:
    return Outbox(path, "KSK-0007", Ticking())


def _fill(box: Outbox, n: int, size: int = 100, citizen: str | None = None) -> list[str]:
    return [box.enqueue(service="s", sealed=bytes([i % 256]) * size, holder=citizen).id for i in range(n)]


def test_claim_takes_the_oldest_and_respects_the_count_cap(tmp_path: Path) -> None:
    """GIVEN five queued requests WHEN a batch of three is claimed THEN the three oldest are `sending`, in order."""
    box = _outbox(tmp_path / "o.sqlite")
    ids = _fill(box, 5)
    batch = box.claim_batch(max_items=3, max_bytes=1_000_000)
    assert [item.id for item in batch] == ids[:3]
    assert box.stats()["sending"] == 3 and box.stats()["queued"] == 2
    assert batch[0].sealed == bytes([0]) * 100 and batch[0].receipt_no.startswith("KSK-0007-")


def test_claim_respects_the_byte_cap_but_always_takes_one(tmp_path: Path) -> None:
    """GIVEN requests of ~1.6 KB on the wire WHEN claimed with a 4 KB cap THEN two fit; with a tiny cap still one."""
    box = _outbox(tmp_path / "o.sqlite")
    _fill(box, 5, size=1000)  # base64 1336 + 256 = 1592 bytes each
    assert len(box.claim_batch(max_items=100, max_bytes=4000)) == 2
    assert len(box.claim_batch(max_items=100, max_bytes=10)) == 1
    assert box.stats()["queued"] == 2


def test_two_claimers_never_share_an_item(tmp_path: Path) -> None:
    """GIVEN two connections to one outbox WHEN both claim in turn THEN their batches are disjoint."""
    first, second = _outbox(tmp_path / "o.sqlite"), None
    _fill(first, 10)
    second = Outbox(tmp_path / "o.sqlite", "KSK-0007", Ticking())
    a = {i.id for i in first.claim_batch(6, 10**6)}
    b = {i.id for i in second.claim_batch(6, 10**6)}
    assert len(a) == 6 and len(b) == 4 and not a & b


def test_verdicts_move_items_to_delivered_or_rejected(tmp_path: Path) -> None:
    """GIVEN a claimed batch WHEN the hub says accepted, duplicate, rejected THEN two are delivered, one rejected with the reason."""
    box = _outbox(tmp_path / "o.sqlite")
    a, b, c = _fill(box, 3)
    box.claim_batch(10, 10**6)
    counts = box.apply_results([ItemOutcome(a, ItemResult.ACCEPTED), ItemOutcome(b, ItemResult.DUPLICATE),
                                ItemOutcome(c, ItemResult.REJECTED, "invalid:service")])
    assert counts == {ItemResult.ACCEPTED: 1, ItemResult.DUPLICATE: 1, ItemResult.REJECTED: 1}
    assert box.get(a).state is SubmissionState.DELIVERED and box.get(b).state is SubmissionState.DELIVERED
    assert box.get(c).state is SubmissionState.REJECTED and box.get(c).reason == "invalid:service"


def test_release_and_crash_both_put_sending_back_to_queued(tmp_path: Path) -> None:
    """GIVEN claimed items WHEN one batch is released and another is left by a "crash" THEN all are queued again."""
    box = _outbox(tmp_path / "o.sqlite")
    _fill(box, 4)
    released = box.claim_batch(2, 10**6)
    box.release([i.id for i in released])
    box.claim_batch(2, 10**6)
    assert box.stats()["sending"] == 2
    box.close()
    again = _outbox(tmp_path / "o.sqlite")
    assert again.resume_in_flight() == 2  # what the next sync does once it holds the sync lock
    assert again.stats()["queued"] == 4 and again.stats()["sending"] == 0


def test_a_late_verdict_never_downgrades_a_closed_request(tmp_path: Path) -> None:
    """GIVEN a request the hub already closed WHEN an old `duplicate` verdict is applied THEN it stays closed."""
    box = _outbox(tmp_path / "o.sqlite")
    (a,) = _fill(box, 1)
    box.apply_statuses([HubStatus(a, HubState.CLOSED, None, "2026-11-22T10:00:00+00:00")], cursor="1")
    box.apply_results([ItemOutcome(a, ItemResult.DUPLICATE)])
    assert box.get(a).state is SubmissionState.CLOSED


def test_hub_statuses_close_requests_and_keep_the_cursor(tmp_path: Path) -> None:
    """GIVEN delivered requests WHEN the hub reports in_progress, closed and rejected THEN states and "my requests" follow."""
    box = _outbox(tmp_path / "o.sqlite")
    a, b, c = _fill(box, 3, citizen="k1")
    (other,) = _fill(box, 1, citizen="k2")
    box.claim_batch(10, 10**6)
    box.apply_results([ItemOutcome(i, ItemResult.ACCEPTED) for i in (a, b, c, other)])
    known = box.apply_statuses([
        HubStatus(a, HubState.IN_PROGRESS, None, "t1"), HubStatus(b, HubState.CLOSED, None, "t2"),
        HubStatus(c, HubState.REJECTED, "missing_document", "t3"), HubStatus("unknown-id", HubState.CLOSED, None, "t4"),
    ], cursor="17")
    assert known == 3 and box.meta("status_cursor") == "17"
    assert box.get(a).state is SubmissionState.DELIVERED and box.get(a).hub_state is HubState.IN_PROGRESS
    assert box.get(b).state is SubmissionState.CLOSED
    assert box.get(c).state is SubmissionState.CLOSED and box.get(c).hub_reason == "missing_document"
    mine = box.requests_for("k1")
    assert [s.id for s in mine] == [c, b, a]  # newest first
    assert {s.hub_state for s in mine} == {HubState.IN_PROGRESS, HubState.CLOSED, HubState.REJECTED}


def test_a_status_for_a_queued_request_means_the_hub_has_it(tmp_path: Path) -> None:
    """GIVEN a request still queued (its verdict was lost in a crash) WHEN the hub reports it received THEN it is delivered."""
    box = _outbox(tmp_path / "o.sqlite")
    (a,) = _fill(box, 1)
    box.apply_statuses([HubStatus(a, HubState.RECEIVED, None, "t")], cursor=None)
    assert box.get(a).state is SubmissionState.DELIVERED and box.meta("status_cursor") is None


def test_garbage_file_is_set_aside_and_the_kiosk_refuses_until_cleared(tmp_path: Path) -> None:
    """GIVEN an outbox file of garbage bytes (and a WAL) WHEN opened THEN both are renamed aside, not deleted,
    and OutboxCorrupted is raised — again on the next start — until a technician clears the marker."""
    path = tmp_path / "outbox.sqlite"
    garbage = b"this is not a database" * 500
    path.write_bytes(garbage)
    (tmp_path / "outbox.sqlite-wal").write_bytes(b"wal frames")
    with pytest.raises(OutboxCorrupted) as caught:
        _outbox(path)
    assert caught.value.translation_key == "error.outbox_corrupted"
    aside = tmp_path / caught.value.moved_to
    assert aside.name.startswith("outbox.sqlite.corrupt-") and aside.read_bytes() == garbage
    assert (tmp_path / (aside.name + "-wal")).read_bytes() == b"wal frames"
    assert not path.exists() and not (tmp_path / "outbox.sqlite-wal").exists()
    with pytest.raises(OutboxCorrupted):
        _outbox(path)
    assert clear_marker(path) == aside.name and not marker_path(path).exists()
    fresh = _outbox(path)
    assert fresh.stats()["total"] == 0


def test_an_overwritten_page_is_found_by_the_check(tmp_path: Path) -> None:
    """GIVEN an outbox whose b-tree page was overwritten on disk WHEN opened THEN the damage is found and set aside."""
    path = tmp_path / "outbox.sqlite"
    box = _outbox(path)
    _fill(box, 300, size=300)
    box.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    box.close()
    raw = bytearray(path.read_bytes())
    page = 4096
    assert len(raw) > 20 * page
    raw[5 * page:5 * page + 64] = b"\xff" * 64  # a page header in the middle of the submissions table
    path.write_bytes(bytes(raw))
    with pytest.raises(OutboxCorrupted) as caught:
        _outbox(path)
    assert (tmp_path / caught.value.moved_to).read_bytes() == bytes(raw)


def test_a_truncated_file_is_found(tmp_path: Path) -> None:
    """GIVEN an outbox file cut short (a half-copied card image) WHEN opened THEN it is set aside."""
    path = tmp_path / "outbox.sqlite"
    box = _outbox(path)
    _fill(box, 200, size=300)
    box.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    box.close()
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(OutboxCorrupted):
        _outbox(path)


def test_a_locked_database_is_not_mistaken_for_corruption() -> None:
    """GIVEN SQLite errors WHEN classified THEN "locked" and "disk full" are not corruption, "not a database" is."""
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5  # type: ignore[attr-defined]
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13  # type: ignore[attr-defined]
    notadb = sqlite3.DatabaseError("file is not a database")
    notadb.sqlite_errorcode = 26  # type: ignore[attr-defined]
    assert not is_corruption(locked) and not is_corruption(full) and is_corruption(notadb)


def test_a_technician_can_queue_rejected_requests_again(tmp_path: Path) -> None:
    """GIVEN two rejected requests and a delivered one WHEN one, then all rejected are re-queued THEN only rejected
    ones move back to `queued`, their reason cleared, and the delivered one is untouched."""
    box = _outbox(tmp_path / "o.sqlite")
    a, b, c = _fill(box, 3)
    box.claim_batch(10, 10**6)
    box.apply_results([ItemOutcome(a, ItemResult.REJECTED, "too_large"), ItemOutcome(b, ItemResult.REJECTED, "x"),
                       ItemOutcome(c, ItemResult.ACCEPTED)])
    assert box.requeue_rejected([a, c]) == 1
    assert box.get(a).state is SubmissionState.QUEUED and box.get(a).reason is None
    assert box.requeue_rejected() == 1
    assert box.get(b).state is SubmissionState.QUEUED and box.get(c).state is SubmissionState.DELIVERED
