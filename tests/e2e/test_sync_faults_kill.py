"""``kill -9`` of the kiosk's own processes against the real hub on 127.0.0.1: of ``kiosk sync --once``
at random moments, many times in a row while requests keep arriving, and of ``kiosk dev load`` in the
middle of enqueueing. Afterwards a clean sync, and every request is at the hub exactly once.

The seed of each run is printed (and in every failure message); ``SYNC_FAULT_SEED=N`` replays one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline.outbox import Outbox
from protocol.sealing import open_sealed
from tests.fixtures.hub_server import RunningHub
from tests.fixtures.sync_check import (
    REPO,
    SyncKiosk,
    exactly_once,
    hub_cli_stats,
    hub_count,
    kiosk_cli,
    kiosk_command,
    kiosk_env,
    outbox_states,
    utc,
)

KILLS = 16
BATCH = "7"  # small batches: many commits, so a kill lands between claim, POST and verdict


def seed() -> int:
    """This run's seed: ``SYNC_FAULT_SEED`` or a fresh one, printed so a failure can be replayed."""
    value = int(os.environ.get("SYNC_FAULT_SEED") or random.SystemRandom().randrange(10**6))
    print(f"SYNC_FAULT_SEED={value}")
    return value


@pytest.fixture
def kiosk(hub_server: RunningHub, tmp_path: Path) -> Iterator[SyncKiosk]:  # noqa: F811  (the imported fixture)
    """A kiosk enrolled with the hub (the CLI children share its data directory)."""
    made = SyncKiosk(hub_server, tmp_path / "kiosk")
    yield made
    made.close()


def _kill(child: subprocess.Popen[bytes]) -> bool:
    """SIGKILL; True if it was still running (the kill interrupted something)."""
    alive = child.poll() is None
    if alive:
        os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    return alive


def _wait_for_progress(hub: RunningHub, before: int, child: subprocess.Popen[bytes], limit_s: float) -> bool:
    """Until the hub has stored more than ``before`` (the child is mid-drain) or the child ends."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and child.poll() is None:
        if hub_count(hub.db_path) > before:
            return True
        time.sleep(0.005)
    return False


def test_sync_killed_again_and_again_loses_nothing_and_sends_nothing_twice(hub_server: RunningHub,
                                                                         kiosk: SyncKiosk) -> None:
    """GIVEN a kiosk that keeps taking requests (a few hundred in all) WHEN `kiosk sync --once` is started and
    killed with SIGKILL 16 times in a row — half at a random moment after start (opening, resuming, the first
    calls), half at a random moment after the hub began storing (between claim, POST and verdict) — and then
    one clean sync runs THEN the hub holds every created request exactly once, byte for byte, the outbox
    shows all delivered, and `kiosk hub stats` / `kiosk queue stats` agree."""
    rng = random.Random(run_seed := seed())
    env = kiosk_env(kiosk.data, hub_batch_max_items=BATCH)
    interrupted = mid_drain = left_sending = 0
    for round_no in range(KILLS):
        child = subprocess.Popen(kiosk_command("sync", "--once"), cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kiosk.queue(rng.randint(10, 24))  # the screens keep queueing while the sync process runs
        before = hub_count(hub_server.db_path)
        if round_no % 2:
            time.sleep(rng.uniform(0.0, 1.3))
        elif _wait_for_progress(hub_server, before, child, 10):
            time.sleep(rng.uniform(0.0, 0.08))
        progressed = hub_count(hub_server.db_path) > before
        if _kill(child):
            interrupted += 1
            states = outbox_states(kiosk.outbox_path)
            mid_drain += progressed and states.get("queued", 0) + states.get("sending", 0) > 0
        left_sending += outbox_states(kiosk.outbox_path).get("sending", 0)
    assert len(kiosk.created) >= 200, f"seed {run_seed}"
    # The kills must have hit the process at work, and some between a claim and its verdict.
    assert interrupted >= KILLS // 2 and mid_drain >= 4, f"seed {run_seed}: {interrupted=} {mid_drain=}"
    assert left_sending > 0, f"seed {run_seed}: no kill landed between a claim and its verdict"

    final = kiosk_cli(kiosk.data, "sync", "--once", "--json", hub_batch_max_items=BATCH)
    assert final.returncode == 0, f"seed {run_seed}: {final.stderr}"
    figures = exactly_once(hub_server.db_path, kiosk.outbox_path, kiosk.created)
    stats = hub_cli_stats(hub_server.db_path)
    assert stats["submissions"] == len(kiosk.created), f"seed {run_seed}"
    queue = kiosk_cli(kiosk.data, "queue", "stats", "--json")
    counts = json.loads(queue.stdout)
    assert (counts["queued"], counts["sending"], counts["delivered"]) == (0, 0, len(kiosk.created))
    print(f"seed {run_seed}: {figures}, {interrupted} kills at work ({mid_drain} mid-drain, "
          f"{left_sending} requests left `sending`), the hub answered {stats['duplicates']} re-sends `duplicate`")


def test_dev_load_killed_mid_enqueue_leaves_only_whole_requests(hub_server: RunningHub,
                                                               kiosk: SyncKiosk) -> None:
    """GIVEN `kiosk dev load --count 5000` (the screens' submit path) WHEN it is killed with SIGKILL at a random
    point, three times THEN the outbox opens undamaged, every request it holds is whole (its sealed payload
    opens at the hub into the complete form, receipt numbers run 1..N with none burned), and after a sync
    the hub holds exactly those, once each."""
    rng = random.Random(run_seed := seed())
    kiosk.outbox.close()  # only the children write
    env = kiosk_env(kiosk.data)
    for _ in range(3):
        child = subprocess.Popen(kiosk_command("dev", "load", "--count", "5000"), cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = sum(outbox_states(kiosk.outbox_path).values()) + rng.randint(3, 40) \
            if kiosk.outbox_path.exists() else rng.randint(3, 40)
        deadline = time.monotonic() + 30
        while child.poll() is None and time.monotonic() < deadline:
            if kiosk.outbox_path.exists() and sum(outbox_states(kiosk.outbox_path).values()) >= target:
                break
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.03))
        assert _kill(child), f"seed {run_seed}: dev load finished or failed before the kill"

    kiosk.outbox = Outbox(kiosk.outbox_path, "KSK-0001", utc)  # a damaged file would raise OutboxCorrupted
    held = kiosk.outbox.list(limit=10_000)
    assert held and all(s.synthetic and s.service for s in held)
    by_day: dict[str, list[int]] = {}
    for s in held:
        day, number = s.receipt_no.rsplit("-", 2)[1:]
        by_day.setdefault(day, []).append(int(number))
    for numbers in by_day.values():  # a run across midnight starts a new day at 1
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"seed {run_seed}: numbers burned or repeated"
    private = hub_server.keys.seal_private
    with kiosk.outbox.db.conn:
        sealed = [bytes(r[0]) for r in kiosk.outbox.db.execute("SELECT sealed FROM submissions").fetchall()]
    for blob in sealed:
        payload = open_sealed(private, blob)
        assert payload["citizen"]["personal_number"] and payload["answers"] and payload["synthetic"] is True

    report = kiosk.engine().sync_once()
    assert report.error is None and report.remaining_queued == 0
    figures = exactly_once(hub_server.db_path, kiosk.outbox_path)
    assert figures["requests"] == len(held)
    print(f"seed {run_seed}: {len(held)} whole requests survived three kills; {figures}")
