"""A loaded PKCS#11 module (the ID card's vendor library, OpenSC, or SoftHSM2) and its tokens.

``Pkcs11Module`` wraps python-pkcs11's process-wide library object with one lock: the ID card
and the slot reader share it, so a re-initialisation never cuts through another thread's call.
Make one per module path per process (``entrypoints.bootstrap`` does).

``find_cards`` groups the tokens the module shows into cards. Real eID modules (OpenSC's
PKCS#15 emulation) give each PIN its own virtual slot on the card's reader — the authentication
key behind PIN1, the qualified-signature key behind PIN2 — all with the reader's name as slot
description and the card's serial number; SoftHSM2 gives every token its own slot. So tokens
are one card when their slots share a description, or (slots of their own) when they share a
serial number or a label prefix (``"Demo Citizen (PIN1)"`` and ``"Demo Citizen (PIN2)"``).

python-pkcs11 is imported here and in the other ``hardware/pkcs11_*`` modules only: check
``is_usable()`` first.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kiosk.errors import CardError, CardRemoved, CardUnsupported, PinIncorrect, PinLocked, ReaderUnavailable
from kiosk.ports import PinState, PinStatus

try:
    import pkcs11
    from pkcs11 import TokenFlag

    _DEP_PKCS11 = True
except ImportError:  # the demo runs on laptops without python-pkcs11
    pkcs11 = None  # type: ignore[assignment]  # is_usable() says so before anything touches it
    _DEP_PKCS11 = False

log = logging.getLogger(__name__)

REMOVAL_SETTLE_S = 1.0  # how long an unexplained error waits for the slot to say the card was pulled
_LABEL_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")  # OpenSC's " (PIN1)", " (PIN2)", " (Signature PIN)"


def is_usable() -> bool:
    """True when python-pkcs11 is installed (the module file itself is checked on loading)."""
    return _DEP_PKCS11


@dataclass(frozen=True)
class TokenRef:
    """Where one token was seen: enough to find it again and to notice it was swapped."""

    slot_id: int
    slot_description: str
    label: str
    serial: bytes
    slot: Any = field(default=None, compare=False, repr=False)  # python-pkcs11's Slot, to ask again
    protected_auth_path: bool = field(default=False, compare=False)  # PIN typed on the reader's keypad

    @property
    def label_prefix(self) -> str:
        """The card part of the label: ``"Demo Citizen (PIN1)"`` → ``"Demo Citizen"``."""
        return _LABEL_SUFFIX.sub("", self.label) or self.label


@dataclass(frozen=True)
class SlotView:
    """The module's slots at one look: cards by name, and the names of slots with no card."""

    cards: dict[str, tuple[TokenRef, ...]]
    empty: frozenset[str]


class Pkcs11Module:
    """A PKCS#11 library loaded once, with the lock every call into it holds."""

    def __init__(self, module_path: str) -> None:
        if not is_usable():
            raise ReaderUnavailable("python-pkcs11 is not installed (pip install '.[pkcs11]')")
        try:
            self._lib = pkcs11.lib(module_path)
            # python-pkcs11 keeps one library object per path for the whole process: start it
            # afresh so this object sees the tokens (and SoftHSM's SOFTHSM2_CONF) as they are now.
            self._lib.reinitialize()
        except pkcs11.PKCS11Error as exc:
            # No module, no card: the kiosk cannot reach any card, as with no reader at all.
            raise ReaderUnavailable(f"cannot load PKCS#11 module {module_path}: {exc}") from None
        self.path = module_path
        self.lock = threading.RLock()
        # SoftHSM2 reads its token folder only at C_Initialize: to see tokens made or deleted
        # by another process, whoever watches the slots must re-initialise before each look.
        self.lists_tokens_only_at_init = self._lib.manufacturer_id.strip().startswith("SoftHSM")

    def reinitialize(self) -> None:
        """C_Finalize + C_Initialize: closes every session of the process, rescans the tokens."""
        with self.lock:
            try:
                self._lib.reinitialize()
            except pkcs11.PKCS11Error as exc:
                raise ReaderUnavailable(f"PKCS#11 module did not restart: {type(exc).__name__}") from None

    def token(self, ref: TokenRef):
        """The token ``ref`` names, re-read now (flags are a snapshot); ``CardRemoved`` if gone."""
        with self.lock:
            try:
                # A fresh list of the slots holding a token: OpenSC looks for the card only then, and
                # answers C_GetTokenInfo from its cache for a card pulled since (found by the PIV tests).
                present = [s for s in self._lib.get_slots(token_present=True) if s.slot_id == ref.slot.slot_id]
                if not present:
                    raise CardRemoved("no token in the slot")
                token = present[0].get_token()
            except pkcs11.PKCS11Error as exc:
                # SoftHSM answers GeneralError for a token deleted under it; OpenSC TokenNotPresent.
                raise CardRemoved(type(exc).__name__) from None
            if token.serial != ref.serial or token.label != ref.label:
                raise CardRemoved("token gone or swapped")
            return token

    def view(self, token_label: str = "") -> SlotView:
        """The cards present now (tokens grouped, filtered by ``token_label``) and the empty slots."""
        with self.lock:
            refs, empty = [], set()
            try:
                slots = self._lib.get_slots(token_present=False)
            except pkcs11.PKCS11Error as exc:
                raise ReaderUnavailable(f"PKCS#11 module lists no slots: {type(exc).__name__}") from None
            for slot in slots:
                description = slot.slot_description.strip()
                try:
                    token = slot.get_token() if slot.flags & pkcs11.SlotFlag.TOKEN_PRESENT else None
                except pkcs11.PKCS11Error:
                    token = None  # removed between the two calls, or (SoftHSM) deleted under us
                if token is None:
                    empty.add(description)
                    continue
                if not token.flags & TokenFlag.TOKEN_INITIALIZED:
                    continue  # a blank card, or SoftHSM's spare slot: nothing to show or open
                protected = bool(token.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH)
                ref = TokenRef(slot.slot_id, description, token.label, token.serial, slot, protected)
                if not token_label or token_label in (ref.label, ref.label_prefix):
                    refs.append(ref)
                else:
                    empty.add(description)
        cards = group_cards(refs)
        return SlotView(cards, frozenset(empty - set(cards)))


