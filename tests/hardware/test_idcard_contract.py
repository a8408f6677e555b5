"""The IdCard contract, written once and run against every implementation.

``SimulatedIdCard`` (the twin the demo uses), ``Pkcs11IdCard`` on real SoftHSM2 tokens that hold
the same demo citizen (auth PIN 1234, signing PIN 123456, PUK = SO PIN 12345678), and
``Pkcs11IdCard`` on OpenSC's PKCS#11 module over pcscd and a virtual PIV card on vpcd
(``hardware/virtual_piv.py``: one PIN for both keys, 123456, and a PUK; the PIV driver wants a
new PIN of 6 to 8 digits) must behave alike. SoftHSM never counts tries: lock-out runs on the
simulated card and on the PIV card, whose tries come from the chip through OpenSC's token flags.
"""

from __future__ import annotations

import gc
import hashlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from hardware.demo_pki import DemoPki, load_or_make_demo_pki
from hardware.simulated_card import SimulatedCardReader, SimulatedIdCard
from kiosk.errors import CardRemoved, PinFormatInvalid, PinIncorrect
from kiosk.identity import CertificateValidator, ChallengeFailed, verify_challenge
from kiosk.ports import IdCard, PinKind, PinState, ReaderInfo
from tests.fixtures.clock import WORLD_NOW
from tests.fixtures.softhsm import SoftHsmTokens, build_citizen_tokens, softhsm_missing

CHALLENGE = bytes(range(32))
PINS = {PinKind.AUTH: b"1234", PinKind.SIGN: b"123456"}
NEW_PINS = {PinKind.AUTH: b"9876", PinKind.SIGN: b"987654"}
WRONG_PINS = {PinKind.AUTH: b"0000", PinKind.SIGN: b"000000"}
PUK = b"12345678"


@dataclass
class CardRig:
    """One implementation under test, the PKI its citizen comes from, a hand to pull the card, and its PINs."""

    card: IdCard
    pki: DemoPki
    pull: Callable[[], None]
    pins: dict[PinKind, bytes] = field(default_factory=lambda: dict(PINS))
    new_pins: dict[PinKind, bytes] = field(default_factory=lambda: dict(NEW_PINS))
    wrong_pins: dict[PinKind, bytes] = field(default_factory=lambda: dict(WRONG_PINS))
    auth_lengths: tuple[int, int] = (4, 4)
    one_pin: bool = False  # both keys behind the same PIN (PIV)
    counts_low: bool = True  # "count low" shows after one wrong try (OpenSC's PIV knows no maximum)
    locks: bool = True  # three wrong tries lock the PIN (SoftHSM never locks)
    # Only a card behind real layers can do these (the PIV chip on vpcd, through pcscd and OpenSC):
    vanish_next: Callable[[int], None] | None = None  # pull the card after this many more APDUs, mid-operation
    apdus: Callable[[], int] | None = None  # APDUs the chip has seen so far
    tries_on_chip: Callable[[], int] | None = None  # the PIN's counter, read from the chip itself
    reinsert: Callable[[], IdCard] | None = None  # put the (pulled) card back; the card opened again
    unplug: Callable[[], None] | None = None  # the reader goes away (pcscd stops: no reader at all)
    open_now: Callable[[], IdCard] | None = None  # one attempt to read the card in the reader, no waiting
    plug: Callable[[], IdCard] | None = None  # the reader is back (pcscd started, the card in); opened again


@pytest.fixture(scope="module")
def contract_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    """One demo PKI for every card of this module (RSA keys are slow to make)."""
    return load_or_make_demo_pki(tmp_path_factory.mktemp("idcard-pki"), WORLD_NOW)


@pytest.fixture(scope="module")
def contract_tokens(contract_pki: DemoPki, tmp_path_factory: pytest.TempPathFactory) -> SoftHsmTokens:
    """The demo citizen as SoftHSM2 tokens, built once; each test works on its own copy."""
    missing = softhsm_missing()
    if missing:
        pytest.skip(missing)
    return build_citizen_tokens(contract_pki, tmp_path_factory.mktemp("softhsm-template"))


