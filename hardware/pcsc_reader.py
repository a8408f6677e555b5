"""The PC/SC card reader adapter: readers and cards seen through pcscd, via pyscard.

A monitoring thread of our own blocks in ``SCardGetStatusChange`` on every reader plus the
special PnP reader (which wakes it when readers are plugged or unplugged), turns what it sees
into a snapshot ``{reader name: ATR, or None when empty}`` and reports the difference from the
previous snapshot as ``CardEvent``s. pyscard's ``CardMonitor`` is not used: it is a process-wide
singleton whose thread gives up for good when pcscd goes away and cannot be stopped promptly.

When pcscd goes away (restart, upgrade, crash) the snapshot becomes empty, so the kiosk hears
``CARD_REMOVED`` / ``READER_REMOVED`` and ends any session; the thread then re-establishes its
context with backoff and reports the readers again once pcscd is back.

pyscard is imported here and nowhere else: check ``is_usable()`` before building the adapter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk.errors import ReaderUnavailable
from kiosk.ports import CardEvent, CardEventKind, ReaderInfo, card_events

try:
    from smartcard import scard

    _DEP_PYSCARD = True
except ImportError:  # the demo runs on laptops without libpcsclite
    scard = None
    _DEP_PYSCARD = False

log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
CM_IOCTL_GET_FEATURE_REQUEST = 3400  # PC/SC part 10: the reader lists its CCID features
FEATURE_VERIFY_PIN_DIRECT = 0x06
FEATURE_MODIFY_PIN_DIRECT = 0x07
PINPAD_FEATURES = frozenset({FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT})


def is_usable() -> bool:
    """True when pyscard (and so libpcsclite) is installed; pcscd need not be running."""
    return _DEP_PYSCARD


def feature_tags(tlv: bytes) -> set[int]:
    """The feature tags in a GET_FEATURE_REQUEST answer (tag, length 4, control code; repeated)."""
    tags, i = set(), 0
    while i + 2 <= len(tlv):
        tag, length = tlv[i], tlv[i + 1]
        tags.add(tag)
        i += 2 + length
    return tags


class _ContextLost(Exception):
    """The PC/SC context stopped working (pcscd went away); establish a new one."""

    def __init__(self, call: str, code: int) -> None:
        super().__init__(f"{call}: {_describe(code)}")


def _describe(code: int) -> str:
    return f"{scard.SCardGetErrorMessage(code)} (0x{code & 0xFFFFFFFF:08X})"


class _NotAnswered(Exception):
    """The reader could not be asked about its features just now."""


class _Context:
    """One PC/SC context: pyscard's result codes turned into values and exceptions."""

    def __init__(self, handle: int) -> None:
        self.handle = handle

    @classmethod
    def establish(cls) -> _Context:
        """A new context, or ``ReaderUnavailable`` when pcscd does not answer."""
        code, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if code != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailable(f"PC/SC service not running: {_describe(code)}")
        return cls(handle)

    def release(self) -> None:
        """Give the context back (pcscd may already be gone; nothing to do then)."""
        scard.SCardReleaseContext(self.handle)

    def cancel(self) -> None:
        """Wake a ``wait_for_change`` blocked in another thread."""
        scard.SCardCancel(self.handle)

    def list_readers(self) -> list[str]:
        """Names of the readers attached now."""
        code, names = scard.SCardListReaders(self.handle, [])
        if code == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if code != scard.SCARD_S_SUCCESS:
            raise _ContextLost("SCardListReaders", code)
        return list(names)

    def wait_for_change(
        self, states: list[tuple[str, int]], timeout_ms: int
    ) -> list[tuple[str, int, bytes]] | None:
        """Block until a reader's state differs from ``states``; None on timeout or cancel."""
        code, result = scard.SCardGetStatusChange(self.handle, timeout_ms, states)
        if code in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return None
        if code == scard.SCARD_E_UNKNOWN_READER:
            return [(name, scard.SCARD_STATE_UNKNOWN, b"") for name, _ in states]
        if code != scard.SCARD_S_SUCCESS:
            raise _ContextLost("SCardGetStatusChange", code)
        return [(name, event, bytes(atr)) for name, event, atr in result]

    def features(self, reader: str) -> set[int]:
        """The reader's PC/SC part-10 feature tags; ``_NotAnswered`` if it could not be asked."""
        code, card, _ = scard.SCardConnect(self.handle, reader, scard.SCARD_SHARE_DIRECT, 0)
        if code != scard.SCARD_S_SUCCESS:
            raise _NotAnswered(code)  # e.g. another application holds the reader exclusively
        try:
            code, answer = scard.SCardControl(card, scard.SCARD_CTL_CODE(CM_IOCTL_GET_FEATURE_REQUEST), [])
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        if code == scard.SCARD_E_UNSUPPORTED_FEATURE:
            return set()  # the driver knows no part-10 features at all (vpcd, simple readers)
        if code != scard.SCARD_S_SUCCESS:
            raise _NotAnswered(code)
        return feature_tags(bytes(answer))


