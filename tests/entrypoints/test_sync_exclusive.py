"""`kiosk sync` runs one at a time per data folder, and its heartbeat carries the audit chain head.

Real processes against the real reference hub on 127.0.0.1 (see ``tests/offline/test_sync_kill.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entrypoints.cli import main
from hub import backoffice
from kiosk.audit import open_audit_log
from offline.outbox import Outbox
from tests.fixtures.hub_server import RunningHub

REPO = Path(__file__).resolve().parents[2]
BUSY = 3  # `kiosk sync`: another sync is running for this data folder


def _kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int = 5) -> tuple[Path, dict[str, str]]:
    data = tmp_path / "kiosk"
    env = {**os.environ, "KIOSK_KIOSK_DATA_DIR": str(data), "KIOSK_CARD_READER": "simulated",
           "KIOSK_CARD_DRIVER": "simulated", "KIOSK_PRINTER_URI": "simulated",
           "KIOSK_HUB_BATCH_MAX_ITEMS": str(batch)}
    for key, value in env.items():
        if key.startswith("KIOSK_"):
            monkeypatch.setenv(key, value)
    return data, env


def _sync(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "entrypoints", "sync", "--once", *extra], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_syncs_at_once_send_every_request_once(hub_server: RunningHub, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an enrolled kiosk with 150 queued requests sent in batches of 5 WHEN two `kiosk sync --once` processes
    start at the same moment, three rounds over THEN neither crashes (each exits 0, or 3 saying a sync is already
    running), the hub never sees a request twice (no duplicates), and the kiosk counts every request delivered."""
    data, env = _kiosk(tmp_path, monkeypatch)
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    total = 0
    for _ in range(3):
        assert main(["dev", "load", "--count", "150"]) == 0
        total += 150
        pair = [_sync(env), _sync(env)]
        for child in pair:
            out, err = child.communicate(timeout=90)
            assert child.returncode in (0, BUSY), err
            assert "Traceback" not in err, err
            if child.returncode == BUSY:
                assert "already running" in err
    stats = hub_server.stats()
    assert (stats["submissions"], stats["duplicates"]) == (total, 0)
    box = Outbox(data / "outbox.sqlite", "KSK-0001", lambda: dt.datetime.now(dt.timezone.utc))
    counts = box.stats()
    box.close()
    assert (counts["delivered"], counts["queued"], counts["sending"]) == (total, 0, 0)
    assert not list(data.glob("*.tmp")) and not list(data.glob(".*.tmp"))


def test_a_sync_while_another_holds_the_folder_says_so_and_exits_3(hub_server: RunningHub, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an enrolled kiosk with queued requests and another process holding the sync lock of its data folder
    WHEN `kiosk sync --once --wait 0.5` runs THEN within seconds it exits 3, says a sync is already running, and
    sends nothing; once the lock is free the same command sends everything and exits 0."""
    data, env = _kiosk(tmp_path, monkeypatch)
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    assert main(["dev", "load", "--count", "3"]) == 0
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time\n"
                               f"f = open({str(data / 'sync.lock')!r}, 'a+'); fcntl.flock(f, fcntl.LOCK_EX)\n"
                               "print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        busy = _sync(env, "--wait", "0.5")
        _out, err = busy.communicate(timeout=30)
        assert busy.returncode == BUSY, err
        assert "already running" in err and time.monotonic() - started < 15
        assert hub_server.stats()["submissions"] == 0
    finally:
        holder.kill()
        holder.wait(10)
    done = _sync(env)
    _out, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    assert hub_server.stats()["submissions"] == 3


def test_sync_help_documents_the_busy_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the `kiosk sync` command WHEN its --help is asked THEN it names exit code 3 for a sync already running."""
    with pytest.raises(SystemExit):
        main(["sync", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "3" in text and "already running" in text


def test_cli_sync_heartbeat_carries_the_audit_checkpoint(hub_server: RunningHub, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN an enrolled kiosk whose audit log holds entries WHEN `kiosk sync --once` runs THEN the hub's latest
    heartbeat for this kiosk carries the audit chain head (seq and hash) as the kiosk's audit log has it."""
    data, _env = _kiosk(tmp_path, monkeypatch)
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    assert main(["dev", "load", "--count", "1"]) == 0  # the app's services write config/enrolment audit entries
    log = open_audit_log(data, lambda: dt.datetime.now(dt.timezone.utc))
    head = log.checkpoint()
    log.close()
    assert head.seq > 0
    assert main(["sync", "--once"]) == 0
    kiosk_id = json.loads((data / "enrollment.json").read_text())["kiosk_id"]
    (me,) = [k for k in backoffice.fleet(hub_server.store) if k["kiosk_id"] == kiosk_id]
    assert me["audit_checkpoint"] == {"seq": head.seq, "hash": head.hash}