def _simulated_rig(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CardRig]:
    pki = request.getfixturevalue("contract_pki")
    reader = SimulatedCardReader()
    reader.insert(SimulatedIdCard(pki))
    yield CardRig(reader.open_card(reader.readers()[0]), pki, reader.remove)


def _pkcs11_rig(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CardRig]:
    tokens = request.getfixturevalue("contract_tokens").copy_to(tmp_path / "softhsm")
    pki = request.getfixturevalue("contract_pki")
    from hardware.pkcs11_card import Pkcs11CardOpener
    from hardware.pkcs11_module import Pkcs11Module

    monkeypatch.setenv("SOFTHSM2_CONF", str(tokens.conf))
    module = Pkcs11Module(str(tokens.module))
    card = Pkcs11CardOpener(module)(ReaderInfo("any reader", False, True))

    def pull() -> None:
        for label in tokens.labels:
            tokens.delete_token(label)

    yield CardRig(card, pki, pull, locks=False)


OPENSC_MODULE = Path("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")
PIV_PIN, PIV_NEW_PIN, PIV_WRONG_PIN = b"123456", b"654321", b"000000"


def _opensc_rig(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CardRig]:
    if not OPENSC_MODULE.exists():
        pytest.skip("OpenSC's PKCS#11 module is not installed (Debian package opensc-pkcs11)")
    daemon = request.getfixturevalue("vpcd_pcscd")
    daemon.start()
    pki = request.getfixturevalue("contract_pki")
    from hardware.pkcs11_card import Pkcs11CardOpener
    from hardware.pkcs11_module import Pkcs11Module
    from hardware.virtual_piv import GEORGIAN_ATR, Counter, PivCard, opensc_conf
    from tests.fixtures.vpcd_card import VirtualCard, vpcd_reader_name

    chip = PivCard(pki, pin=Counter(PIV_PIN))
    card = VirtualCard(daemon.port, atr=GEORGIAN_ATR, handler=chip, on_power=chip.reset)
    chip.on_vanish = card.remove
    card.insert()
    monkeypatch.setenv("OPENSC_CONF", str(opensc_conf(tmp_path / "opensc.conf")))
    module = Pkcs11Module(str(OPENSC_MODULE))
    lengths = {PinKind.AUTH: (6, 8), PinKind.SIGN: (6, 8)}
    opened = wait_for(lambda: Pkcs11CardOpener(module, pin_lengths=lengths)(
        ReaderInfo(vpcd_reader_name(0), False, True)))
    def pull() -> None:
        from tests.hardware.conftest import _wait_slot_empty

        card.remove()
        _wait_slot_empty(vpcd_reader_name(0))  # pcscd sees a hung-up card at vpcd's next poll

    def open_again() -> IdCard:
        card.insert()
        rig.card = wait_for(lambda: Pkcs11CardOpener(module, pin_lengths=lengths)(
            ReaderInfo(vpcd_reader_name(0), False, True)), timeout_s=15)
        return rig.card

    def reinsert() -> IdCard:
        import time

        deadline = time.monotonic() + 5
        while card.inserted and time.monotonic() < deadline:  # the chip is still taking itself out
            time.sleep(0.05)
        pull()
        return open_again()

    def unplug() -> None:
        card.remove()
        daemon.stop()

    def plug() -> IdCard:
        daemon.start()
        return open_again()

    def vanish_next(n: int) -> None:
        chip.vanish_after = chip.seen + n

    rig = CardRig(opened, pki, pull, pins={k: PIV_PIN for k in PinKind},
                  new_pins={k: PIV_NEW_PIN for k in PinKind}, wrong_pins={k: PIV_WRONG_PIN for k in PinKind},
                  auth_lengths=(6, 8), one_pin=True, counts_low=False, vanish_next=vanish_next,
                  apdus=lambda: chip.seen, tries_on_chip=lambda: chip.pin.tries, reinsert=reinsert,
                  unplug=unplug, plug=plug, open_now=lambda: Pkcs11CardOpener(module, pin_lengths=lengths)(
                      ReaderInfo(vpcd_reader_name(0), False, True)))
    try:
        yield rig
    finally:
        if not daemon.running:
            daemon.start()
        pull()  # and wait until pcscd saw it go: the next test's card must not meet this one's state