class _Backoff:
    """Delays between reconnection attempts: doubling from ``first_s`` up to ``max_s``."""

    def __init__(self, first_s: float, max_s: float) -> None:
        self.first_s, self.max_s = first_s, max_s
        self.next_s = first_s

    def take(self) -> float:
        delay, self.next_s = self.next_s, min(self.next_s * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self.next_s = self.first_s


class _ReaderStates:
    """What the monitor last heard from each reader, fed back into the next wait."""

    def __init__(self, names: list[str]) -> None:
        self.pnp = scard.SCARD_STATE_UNAWARE
        self.states: dict[str, tuple[int, bytes]] = {n: (scard.SCARD_STATE_UNAWARE, b"") for n in names}

    def query(self) -> list[tuple[str, int]]:
        """The ``(reader, current state)`` list for ``SCardGetStatusChange``."""
        return [(n, s) for n, (s, _) in self.states.items()] + [(PNP_NOTIFICATION, self.pnp)]

    def update(self, result: list[tuple[str, int, bytes]]) -> bool:
        """Take in a wait's result; True when the reader list must be read again."""
        relist = False
        for name, event, atr in result:
            settled = event & ~scard.SCARD_STATE_CHANGED
            if name == PNP_NOTIFICATION:
                relist |= bool(event & scard.SCARD_STATE_CHANGED)
                self.pnp = settled
            elif event & scard.SCARD_STATE_UNKNOWN:
                relist = True  # the reader left between listing and waiting
            elif name in self.states:
                self.states[name] = (settled, atr)
        return relist

    def relisted(self, names: list[str]) -> None:
        """Keep what is known of readers still attached; new ones start unaware."""
        self.states = {n: self.states.get(n, (scard.SCARD_STATE_UNAWARE, b"")) for n in names}

    def snapshot(self) -> dict[str, bytes | None]:
        """Readers whose state is known, each with its card's ATR or None."""
        return {
            name: (atr if state & scard.SCARD_STATE_PRESENT else None)
            for name, (state, atr) in self.states.items()
            if state != scard.SCARD_STATE_UNAWARE
        }


class PcscCardReader:
    """The ``CardReader`` port over pcscd: every attached reader, its card and its PIN pad."""

    def __init__(self, *, wait_timeout_s: float = 2.0, retry_first_s: float = 0.1, retry_max_s: float = 2.0) -> None:
        if not is_usable():
            raise ReaderUnavailable("pyscard is not installed (pip install '.[pcsc]')")
        self._wait_timeout_ms = int(wait_timeout_s * 1000)
        self._backoff = _Backoff(retry_first_s, retry_max_s)
        self._on_event: Callable[[CardEvent], None] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # guards the monitor's live context against stop()'s cancel
        self._live: _Context | None = None
        self._pinpads: dict[str, bool] = {}
        self._outage_noted = False
        self._published: dict[str, bytes | None] = {}  # the snapshot listeners have heard of

    # -- the port ---------------------------------------------------------------------------

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Report events to ``on_event`` from the monitor thread (the app marshals them).

        Readers and cards already present are reported first, as if they had just arrived.
        """
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("PcscCardReader is already started")
        self._on_event = on_event
        self._published = {}
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the monitor thread; returns once it has ended (or after ``timeout_s``)."""
        thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is None:
            return
        # A cancel only wakes a wait already in progress, so repeat it until the thread ends.
        deadline = time.monotonic() + timeout_s
        while thread.is_alive() and time.monotonic() < deadline:
            self._cancel_live_wait()
            thread.join(0.05)
        if thread.is_alive():
            log.warning("PC/SC monitor thread did not stop within %.1f s", timeout_s)
        self._on_event = None

    def readers(self) -> list[ReaderInfo]:
        """The readers attached now, asked of pcscd; ``ReaderUnavailable`` when it is not running."""
        context = _Context.establish()
        try:
            names = context.list_readers()
            result = context.wait_for_change([(n, scard.SCARD_STATE_UNAWARE) for n in names], 0) if names else []
            self._forget_pinpads_except(set(names))
            return [
                self._reader_info(context, name, event, atr)
                for name, event, atr in result or []
                if not event & scard.SCARD_STATE_UNKNOWN  # unplugged while we asked
            ]
        except _ContextLost as exc:
            raise ReaderUnavailable(str(exc)) from None
        finally:
            context.release()

    # -- reader details -----------------------------------------------------------------------

    def _reader_info(self, context: _Context, name: str, event: int, atr: bytes) -> ReaderInfo:
        present = bool(event & scard.SCARD_STATE_PRESENT)
        return ReaderInfo(name, self._has_pinpad(context, name), present, atr if present else None)

    def _has_pinpad(self, context: _Context, name: str) -> bool:
        with self._lock:
            if name in self._pinpads:
                return self._pinpads[name]
        try:
            found = bool(context.features(name) & PINPAD_FEATURES)
        except _NotAnswered:
            return False  # undetermined: say no, and ask again next time
        with self._lock:
            self._pinpads[name] = found
        return found

    def _forget_pinpads_except(self, names: set[str]) -> None:
        with self._lock:
            for gone in set(self._pinpads) - names:
                del self._pinpads[gone]

    # -- the monitor thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._connect_and_watch()
            except Exception:  # the thread must outlive any surprise from the library
                log.exception("PC/SC monitor failed; starting over")
            self._stopping.wait(self._backoff.take())

    def _connect_and_watch(self) -> None:
        """One life of a PC/SC context: establish it, watch through it, report its loss."""
        try:
            context = _Context.establish()
        except ReaderUnavailable:
            self._note_outage("PC/SC service not running; will keep retrying")
            return
        if self._outage_noted:
            log.info("PC/SC service is back")
            self._outage_noted = False
        self._watch(context)
        if not self._stopping.is_set():
            self._note_outage("PC/SC service lost; will keep retrying")
            # With no service there is no reader the kiosk can use: report them all gone.
            self._publish({})

    def _note_outage(self, message: str) -> None:
        # Once per outage: a kiosk left without pcscd for days must not fill its log.
        if not self._outage_noted:
            log.warning(message)
            self._outage_noted = True

    def _watch(self, context: _Context) -> None:
        """Report changes seen through ``context`` until it dies or stop() is called."""
        with self._lock:
            self._live = context
        try:
            states = _ReaderStates(context.list_readers())
            while not self._stopping.is_set():
                result = context.wait_for_change(states.query(), self._wait_timeout_ms)
                # Reset only once pcscd has answered, so a context that dies at once still backs off.
                self._backoff.reset()
                if result is not None and states.update(result):
                    states.relisted(context.list_readers())
                self._publish(states.snapshot())
        except _ContextLost as exc:
            log.info("PC/SC context lost: %s", exc)
        finally:
            with self._lock:
                self._live = None
            context.release()

    def _publish(self, now: dict[str, bytes | None]) -> None:
        """Tell listeners what changed; ``now``: reader → the card's ATR (``b""`` for a mute card), or None."""
        events = card_events(self._published, now)
        self._published = now
        if any(e.kind is CardEventKind.READER_REMOVED for e in events):
            self._forget_pinpads_except(set(now))
        for event in events:
            self._emit(event)

    def _emit(self, event: CardEvent) -> None:
        on_event = self._on_event
        if on_event is None or self._stopping.is_set():
            return
        try:
            on_event(event)
        except Exception:  # a listener's bug must not stop card monitoring
            log.exception("card event listener failed on %s", event.kind.value)

    def _cancel_live_wait(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.cancel()
