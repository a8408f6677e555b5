"""The device ports the core talks to, and the small value types they exchange.

Each port is a ``typing.Protocol`` with a tiny surface; adapters (PC/SC, PKCS#11, ESC/POS)
and their Simulated twins implement it. The core depends on these names only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class LineStyle(enum.Enum):
    """How a receipt line is set."""

    TITLE = "title"  # large, bold, centred
    HEADING = "heading"  # bold
    NORMAL = "normal"
    SMALL = "small"
    RULE = "rule"  # a horizontal separator; text ignored


@dataclass(frozen=True)
class ReceiptLine:
    """One printed line (it may wrap on narrow paper)."""

    text: str
    style: LineStyle = LineStyle.NORMAL
    centered: bool = False


@dataclass(frozen=True)
class Receipt:
    """A receipt for one submitted request, already in the villager's language."""

    request_id: str
    receipt_no: str
    language: str
    agency: str
    service: str
    created_at: datetime
    citizen_name: str
    masked_personal_number: str
    fee: Decimal
    delivered: bool
    state_text: str
    next_steps: str
    qr_url: str
    lines: tuple[ReceiptLine, ...]


class CardEventKind(enum.Enum):
    """What changed at a reader."""

    READER_ADDED = "reader_added"
    READER_REMOVED = "reader_removed"
    CARD_INSERTED = "card_inserted"
    CARD_REMOVED = "card_removed"


@dataclass(frozen=True)
class CardEvent:
    """One change at one reader; ``atr`` is set for an inserted card."""

    kind: CardEventKind
    reader: str
    atr: bytes | None = None


def _atr(seen: Hashable) -> bytes | None:
    """What an event carries of the card: the ATR when the reader gave bytes (a slot list gives other tokens)."""
    return seen if isinstance(seen, bytes) else None


def card_events(before: Mapping[str, Hashable | None], now: Mapping[str, Hashable | None]) -> list[CardEvent]:
    """The events that turn ``before`` into ``now`` (reader → the card in it, or None), from set differences.

    A card is identified by its reader and what the reader says of it (the ATR under PC/SC), so a
    card swapped for another between two looks is one removal and one insertion. Cards leave before
    their reader does, and a reader arrives before the card in it, so a listener never hears of a
    card in an unknown reader.
    """
    readers_before, readers_now = set(before), set(now)
    cards_before = {(r, atr) for r, atr in before.items() if atr is not None}
    cards_now = {(r, atr) for r, atr in now.items() if atr is not None}
    return (
        [CardEvent(CardEventKind.CARD_REMOVED, r) for r, _ in sorted(cards_before - cards_now, key=_reader)]
        + [CardEvent(CardEventKind.READER_REMOVED, r) for r in sorted(readers_before - readers_now)]
        + [CardEvent(CardEventKind.READER_ADDED, r) for r in sorted(readers_now - readers_before)]
        + [CardEvent(CardEventKind.CARD_INSERTED, r, _atr(atr))
           for r, atr in sorted(cards_now - cards_before, key=_reader)]
    )


def _reader(card: tuple[str, Hashable]) -> str:
    return card[0]


@dataclass(frozen=True)
class ReaderInfo:
    """A reader as the kiosk sees it now."""

    name: str
    has_pinpad: bool
    card_present: bool
    atr: bytes | None = None


class PinKind(enum.Enum):
    """The card's secrets: authentication PIN, qualified-signature PIN."""

    AUTH = "auth"
    SIGN = "sign"


class PinState(enum.Enum):
    """What the card's flags say about a PIN before the next try."""

    OK = "ok"
    COUNT_LOW = "count_low"
    FINAL_TRY = "final_try"
    LOCKED = "locked"