def wait_for(opening: Callable[[], IdCard], timeout_s: float = 5.0) -> IdCard:
    """The card, once pcscd and the module see it (vpcd reports a new card at its next poll)."""
    import time

    from kiosk.errors import CardError, HardwareError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return opening()
        except (CardError, HardwareError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(params=["simulated", "pkcs11", "opensc"])
def rig(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CardRig]:
    """A freshly inserted card of each implementation (its PINs at their initial values)."""
    make = {"simulated": _simulated_rig, "pkcs11": _pkcs11_rig, "opensc": _opensc_rig}[request.param]
    yield from make(request, tmp_path, monkeypatch)


def _auth_cert(rig: CardRig) -> x509.Certificate:
    return x509.load_der_x509_certificate(rig.card.certificates().authentication)


def _authenticates(rig: CardRig, pin: bytes) -> None:
    verify_challenge(_auth_cert(rig), CHALLENGE, rig.card.authenticate(bytearray(pin), CHALLENGE))


def _signs(rig: CardRig, pin: bytes) -> None:
    digest = hashlib.sha256(b"application form").digest()
    signature = rig.card.sign(bytearray(pin), digest)
    cert = x509.load_der_x509_certificate(rig.card.certificates().signing)
    cert.public_key().verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


def _use(rig: CardRig, which: PinKind, pin: bytes) -> None:
    (_authenticates if which is PinKind.AUTH else _signs)(rig, pin)


def test_certificates_are_read_without_a_pin_and_chain_to_the_demo_pki(rig: CardRig) -> None:
    """GIVEN a freshly inserted card
    WHEN its certificates are read (no PIN given)
    THEN the authentication certificate validates to the demo root and the signing one is issued by the signing CA."""
    certs = rig.card.certificates()
    assert certs.authentication == rig.pki.citizen_auth.der and certs.signing == rig.pki.citizen_sign.der
    anchors = [rig.pki.root.cert, rig.pki.auth_ca.cert, rig.pki.sign_ca.cert]
    CertificateValidator(anchors, lambda: WORLD_NOW).validate(_auth_cert(rig))
    x509.load_der_x509_certificate(certs.signing).verify_directly_issued_by(rig.pki.sign_ca.cert)
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.OK
    assert rig.card.protected_auth_path is False


def test_authenticate_with_the_right_pin_gives_a_signature_the_certificate_verifies(rig: CardRig) -> None:
    """GIVEN a card
    WHEN the challenge is signed after the right PIN
    THEN the signature verifies with the authentication certificate, and not over another challenge."""
    signature = rig.card.authenticate(bytearray(rig.pins[PinKind.AUTH]), CHALLENGE)
    verify_challenge(_auth_cert(rig), CHALLENGE, signature)
    with pytest.raises(ChallengeFailed):
        verify_challenge(_auth_cert(rig), bytes(32), signature)


@pytest.mark.parametrize("which", list(PinKind))
def test_wrong_pin_is_refused_and_a_right_pin_restores_the_state(rig: CardRig, which: PinKind) -> None:
    """GIVEN a card
    WHEN a wrong PIN is tried, then the right one
    THEN PinIncorrect (count low), and after the right PIN the operation works and the PIN is OK again."""
    with pytest.raises(PinIncorrect) as refused:
        _use(rig, which, rig.wrong_pins[which])
    assert refused.value.tries_left in (2, None)  # the twin counts; PKCS#11 flags only say "low"
    # OpenSC's PIV driver learns the tries left from the chip but no maximum: "low" shows from the final try.
    assert rig.card.pin_status(which).state is (PinState.COUNT_LOW if rig.counts_low else PinState.OK)
    _use(rig, which, rig.pins[which])
    assert rig.card.pin_status(which).state is PinState.OK


@pytest.mark.parametrize("bad", [b"123", b"12345", b"12a4", b"", None])
def test_badly_formed_pin_is_refused_without_spending_a_try(rig: CardRig, bad: bytes | None) -> None:
    """GIVEN a card
    WHEN the authentication PIN has the wrong length or a non-digit (or is missing with no PIN pad)
    THEN PinFormatInvalid names the allowed length, and the card's PIN state is untouched."""
    with pytest.raises(PinFormatInvalid) as refused:
        rig.card.authenticate(None if bad is None else bytearray(bad), CHALLENGE)
    assert refused.value.params == {"min": rig.auth_lengths[0], "max": rig.auth_lengths[1]}
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.OK


def test_sign_a_digest_with_the_signing_pin_verifies_with_the_signing_certificate(rig: CardRig) -> None:
    """GIVEN a card
    WHEN a SHA-256 digest is signed with the signing PIN
    THEN the signature verifies with the signing certificate (and, on a card with two PINs, the
    authentication PIN does not sign)."""
    _signs(rig, rig.pins[PinKind.SIGN])
    if not rig.one_pin:
        with pytest.raises(PinFormatInvalid):
            rig.card.sign(bytearray(rig.pins[PinKind.AUTH]), hashlib.sha256(b"x").digest())


@pytest.mark.parametrize("which", list(PinKind))
def test_change_pin_refuses_the_old_one_afterwards(rig: CardRig, which: PinKind) -> None:
    """GIVEN a card
    WHEN a PIN is changed knowing the old one
    THEN the old PIN is refused, the new one works; a change with a wrong old PIN is refused."""
    with pytest.raises(PinIncorrect):
        rig.card.change_pin(which, bytearray(rig.wrong_pins[which]), bytearray(rig.new_pins[which]))
    rig.card.change_pin(which, bytearray(rig.pins[which]), bytearray(rig.new_pins[which]))
    with pytest.raises(PinIncorrect):
        _use(rig, which, rig.pins[which])
    _use(rig, which, rig.new_pins[which])


def test_new_pin_of_the_wrong_length_is_refused_before_the_card_is_asked(rig: CardRig) -> None:
    """GIVEN a card
    WHEN a change asks for a 5-digit authentication PIN
    THEN PinFormatInvalid, and the old PIN still works."""
    with pytest.raises(PinFormatInvalid):
        rig.card.change_pin(PinKind.AUTH, bytearray(rig.pins[PinKind.AUTH]), bytearray(b"12345"))
    _authenticates(rig, rig.pins[PinKind.AUTH])


def test_unblock_with_the_puk_sets_a_new_pin(rig: CardRig) -> None:
    """GIVEN a card whose PIN was mistyped
    WHEN a wrong PUK is tried, then the right PUK with a new PIN
    THEN the wrong PUK is refused, and afterwards the new PIN works and the old one does not."""
    with pytest.raises(PinIncorrect):
        _authenticates(rig, rig.wrong_pins[PinKind.AUTH])
    with pytest.raises(PinIncorrect):
        rig.card.unblock_pin(bytearray(b"87654321"), bytearray(rig.new_pins[PinKind.AUTH]))
    with pytest.raises(PinFormatInvalid):
        rig.card.unblock_pin(bytearray(b"1234567"), bytearray(rig.new_pins[PinKind.AUTH]))
    rig.card.unblock_pin(bytearray(PUK), bytearray(rig.new_pins[PinKind.AUTH]))
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.OK
    _authenticates(rig, rig.new_pins[PinKind.AUTH])
    with pytest.raises(PinIncorrect):
        _authenticates(rig, rig.pins[PinKind.AUTH])


def test_the_pin_buffer_is_not_kept_by_the_card(rig: CardRig) -> None:
    """GIVEN a PIN in a bytearray
    WHEN the card authenticates, signs and changes a PIN with such buffers
    THEN afterwards nothing but this test refers to the buffers (the caller can wipe the only copy)."""
    buffers = [bytearray(rig.pins[PinKind.AUTH]), bytearray(rig.pins[PinKind.SIGN]), bytearray(rig.new_pins[PinKind.AUTH])]
    rig.card.authenticate(buffers[0], CHALLENGE)
    rig.card.sign(buffers[1], hashlib.sha256(b"x").digest())
    rig.card.change_pin(PinKind.AUTH, buffers[0], buffers[2])
    gc.collect()
    here = sys._getframe()
    for buffer in buffers:
        holders = [r for r in gc.get_referrers(buffer) if r is not buffers and r is not here]
        assert holders == [], f"PIN buffer still held by {[type(h).__name__ for h in holders]}"
    assert buffers[0] == bytearray(rig.pins[PinKind.AUTH])  # not the card's to wipe: the caller does


def test_a_pulled_card_answers_card_removed(rig: CardRig) -> None:
    """GIVEN an opened card
    WHEN it leaves the reader (SoftHSM: its tokens are deleted)
    THEN every operation raises CardRemoved, not a crash and not another error."""
    rig.pull()
    for operation in (
        lambda: rig.card.certificates(),
        lambda: rig.card.pin_status(PinKind.AUTH),
        lambda: rig.card.authenticate(bytearray(rig.pins[PinKind.AUTH]), CHALLENGE),
        lambda: rig.card.sign(bytearray(rig.pins[PinKind.SIGN]), bytes(32)),
        lambda: rig.card.change_pin(PinKind.AUTH, bytearray(rig.pins[PinKind.AUTH]),
                                    bytearray(rig.new_pins[PinKind.AUTH])),
        lambda: rig.card.unblock_pin(bytearray(PUK), bytearray(rig.new_pins[PinKind.AUTH])),
    ):
        with pytest.raises(CardRemoved):
            operation()


def test_three_wrong_pins_lock_and_the_puk_unblocks(rig: CardRig) -> None:
    """GIVEN a card that counts its tries (the simulated twin; the PIV chip through OpenSC — SoftHSM never locks)
    WHEN the PIN is mistyped three times THEN the last try before is "final", the third locks it, and even the
    right PIN is refused; the PUK with a new PIN opens it again."""
    from kiosk.errors import PinLocked

    if not rig.locks:
        pytest.skip("SoftHSM2 never counts PIN tries")
    with pytest.raises(PinIncorrect):
        _authenticates(rig, rig.wrong_pins[PinKind.AUTH])
    with pytest.raises(PinIncorrect) as final:
        _authenticates(rig, rig.wrong_pins[PinKind.AUTH])
    assert final.value.tries_left == 1 and rig.card.pin_status(PinKind.AUTH).state is PinState.FINAL_TRY
    with pytest.raises(PinLocked):
        _authenticates(rig, rig.wrong_pins[PinKind.AUTH])
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.LOCKED
    with pytest.raises(PinLocked):
        _authenticates(rig, rig.pins[PinKind.AUTH])
    rig.card.unblock_pin(bytearray(PUK), bytearray(rig.new_pins[PinKind.AUTH]))
    _authenticates(rig, rig.new_pins[PinKind.AUTH])
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.OK


# -- through real layers only: the card pulled mid-operation, the reader unplugged, pcscd restarted ----


def _through_real_layers(rig: CardRig) -> None:
    if rig.vanish_next is None:
        pytest.skip("only the PIV chip on vpcd, behind pcscd and OpenSC, can leave mid-operation")


def test_a_card_pulled_before_it_saw_the_pin_spends_no_try(rig: CardRig) -> None:
    """GIVEN the card WHEN it leaves the reader before it has processed the VERIFY of a wrong PIN THEN the login
    raises CardRemoved, and put back the chip still has every try: the wrong PIN never counted."""
    _through_real_layers(rig)
    assert rig.tries_on_chip and rig.vanish_next and rig.reinsert
    before = rig.tries_on_chip()
    rig.vanish_next(0)
    with pytest.raises(CardRemoved):
        _authenticates(rig, rig.wrong_pins[PinKind.AUTH])
    rig.reinsert()
    assert rig.tries_on_chip() == before
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.OK
    _authenticates(rig, rig.pins[PinKind.AUTH])


def test_a_card_pulled_while_it_signs_is_card_removed(rig: CardRig) -> None:
    """GIVEN a signature's APDUs counted WHEN the card leaves at the last of them the next time (the PIN accepted,
    the signature asked) THEN CardRemoved; put back, it signs and its PIN has every try."""
    _through_real_layers(rig)
    assert rig.apdus and rig.vanish_next and rig.reinsert and rig.tries_on_chip
    digest = hashlib.sha256(b"a request").digest()
    rig.card.sign(bytearray(rig.pins[PinKind.SIGN]), digest)  # the first one selects the applet too
    start = rig.apdus()
    rig.card.sign(bytearray(rig.pins[PinKind.SIGN]), digest)
    rig.vanish_next(rig.apdus() - start - 1)
    with pytest.raises(CardRemoved):
        rig.card.sign(bytearray(rig.pins[PinKind.SIGN]), digest)
    rig.reinsert()
    _signs(rig, rig.pins[PinKind.SIGN])
    assert rig.tries_on_chip() == 3


def test_a_card_pulled_during_a_pin_change_keeps_the_old_pin(rig: CardRig) -> None:
    """GIVEN the card WHEN it leaves before the PIN change reached it THEN CardRemoved; put back, the old PIN still
    opens it and the new one does not."""
    _through_real_layers(rig)
    assert rig.vanish_next and rig.reinsert
    rig.vanish_next(0)
    with pytest.raises(CardRemoved):
        rig.card.change_pin(PinKind.AUTH, bytearray(rig.pins[PinKind.AUTH]), bytearray(rig.new_pins[PinKind.AUTH]))
    rig.reinsert()
    _authenticates(rig, rig.pins[PinKind.AUTH])
    with pytest.raises(PinIncorrect):
        _authenticates(rig, rig.new_pins[PinKind.AUTH])


def test_the_reader_unplugged_and_plugged_back(rig: CardRig) -> None:
    """GIVEN an opened card WHEN the reader goes away (no PC/SC reader at all) THEN the open card answers
    CardRemoved and a new read a hardware error the screen words (no crash, no hang); WHEN the reader is back
    with the card THEN the same PKCS#11 module reads it and logs in again."""
    from kiosk.errors import HardwareError

    _through_real_layers(rig)
    assert rig.unplug and rig.plug and rig.open_now
    before = rig.card
    rig.unplug()
    with pytest.raises(CardRemoved):
        before.pin_status(PinKind.AUTH)
    with pytest.raises(HardwareError):
        rig.open_now()
    rig.plug()
    assert rig.card.pin_status(PinKind.AUTH).state is PinState.OK
    _authenticates(rig, rig.pins[PinKind.AUTH])


def test_pcscd_restarted_under_an_open_card(rig: CardRig) -> None:
    """GIVEN an opened card WHEN pcscd restarts (an upgrade, an administrator) with the card still in THEN the
    card opened before answers as before — each operation finds its token afresh by slot, serial and label, and
    the chip, power-cycled, asks the PIN again — and the same module logs in. (The kiosk's reader monitor
    reports the reader gone and back meanwhile, which ends the villager's session: tests/hardware/test_pcsc_reader.)"""
    _through_real_layers(rig)
    assert rig.unplug and rig.plug and rig.tries_on_chip
    before = rig.card
    rig.unplug()
    rig.plug()
    assert before.pin_status(PinKind.AUTH).state is PinState.OK
    verify_challenge(_auth_cert(rig), CHALLENGE, before.authenticate(bytearray(rig.pins[PinKind.AUTH]), CHALLENGE))
    _authenticates(rig, rig.pins[PinKind.AUTH])
    assert rig.tries_on_chip() == 3
