"""Fixtures for the PC/SC tests: a private pcscd with vsmartcard's vpcd, and a virtual card.

``vpcd_pcscd`` runs ``pcscd --foreground`` once per test session, with a reader configuration
of its own (only vpcd, on free ports); ``pcscd_running`` / ``pcscd_stopped`` put it in the state
a test needs, and the session's end stops it by PID. Every fixture here skips, with the reason,
when pyscard, pcscd or the vpcd driver is missing, or when another pcscd already owns
``/run/pcscd`` (one pcscd per machine: we never stop someone else's).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.pcsc_reader import PcscCardReader
from kiosk.ports import CardEvent, CardEventKind
from tests.fixtures.vpcd_card import (
    PCSCD_IPC_DIR,
    PcscdProcess,
    VirtualCard,
    find_pcscd,
    find_vpcd_driver,
    free_port_pair,
    running_pcscd_pids,
    vpcd_reader_name,
)


def _pcscd_blocker() -> str | None:
    """Why our own pcscd cannot run here, or None."""
    others = running_pcscd_pids()
    if others:
        return f"another pcscd is running (pid {', '.join(map(str, others))}); these tests start their own"
    comm = PCSCD_IPC_DIR / "pcscd.comm"
    if comm.exists() and not (PCSCD_IPC_DIR / "pcscd.pid").exists() and _socket_listens(comm):
        return f"{comm} is held by another service (systemd's pcscd.socket?); these tests start their own pcscd"
    writable = PCSCD_IPC_DIR if PCSCD_IPC_DIR.exists() else PCSCD_IPC_DIR.parent
    if not os.access(writable, os.W_OK):
        return f"pcscd needs write access to {PCSCD_IPC_DIR} (run the tests as root, as CI does)"
    return None


def _socket_listens(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@pytest.fixture(scope="session")
def vpcd_pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdProcess]:
    """A private pcscd whose only reader driver is vpcd; stopped by PID at the session's end."""
    pytest.importorskip("smartcard", reason="pyscard is not installed (pip install '.[pcsc]')")
    pcscd, driver = find_pcscd(), find_vpcd_driver()
    if pcscd is None:
        pytest.skip("pcscd is not installed (Debian package pcscd)")
    if driver is None:
        pytest.skip("the vpcd reader driver is not installed (Debian package vsmartcard-vpcd)")
    blocker = _pcscd_blocker()
    if blocker:
        pytest.skip(blocker)
    daemon = PcscdProcess(tmp_path_factory.mktemp("pcscd"), pcscd=pcscd, vpcd_driver=driver, port=free_port_pair())
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def pcscd_running(vpcd_pcscd: PcscdProcess) -> PcscdProcess:
    """The private pcscd, running when the test starts (the test may stop or restart it)."""
    vpcd_pcscd.start()
    return vpcd_pcscd


@pytest.fixture
def pcscd_stopped(vpcd_pcscd: PcscdProcess) -> PcscdProcess:
    """The private pcscd, not running when the test starts (the test may start it)."""
    vpcd_pcscd.stop()
    return vpcd_pcscd


@pytest.fixture
def virtual_card(vpcd_pcscd: PcscdProcess) -> Iterator[VirtualCard]:
    """A card for vpcd's first slot (``Virtual PCD 00 00``), taken out after the test.

    After taking it out we wait until pcscd has seen the slot empty: vpcd only notices a card
    hung up at its next poll, and a card inserted before that would meet the stale state.
    """
    card = VirtualCard(vpcd_pcscd.port)
    try:
        yield card
    finally:
        card.remove()
        if vpcd_pcscd.running:
            _wait_slot_empty(vpcd_reader_name(0))


def _wait_slot_empty(reader: str, timeout_s: float = 2.0) -> None:
    from smartcard import scard

    code, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if code != scard.SCARD_S_SUCCESS:
        return  # no pcscd: nothing can be stale
    try:
        state = scard.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code, result = scard.SCardGetStatusChange(context, 200, [(reader, state)])
            if code == scard.SCARD_S_SUCCESS:
                state = result[0][1] & ~scard.SCARD_STATE_CHANGED
                if state & scard.SCARD_STATE_EMPTY:
                    return
    finally:
        scard.SCardReleaseContext(context)


class EventRecorder:
    """Collects card events from any thread and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[CardEvent] = []
        self._changed = threading.Condition()

    def __call__(self, event: CardEvent) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def kinds(self, reader: str | None = None) -> list[CardEventKind]:
        """The kinds recorded so far, optionally for one reader only."""
        with self._changed:
            return [e.kind for e in self.events if reader is None or e.reader == reader]

    def wait_for(self, kind: CardEventKind, reader: str, timeout_s: float = 1.0, *, after: int = 0) -> CardEvent:
        """The first ``kind`` event at ``reader`` from index ``after`` on; fails after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for event in self.events[after:]:
                    if event.kind is kind and event.reader == reader:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind.value} at {reader!r} within {timeout_s} s; got {self.events}")
                self._changed.wait(left)

    def mark(self) -> int:
        """An index to pass as ``after=`` so only later events count."""
        with self._changed:
            return len(self.events)


@pytest.fixture
def card_event_recorder() -> EventRecorder:
    """A fresh ``EventRecorder`` to pass as ``on_event``."""
    return EventRecorder()


@pytest.fixture
def pcsc_card_reader(vpcd_pcscd: PcscdProcess) -> Iterator[PcscCardReader]:
    """A ``PcscCardReader`` that retries fast (tests wait less), stopped after the test.

    Asks for ``vpcd_pcscd`` so that it skips where the private pcscd cannot run, but leaves
    starting or stopping the daemon to the test.
    """
    reader = PcscCardReader(retry_first_s=0.05, retry_max_s=0.2)
    try:
        yield reader
    finally:
        reader.stop()