@dataclass(frozen=True)
class PinStatus:
    """A PIN's state and, where the card tells, how many tries remain."""

    state: PinState
    tries_left: int | None = None

    @classmethod
    def from_tries_left(cls, tries_left: int | None) -> PinStatus:
        """The status a card's counter implies: 0 locked, 1 final try, 2 count low, else ok."""
        states = {0: PinState.LOCKED, 1: PinState.FINAL_TRY, 2: PinState.COUNT_LOW}
        return cls(states.get(tries_left, PinState.OK) if tries_left is not None else PinState.OK, tries_left)


@dataclass(frozen=True)
class CardCertificates:
    """DER certificates read from the card without a PIN."""

    authentication: bytes
    signing: bytes | None = None


class CardReader(Protocol):
    """Card presence: which readers exist and when cards come and go."""

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Begin reporting events (possibly from another thread)."""

    def stop(self) -> None:
        """Stop reporting events and release the reader."""

    def readers(self) -> list[ReaderInfo]:
        """The readers now attached."""


class IdCard(Protocol):
    """One inserted national ID card."""

    @property
    def protected_auth_path(self) -> bool:
        """True when the PIN is typed on the reader's own keypad."""

    def certificates(self) -> CardCertificates:
        """The authentication and signing certificates (no PIN needed)."""

    def pin_status(self, which: PinKind) -> PinStatus:
        """What the card says about a PIN before it is tried."""

    def authenticate(self, pin: bytearray | None, challenge: bytes) -> bytes:
        """Sign ``challenge`` with the authentication key after ``pin`` (None: reader keypad)."""

    def sign(self, pin: bytearray | None, digest: bytes) -> bytes:
        """Sign a SHA-256 ``digest`` with the qualified signature key."""

    def change_pin(self, which: PinKind, old: bytearray, new: bytearray) -> None:
        """Replace a PIN, knowing the old one."""

    def unblock_pin(self, puk: bytearray, new: bytearray) -> None:
        """Unblock the authentication PIN with the PUK and set a new one."""


CardOpener = Callable[[ReaderInfo], IdCard]
"""Opens the ID card in a reader (PKCS#11 slot or simulated card)."""


class PaperState(enum.Enum):
    """Paper sensor readings."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer answered to a real-time status query."""

    online: bool
    paper: PaperState = PaperState.OK
    cover_open: bool = False

    @property
    def ready(self) -> bool:
        """True when a receipt can be printed now."""
        return self.online and self.paper is not PaperState.OUT and not self.cover_open


class ReceiptPrinter(Protocol):
    """A receipt printer."""

    def status(self) -> PrinterStatus:
        """Ask the printer how it is (with a short timeout)."""

    def print_receipt(self, receipt: Receipt) -> None:
        """Print one receipt or raise a ``PrinterError``."""


class Speaker(Protocol):
    """Something that can say a sentence aloud."""

    def say(self, text: str, language: str) -> None:
        """Start saying ``text`` in ``language``, cutting off anything still being said; return at once."""

    def stop(self) -> None:
        """Stop talking."""


class Sealer(Protocol):
    """Seals a payload to the hub's key (``protocol.sealing.PayloadSealer`` or the bootstrap's current-hub one)."""

    def seal(self, payload: dict[str, Any]) -> bytes:
        """The payload, readable only with the hub's private key."""


class DemoDevices(Protocol):
    """The simulated twins of a demo kiosk (``hardware.demo_devices.DemoHardware``), for tours and tests to
    drive: ``reader.insert(card)`` / ``reader.remove()``, ``printer.receipts``, ``new_card()``."""

    @property
    def reader(self) -> Any:
        """The simulated card reader (``SimulatedCardReader``)."""

    @property
    def printer(self) -> Any:
        """The simulated printer (``SimulatedPrinter``), which keeps what it printed."""

    @property
    def pki(self) -> Any:
        """The demo PKI the demo card's certificates come from."""

    @property
    def hub_private_key(self) -> bytes:
        """The demo hub's sealing key (the demo kiosk seals to it before any enrolment)."""

    def new_card(self, **kwargs: object) -> Any:
        """A fresh demo citizen's card (PIN 1234, signing PIN 123456, PUK 12345678)."""
