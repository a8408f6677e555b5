"""The hardened kiosk: locked window, systemd notify and watchdog, the unit file and the cage session script."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.sd_notify import SystemdNotifier
from screens.hardening import is_blocked

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "community-kiosk.service"
CAGE_SCRIPT = REPO / "deploy" / "cage-kiosk.sh"


def _probe(mode: str, tmp_path: Path) -> dict:
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy-home")}
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "deploy" / "lock_probe.py"), mode, str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.ui
def test_the_locked_kiosk_ignores_keys_that_would_leave_it(tmp_path: Path) -> None:
    """GIVEN the kiosk app as `kiosk run` starts it (locked, fullscreen, borderless), offscreen WHEN Escape,
    F1, F11, Alt+F4, Ctrl+E and a window close request arrive THEN the app is still running afterwards (it
    stops only when the probe stops it), no settings panel opened, and the close request was refused."""
    result = _probe("locked", tmp_path)
    assert result["stopped_in"] == "check" and result["root_shown"] is True
    assert result["settings_open"] is False and result["close_refused"] is True
    assert result["fullscreen"] == "auto" and result["borderless"] is True


@pytest.mark.ui
def test_without_the_lock_escape_leaves(tmp_path: Path) -> None:
    """GIVEN the demo window (not locked) WHEN the same keys arrive THEN Escape closes it at once: the probe's
    key presses are a real test of the lock."""
    assert _probe("open", tmp_path)["stopped_in"] == "keys"


@pytest.mark.parametrize(("key", "modifiers", "blocked"), [
    (27, [], True), (282, [], True), (292, [], True), (285, ["alt"], True), (113, ["ctrl"], True),
    (97, [], False), (13, [], False), (97, ["shift"], False)])
def test_which_keys_are_blocked(key: int, modifiers: list[str], blocked: bool) -> None:
    """GIVEN a key and its modifiers WHEN checked THEN leaving keys are blocked, typing is not."""
    assert is_blocked(key, modifiers) is blocked


def _notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(30)
    return sock


def test_sd_notify_speaks_systemds_protocol(tmp_path: Path) -> None:
    """GIVEN a real AF_UNIX datagram socket as NOTIFY_SOCKET (a path, then an abstract name) WHEN the notifier
    says ready and pings THEN the socket receives READY=1 with STATUS, and WATCHDOG=1."""
    with _notify_socket(tmp_path) as sock:
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "notify.sock")})
        assert notifier.ready("attract screen showing") and notifier.watchdog()
        assert sock.recv(4096) == b"READY=1\nSTATUS=attract screen showing"
        assert sock.recv(4096) == b"WATCHDOG=1"
    name = f"kiosk-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as abstract:
        abstract.bind("\0" + name)
        assert SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).stopping()
        assert abstract.recv(4096) == b"STOPPING=1"


def test_sd_notify_outside_systemd_and_the_watchdog_owner() -> None:
    """GIVEN no NOTIFY_SOCKET WHEN notifying THEN nothing is sent; WATCHDOG_USEC gives half the interval only
    to the process WATCHDOG_PID names."""
    assert SystemdNotifier({}).ready() is False and SystemdNotifier({}).watchdog_interval_s() is None
    env = {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "30000000"}
    assert SystemdNotifier(env, pid=42).watchdog_interval_s() == 15.0
    assert SystemdNotifier({**env, "WATCHDOG_PID": "42"}, pid=42).watchdog_interval_s() == 15.0
    assert SystemdNotifier({**env, "WATCHDOG_PID": "41"}, pid=42).watchdog_interval_s() is None


@pytest.mark.ui
def test_kiosk_run_tells_systemd_ready_then_pings_the_watchdog(tmp_path: Path) -> None:
    """GIVEN `kiosk run` started as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC=0.4 s), offscreen, simulated
    devices WHEN it starts THEN READY=1 arrives, then WATCHDOG=1 about every 0.2 s from the UI loop; SIGTERM
    (`systemctl stop`) makes it say STOPPING=1 and exit 0, although the locked window refuses close requests."""
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "400000",
           "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / "kivy-home"),
           "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_CARD_READER": "simulated",
           "KIOSK_CARD_DRIVER": "simulated", "KIOSK_PRINTER_URI": "simulated", "KIOSK_DISPLAY_WIDTH": "800",
           "KIOSK_DISPLAY_HEIGHT": "500"}
    env.pop("WATCHDOG_PID", None)
    with _notify_socket(tmp_path) as sock:
        kiosk = subprocess.Popen([sys.executable, "-m", "entrypoints", "run"], env=env, cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert sock.recv(4096).startswith(b"READY=1")
            started = time.monotonic()
            pings = [sock.recv(4096) for _ in range(4)]
            elapsed = time.monotonic() - started
            kiosk.send_signal(signal.SIGTERM)
            while (message := sock.recv(4096)) == b"WATCHDOG=1":
                pass
            code = kiosk.wait(30)
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.wait(10)
    assert pings == [b"WATCHDOG=1"] * 4
    assert 0.3 < elapsed < 3.0  # the first ping at once, then one per 0.2 s
    assert message == b"STOPPING=1" and code == 0


def test_unit_file_restarts_and_watches_the_kiosk(tmp_path: Path) -> None:
    """GIVEN deploy/community-kiosk.service WHEN read THEN it is Type=notify with a watchdog, always restarts,
    runs the cage session as the kiosk user on tty1, and `systemd-analyze verify` finds nothing wrong."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment]
    unit.read(UNIT)
    service = unit["Service"]
    assert (service["Type"], service["NotifyAccess"], service["Restart"]) == ("notify", "all", "always")
    assert int(service["WatchdogSec"]) >= 10 and service["User"] == "kiosk" and service["TTYPath"] == "/dev/tty1"
    assert service["ExecStart"].endswith("deploy/cage-kiosk.sh")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace("/opt/community-kiosk/deploy/cage-kiosk.sh", str(CAGE_SCRIPT)))
    proc = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not [line for line in proc.stderr.splitlines() if UNIT.name in line], proc.stderr


def test_cage_script_hands_the_watchdog_to_the_kiosk(tmp_path: Path) -> None:
    """GIVEN the session script in its inside-cage half, with a stand-in kiosk binary that reports its own pid
    and environment (cage itself is not run here) WHEN started as systemd would THEN it execs the kiosk with
    `run --config`, on X11, and WATCHDOG_PID is the kiosk's own pid."""
    subprocess.run(["sh", "-n", str(CAGE_SCRIPT)], check=True)
    stand_in = tmp_path / "kiosk"
    stand_in.write_text('#!/bin/sh\necho "pid=$$ watchdog_pid=$WATCHDOG_PID sdl=$SDL_VIDEODRIVER args=$*"\n')
    stand_in.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "KIOSK_BIN": str(stand_in), "KIOSK_CONFIG": "/etc/k.toml",
           "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    out = subprocess.run([str(CAGE_SCRIPT), "--inside-cage"], env=env, capture_output=True, text=True,
                         check=True, timeout=30).stdout
    fields = dict(item.split("=", 1) for item in out.split(" args=")[0].split())
    assert fields["pid"] == fields["watchdog_pid"] and fields["sdl"] == "x11"
    assert out.strip().endswith("args=run --config /etc/k.toml")
