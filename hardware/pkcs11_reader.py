"""A card reader seen through a PKCS#11 module's slot list, for modules that reach readers themselves.

Used when ``card.driver = "pkcs11"`` and no PC/SC reader is configured: OpenSC and vendor
modules find readers and cards on their own, and SoftHSM2 has no reader at all. A thread of
our own looks at the slot list every ``poll_s`` (0.3 s) and reports the difference from the
last look as ``CardEvent``s, from set differences. A "reader" is a group of slots as
``Pkcs11Module.view`` names it: OpenSC's reader name, or for SoftHSM the card's label prefix.
PKCS#11 gives no ATR, so ``CARD_INSERTED`` carries none; a card swapped between two looks
(other token serials) is one removal and one insertion.

SoftHSM2 reads its token folder only at C_Initialize, so for it (``Pkcs11Module.
lists_tokens_only_at_init``) each look re-initialises the module first: safe, because no session
of ``Pkcs11IdCard`` outlives its call and both hold the module's lock (about 0.5 ms a look).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping

from hardware.pkcs11_module import Pkcs11Module, SlotView
from kiosk.errors import ReaderUnavailable
from kiosk.ports import CardEvent, ReaderInfo, card_events

log = logging.getLogger(__name__)

CardIdentity = frozenset[tuple[str, bytes]]
Snapshot = Mapping[str, CardIdentity | None]
"""Readers now: name -> the (label, serial) of the card's tokens, or None when empty."""


def slot_events(before: Snapshot, now: Snapshot) -> list[CardEvent]:
    """The PC/SC rule (``card_events``) with the tokens' identity in place of an ATR, which PKCS#11 has not."""
    return [dataclasses.replace(event, atr=None) for event in card_events(before, now)]


def snapshot_of(view: SlotView) -> dict[str, CardIdentity | None]:
    """A look at the slots as the snapshot events are computed from."""
    now: dict[str, CardIdentity | None] = dict.fromkeys(view.empty)
    now.update({name: frozenset((t.label, t.serial) for t in tokens) for name, tokens in view.cards.items()})
    return now


class Pkcs11SlotReader:
    """The ``CardReader`` port over a PKCS#11 module's slots (no PC/SC)."""

    def __init__(self, module: Pkcs11Module, token_label: str = "", *, poll_s: float = 0.3) -> None:
        self._module = module
        self._token_label = token_label
        self._poll_s = poll_s
        self._on_event: Callable[[CardEvent], None] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._published: dict[str, CardIdentity | None] = {}
        self._outage_noted = False

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Report events to ``on_event`` from the polling thread; cards already in come first."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("Pkcs11SlotReader is already started")
        self._on_event = on_event
        self._published = {}
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="pkcs11-slots", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the polling thread; returns once it has ended (or after ``timeout_s``)."""
        thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("PKCS#11 slot thread did not stop within %.1f s", timeout_s)
        self._on_event = None

    def readers(self) -> list[ReaderInfo]:
        """The slot groups now, each with whether a card (token) is in it; ``ReaderUnavailable`` if the module fails."""
        view = self._look()
        infos = [
            ReaderInfo(name, any(t.protected_auth_path for t in tokens), True) for name, tokens in view.cards.items()
        ]
        infos += [ReaderInfo(name, False, False) for name in view.empty]
        return sorted(infos, key=lambda r: r.name)

    def _look(self) -> SlotView:
        with self._module.lock:
            if self._module.lists_tokens_only_at_init:
                self._module.reinitialize()
            return self._module.view(self._token_label)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                now = snapshot_of(self._look())
                if self._outage_noted:
                    log.info("PKCS#11 module answers again")
                    self._outage_noted = False
            except ReaderUnavailable as exc:
                if not self._outage_noted:  # once per outage: days of it must not fill the log
                    log.warning("PKCS#11 module unavailable (%s); will keep trying", exc)
                    self._outage_noted = True
                now = {}
            except Exception:  # the thread must outlive any surprise from a vendor module
                log.exception("PKCS#11 slot look failed")
                now = {}
            self._publish(now)
            self._stopping.wait(self._poll_s)

    def _publish(self, now: dict[str, CardIdentity | None]) -> None:
        events = slot_events(self._published, now)
        self._published = now
        for event in events:
            on_event = self._on_event
            if on_event is None or self._stopping.is_set():
                return
            try:
                on_event(event)
            except Exception:  # a listener's bug must not stop card monitoring
                log.exception("card event listener failed on %s", event.kind.value)
