"""Durable enqueue latency: ``Outbox.enqueue`` against sqlite-utils' plain per-row insert, in one run.

Each run makes fresh database files in a temporary folder on the same disk as the kiosk's data
(the repository's ``build/``, not a tmpfs, so every fsync really reaches the disk) and times N
single requests, one at a time, as villagers would send them:

* ours       ``Outbox.enqueue``: WAL, ``synchronous=FULL``, the receipt-number counter and the row
             in one ``db.atomic()`` transaction, then the row read back (what the receipt prints);
* peer       ``db["submissions"].insert(row)`` on a plain ``sqlite_utils.Database`` with SQLite's
             defaults (rollback journal, ``synchronous=FULL``): each insert its own commit;
* peer_wal   the same insert with the outbox's pragmas (WAL, ``synchronous=FULL``), to show
             what the journal mode alone is worth.

The row is the same for all three: a realistic sealed payload (a residence-certificate form
sealed to a hub key, ~480 bytes) and its clear fields. Runs alternate between the three so that
a noisy neighbour hurts all alike; the figures are the medians over runs of each run's p50/p99.
Goal (issue 4): ours p99 <= 20 ms.

    python bench/bench_outbox.py [--count 500] [--runs 5]

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a plain script, the repository's packages importable

import sqlite_utils  # noqa: E402  (after the path fix)
from nacl.public import PrivateKey  # noqa: E402

from offline.outbox import Outbox  # noqa: E402
from protocol.sealing import PayloadSealer  # noqa: E402

GOAL_P99_MS = 20.0


def utc() -> dt.datetime:
    """The wall clock, timezone-aware."""
    return dt.datetime.now(dt.timezone.utc)


def sample_payload() -> bytes:
    """A residence-certificate request sealed to a throw-away hub key, as ``Submitter`` builds it."""
    sealer = PayloadSealer(bytes(PrivateKey.generate().public_key))
    return sealer.seal({
        "schema": 1, "kiosk_id": "KSK-0001", "service": "residence_certificate", "language": "ka",
        "submitted_at": utc().isoformat(),
        "citizen": {"personal_number": "01024056789", "given_name": "ნინო", "surname": "ბერიძე"},
        "answers": {"address": "სოფელი სნო, ყაზბეგის მუნიციპალიტეტი", "purpose": "employer",
                    "phone": "555123456", "consent": "yes"},
        "synthetic": True,
    })


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[index]


def timed(one: Callable[[int], object], count: int) -> list[float]:
    """Milliseconds of each of ``count`` calls, sorted."""
    times = []
    for i in range(count):
        started = time.perf_counter()
        one(i)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def run_ours(folder: Path, sealed: bytes, count: int) -> list[float]:
    """``Outbox.enqueue`` one request at a time."""
    box = Outbox(folder / "outbox.sqlite", "KSK-0001", utc)
    try:
        return timed(lambda _i: box.enqueue(service="residence_certificate", sealed=sealed,
                                            holder="ab" * 32, synthetic=True), count)
    finally:
        box.close()


def run_peer(folder: Path, sealed: bytes, count: int, wal: bool) -> list[float]:
    """sqlite-utils' plain ``db[table].insert(row)``, one row and one commit at a time."""
    db = sqlite_utils.Database(sqlite3.connect(str(folder / "peer.sqlite")))
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
    table = db["submissions"]

    def insert(i: int) -> None:
        now = utc().isoformat()
        table.insert({"id": str(uuid.uuid4()), "receipt_no": f"KSK-0001-261121-{i:04d}",
                      "service": "residence_certificate", "state": "queued", "created_at": now,
                      "state_changed_at": now, "sealed": sealed, "citizen_key": "ab" * 32, "reason": None,
                      "synthetic": 1}, pk="id")

    try:
        insert(-1)  # the first insert creates the table: not a villager's request
        return timed(insert, count)
    finally:
        db.close()


def summary(runs: list[list[float]]) -> dict[str, float]:
    """Medians over runs of each run's p50, p99, mean and max (ms)."""
    def med(pick: Callable[[list[float]], float]) -> float:
        return round(statistics.median(pick(r) for r in runs), 3)

    return {"p50_ms": med(lambda r: percentile(r, 0.50)), "p99_ms": med(lambda r: percentile(r, 0.99)),
            "mean_ms": med(statistics.fmean), "max_ms": med(max)}


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print JSON; exit 1 if the goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=500, help="requests per run (default 500)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each contender (default 5)")
    args = parser.parse_args(argv)

    sealed = sample_payload()
    build = REPO / "build"
    build.mkdir(exist_ok=True)
    results: dict[str, list[list[float]]] = {"ours": [], "peer": [], "peer_wal": []}
    contenders: dict[str, Callable[[Path], list[float]]] = {
        "ours": lambda d: run_ours(d, sealed, args.count),
        "peer": lambda d: run_peer(d, sealed, args.count, wal=False),
        "peer_wal": lambda d: run_peer(d, sealed, args.count, wal=True),
    }
    for _ in range(args.runs):
        for name, contender in contenders.items():
            folder = Path(tempfile.mkdtemp(prefix="bench-outbox-", dir=build))
            try:
                results[name].append(contender(folder))
            finally:
                shutil.rmtree(folder)

    figures = {name: summary(runs) for name, runs in results.items()}
    ours, peer = figures["ours"], figures["peer"]
    report = {
        "bench": "outbox_enqueue",
        "count_per_run": args.count,
        "runs": args.runs,
        "sealed_bytes": len(sealed),
        "ours_outbox_enqueue": ours,
        "peer_sqlite_utils_insert": peer,
        "peer_sqlite_utils_insert_wal_full": figures["peer_wal"],
        "ratio_p50_peer_over_ours": round(peer["p50_ms"] / ours["p50_ms"], 2),
        "ratio_p99_peer_over_ours": round(peer["p99_ms"] / ours["p99_ms"], 2),
        "goal_p99_ms": GOAL_P99_MS,
        "goal_met": ours["p99_ms"] <= GOAL_P99_MS,
    }
    print(json.dumps(report, indent=2))
    return 0 if report["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
