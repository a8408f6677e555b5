"""Simulated twins of the card reader and the national ID card, for the demo and the tests.

``SimulatedCardReader.insert(card)`` / ``.remove()`` drive the same events a PC/SC reader
sends; ``SimulatedIdCard`` keeps the real card's rules: a 4-digit authentication PIN,
a 6-digit signing PIN, an 8-digit PUK, three tries and then blocked.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from hardware.demo_pki import DemoPki
from kiosk.errors import (
    CardRemoved,
    CardUnsupported,
    PinFormatInvalid,
    PinIncorrect,
    PinLocked,
    ReaderUnavailable,
)
from kiosk.ports import CardCertificates, CardEvent, CardEventKind, PinKind, PinStatus, ReaderInfo

MAX_TRIES = 3
DEMO_ATR = bytes.fromhex("3BDB960080B1FE451F830031C064C7FC100001900074")
_PIN_RULES = {PinKind.AUTH: (4, 4), PinKind.SIGN: (6, 6)}
_PUK_LEN = 8


def _check_format(value: bytearray, lengths: tuple[int, int]) -> None:
    if not (lengths[0] <= len(value) <= lengths[1]) or not bytes(value).isdigit():
        raise PinFormatInvalid(*lengths)


class _Secret:
    """A PIN or PUK with its retry counter, compared in constant time."""

    def __init__(self, value: str) -> None:
        self.value = bytearray(value.encode())
        self.tries_left = MAX_TRIES

    def status(self) -> PinStatus:
        return PinStatus.from_tries_left(self.tries_left)

    def verify(self, candidate: bytearray) -> None:
        if self.tries_left == 0:
            raise PinLocked()
        if hmac.compare_digest(bytes(candidate), bytes(self.value)):
            self.tries_left = MAX_TRIES
            return
        self.tries_left -= 1
        if self.tries_left == 0:
            raise PinLocked()
        raise PinIncorrect(self.tries_left)


class SimulatedIdCard:
    """A national ID card in memory, its keys and certificates from a demo PKI."""

    def __init__(
        self,
        pki: DemoPki,
        *,
        auth_pin: str = "1234",
        sign_pin: str = "123456",
        puk: str = "12345678",
        delay_s: float = 0.0,
        protected_auth_path: bool = False,
        atr: bytes = DEMO_ATR,
    ) -> None:
        self._pki = pki
        self._pins = {PinKind.AUTH: _Secret(auth_pin), PinKind.SIGN: _Secret(sign_pin)}
        self._puk = _Secret(puk)
        self._delay_s = delay_s
        self._protected = protected_auth_path
        self.atr = atr
        self.present = False

    @property
    def protected_auth_path(self) -> bool:
        """True when this card is set up as if the reader had a PIN pad."""
        return self._protected

    def _io(self) -> None:
        """Like a real card: take some time, and fail if the card left the reader."""
        if self._delay_s:
            time.sleep(self._delay_s)
        if not self.present:
            raise CardRemoved()

    def certificates(self) -> CardCertificates:
        """The demo citizen's authentication and signing certificates."""
        self._io()
        return CardCertificates(self._pki.citizen_auth.der, self._pki.citizen_sign.der)

    def pin_status(self, which: PinKind) -> PinStatus:
        """Tries left on a PIN, as the card's flags would say."""
        self._io()
        return self._pins[which].status()

    def _login(self, which: PinKind, pin: bytearray | None) -> None:
        if pin is None:
            if not self._protected:
                raise PinFormatInvalid(*_PIN_RULES[which])
            return  # the simulated "reader keypad" always gets the right PIN
        _check_format(pin, _PIN_RULES[which])
        self._pins[which].verify(pin)

    def authenticate(self, pin: bytearray | None, challenge: bytes) -> bytes:
        """RSA PKCS#1 v1.5 SHA-256 signature of ``challenge`` with the authentication key."""
        self._io()
        self._login(PinKind.AUTH, pin)
        self._io()
        return self._pki.citizen_auth.key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())

    def sign(self, pin: bytearray | None, digest: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature over a precomputed SHA-256 ``digest`` with the signing key."""
        self._io()
        self._login(PinKind.SIGN, pin)
        self._io()
        return self._pki.citizen_sign.key.sign(
            digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )

    def change_pin(self, which: PinKind, old: bytearray, new: bytearray) -> None:
        """Set a new PIN after the old one is verified."""
        self._io()
        _check_format(new, _PIN_RULES[which])
        self._login(which, old)
        self._pins[which].value = bytearray(new)

    def unblock_pin(self, puk: bytearray, new: bytearray) -> None:
        """Unblock the authentication PIN with the PUK."""
        self._io()
        _check_format(puk, (_PUK_LEN, _PUK_LEN))
        _check_format(new, _PIN_RULES[PinKind.AUTH])
        self._puk.verify(puk)
        self._pins[PinKind.AUTH].value = bytearray(new)
        self._pins[PinKind.AUTH].tries_left = MAX_TRIES


class SimulatedCardReader:
    """One simulated reader you can put a card into and take it out of."""

    def __init__(self, name: str = "Simulated Reader 0", has_pinpad: bool = False) -> None:
        self.name = name
        self.has_pinpad = has_pinpad
        self.card: SimulatedIdCard | None = None
        self.unplugged = False
        self._on_event: Callable[[CardEvent], None] | None = None
        self._lock = threading.Lock()

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Report events to ``on_event`` (called on the thread that inserts or removes).

        Like the PC/SC reader, a card already in the reader is reported at once.
        """
        self._on_event = on_event
        if self.card is not None:
            self._emit(CardEventKind.CARD_INSERTED, self.card.atr)

    def stop(self) -> None:
        """Stop reporting events."""
        self._on_event = None

    def readers(self) -> list[ReaderInfo]:
        """This one reader, or none while unplugged."""
        if self.unplugged:
            return []
        card = self.card
        return [ReaderInfo(self.name, self.has_pinpad, card is not None, card.atr if card else None)]

    def _emit(self, kind: CardEventKind, atr: bytes | None = None) -> None:
        if self._on_event:
            self._on_event(CardEvent(kind, self.name, atr))

    def insert(self, card: SimulatedIdCard) -> None:
        """Put ``card`` into the reader (replacing none: remove first)."""
        with self._lock:
            if self.card is not None:
                raise RuntimeError("a card is already in the reader")
            card.present = True
            self.card = card
        self._emit(CardEventKind.CARD_INSERTED, card.atr)

    def remove(self) -> None:
        """Take the card out; any operation on it from now on raises ``CardRemoved``."""
        with self._lock:
            card, self.card = self.card, None
        if card is not None:
            card.present = False
            self._emit(CardEventKind.CARD_REMOVED)

    def open_card(self, reader: ReaderInfo) -> SimulatedIdCard:
        """The card now in the reader (the ``CardOpener`` for simulated hardware)."""
        if self.unplugged:
            raise ReaderUnavailable()
        card = self.card
        if card is None or reader.name != self.name:
            raise CardRemoved()
        if card.atr != DEMO_ATR:
            raise CardUnsupported()
        return card