def group_cards(refs: list[TokenRef]) -> dict[str, tuple[TokenRef, ...]]:
    """Tokens grouped into cards, each named by its reader (shared slot description) or label prefix."""
    parent = list(range(len(refs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    shared = {r.slot_description for r in refs if sum(o.slot_description == r.slot_description for o in refs) > 1}
    for i, a in enumerate(refs):
        for j in range(i):
            b = refs[j]
            if a.slot_description in shared:
                same = a.slot_description == b.slot_description or (a.serial != b"" and a.serial == b.serial)
            else:
                same = (a.serial != b"" and a.serial == b.serial) or (
                    b.slot_description not in shared and a.label_prefix == b.label_prefix
                )
            if same:
                parent[root(i)] = root(j)
    groups: dict[int, list[TokenRef]] = {}
    for i, ref in enumerate(refs):
        groups.setdefault(root(i), []).append(ref)
    # A card in a reader's virtual slots is named after the reader; a card of slots of its own
    # after its label prefix, which stays the same while its tokens come and go one by one
    # (unless two cards share the prefix: then after the first slot).
    members_of = [tuple(sorted(m, key=lambda t: t.slot_id)) for m in groups.values()]
    prefixes = [m[0].label_prefix for m in members_of]
    named = {}
    for members, prefix in zip(members_of, prefixes, strict=True):
        if members[0].slot_description in shared or prefixes.count(prefix) > 1:
            named[members[0].slot_description] = members
        else:
            named[prefix] = members
    return named


def pin_status_from_flags(flags: int, *, so: bool = False) -> PinStatus:
    """What token flags say about the user PIN (or, ``so=True``, the SO PIN = the PUK)."""
    if not is_usable():
        return PinStatus(PinState.OK)
    locked, final, low = (
        (TokenFlag.SO_PIN_LOCKED, TokenFlag.SO_PIN_FINAL_TRY, TokenFlag.SO_PIN_COUNT_LOW)
        if so
        else (TokenFlag.USER_PIN_LOCKED, TokenFlag.USER_PIN_FINAL_TRY, TokenFlag.USER_PIN_COUNT_LOW)
    )
    if flags & locked:
        return PinStatus(PinState.LOCKED, 0)
    if flags & final:
        return PinStatus(PinState.FINAL_TRY, 1)
    if flags & low:
        return PinStatus(PinState.COUNT_LOW, None)  # "low" without a number: the flag does not say
    return PinStatus(PinState.OK, None)


# PKCS#11 errors that mean the card (or the reader, or the session with it) is gone.
_REMOVED = (
    "DeviceRemoved",
    "TokenNotPresent",
    "SessionHandleInvalid",
    "SessionClosed",
    "SlotIDInvalid",
    "DeviceError",
)
# ... and those that mean this card cannot do what the kiosk needs.
_UNSUPPORTED = (
    "TokenNotRecognised",
    "MechanismInvalid",
    "MechanismParamInvalid",
    "KeyTypeInconsistent",
    "KeyFunctionNotPermitted",
    "FunctionNotSupported",
    "UserPinNotInitialized",
)


def translate_error(exc: Exception, module: Pkcs11Module, ref: TokenRef, *, so: bool = False) -> CardError:
    """The typed kiosk error for a PKCS#11 error raised while working with token ``ref``.

    PIN errors are completed from the token's flags, read again now; anything unexpected is
    checked against the token's presence, since modules report a pulled card in many ways.
    """
    name = type(exc).__name__
    if isinstance(exc, (pkcs11.PinIncorrect, pkcs11.PinLocked)):
        status = pin_status_from_flags(module.token(ref).flags, so=so)
        if isinstance(exc, pkcs11.PinLocked) or status.state is PinState.LOCKED:
            return PinLocked()
        return PinIncorrect(status.tries_left)
    if name in _REMOVED:
        return CardRemoved(name)
    if name in _UNSUPPORTED:
        return CardUnsupported(name)
    # A card pulled mid-operation often comes back as a general error while its slot still shows it:
    # the reader's service sees the card go at its next poll (pcscd: 0.4 s; OpenSC over the PIV card
    # on vpcd, found by the contract tests). Only an error the card's presence does not explain is one.
    deadline = time.monotonic() + REMOVAL_SETTLE_S
    while True:
        module.token(ref)  # raises CardRemoved when the token went away meanwhile
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    log.warning("PKCS#11 call failed: %s", name)
    return CardError(name)
