"""What is particular to the PKCS#11 ID card, on real SoftHSM2 tokens.

The python-pkcs11 session leak and its workaround, the mapping of PKCS#11 errors to typed
kiosk errors, tokens removed under an open card, cards the kiosk cannot use, the two token
layouts (one token per PIN like OpenSC, or one token with both keys), finding the card of a
reader among several, and the slot reader's events. The shared behaviour is in
``test_idcard_contract.py``; lock-out is tested on the simulated card (SoftHSM never locks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hardware.demo_pki import DemoPki, Issued, load_or_make_demo_pki, make_demo_pki
from kiosk.errors import (
    CardError,
    CardRemoved,
    CardUnsupported,
    PinFormatInvalid,
    PinIncorrect,
    PinLocked,
    ReaderUnavailable,
)
from kiosk.identity import verify_challenge
from kiosk.ports import CardEventKind, PinKind, PinState, PinStatus, ReaderInfo
from tests.fixtures.clock import WORLD_NOW
from tests.fixtures.softhsm import (
    AUTH_PIN,
    SO_PIN,
    SoftHsmTokens,
    add_citizen_card,
    build_citizen_tokens,
    make_softhsm_store,
    softhsm_missing,
)

pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed (pip install '.[pkcs11]')")
if softhsm_missing():
    pytest.skip(softhsm_missing(), allow_module_level=True)

from hardware.pkcs11_card import Pkcs11CardOpener, Pkcs11IdCard  # noqa: E402
from hardware.pkcs11_module import (  # noqa: E402
    Pkcs11Module,
    TokenRef,
    group_cards,
    pin_status_from_flags,
    translate_error,
)
from hardware.pkcs11_reader import Pkcs11SlotReader, slot_events  # noqa: E402

ANY_READER = ReaderInfo("any reader", False, True)
CHALLENGE = b"\x07" * 32


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    """The demo PKI of this module's cards."""
    return load_or_make_demo_pki(tmp_path_factory.mktemp("pkcs11-pki"), WORLD_NOW)


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch):
    """Point SoftHSM at a store and load the module afresh (it reads SOFTHSM2_CONF at C_Initialize)."""

    def use(store: SoftHsmTokens) -> Pkcs11Module:
        monkeypatch.setenv("SOFTHSM2_CONF", str(store.conf))
        return Pkcs11Module(str(store.module))

    return use


@pytest.fixture(scope="module")
def template_tokens(pki: DemoPki, tmp_path_factory: pytest.TempPathFactory) -> SoftHsmTokens:
    """The demo citizen as a two-token card, built once for this module."""
    return build_citizen_tokens(pki, tmp_path_factory.mktemp("softhsm-template"))


@pytest.fixture
def tokens(template_tokens: SoftHsmTokens, tmp_path: Path) -> SoftHsmTokens:
    """The demo citizen as a two-token card (PIN1 / PIN2) in a fresh store of this test's own."""
    return template_tokens.copy_to(tmp_path / "softhsm")


# -- the python-pkcs11 session leak ------------------------------------------------------------


def test_python_pkcs11_leaks_a_session_when_login_fails(tokens: SoftHsmTokens, use_store) -> None:
    """GIVEN python-pkcs11 0.10 used bare
    WHEN Token.open() is given a wrong PIN
    THEN its session stays open, so an SO login fails (SessionReadOnlyExists) until lib.reinitialize().

    This is the bug the card works around; if a python-pkcs11 release fixes it, this test says so."""
    use_store(tokens)
    lib = pkcs11.lib(str(tokens.module))
    token = lib.get_token(token_label=tokens.labels[0])
    with pytest.raises(pkcs11.PinIncorrect):
        token.open(user_pin="0000")
    with pytest.raises(pkcs11.SessionReadOnlyExists):
        token.open(rw=True, so_pin=SO_PIN)
    lib.reinitialize()
    lib.get_token(token_label=tokens.labels[0]).open(rw=True, so_pin=SO_PIN).close()


class _ModuleWithoutWorkaround(Pkcs11Module):
    """The module with re-initialisation switched off: what the card would do without the workaround."""

    def reinitialize(self) -> None:
        pass


@pytest.mark.parametrize("module_class, unblocks", [(Pkcs11Module, True), (_ModuleWithoutWorkaround, False)])
def test_puk_unblock_after_a_wrong_pin_needs_the_workaround(tokens, monkeypatch, module_class, unblocks) -> None:
    """GIVEN a card whose PIN was just mistyped (python-pkcs11 leaked a session)
    WHEN the PUK unblock runs (an SO login)
    THEN it works with the card's re-initialisation, and fails without it."""
    monkeypatch.setenv("SOFTHSM2_CONF", str(tokens.conf))
    card = Pkcs11CardOpener(module_class(str(tokens.module)))(ANY_READER)
    with pytest.raises(PinIncorrect):
        card.authenticate(bytearray(b"0000"), CHALLENGE)
    if unblocks:
        card.unblock_pin(bytearray(SO_PIN.encode()), bytearray(b"2468"))
        card.authenticate(bytearray(b"2468"), CHALLENGE)
    else:
        with pytest.raises(CardError) as failed:
            card.unblock_pin(bytearray(SO_PIN.encode()), bytearray(b"2468"))
        assert "SessionReadOnlyExists" in str(failed.value)


# -- typed errors ------------------------------------------------------------------------------


def _auth_ref(module: Pkcs11Module) -> TokenRef:
    (card,) = module.view().cards.values()
    return next(t for t in card if t.label.endswith("(PIN1)"))


@pytest.mark.parametrize(
    "raised, expected",
    [
        ("DeviceRemoved", CardRemoved),
        ("TokenNotPresent", CardRemoved),
        ("SessionHandleInvalid", CardRemoved),
        ("SessionClosed", CardRemoved),
        ("SlotIDInvalid", CardRemoved),
        ("TokenNotRecognised", CardUnsupported),
        ("MechanismInvalid", CardUnsupported),
        ("KeyTypeInconsistent", CardUnsupported),
        ("PinLocked", PinLocked),
        ("PinIncorrect", PinIncorrect),
        ("GeneralError", CardError),
    ],
)
def test_pkcs11_errors_become_typed_kiosk_errors(tokens, use_store, raised: str, expected: type) -> None:
    """GIVEN a present token
    WHEN python-pkcs11 raises ``raised`` for it
    THEN the kiosk sees ``expected`` (exactly that type), with its translation key."""
    module = use_store(tokens)
    error = translate_error(getattr(pkcs11, raised)(), module, _auth_ref(module))
    assert type(error) is expected
    assert error.translation_key.startswith("error.")


def test_an_unexplained_error_from_a_vanished_token_is_card_removed(tokens, use_store) -> None:
    """GIVEN a token that was deleted after the card was opened
    WHEN the module answers a call with a bare GeneralError (what SoftHSM does then)
    THEN the kiosk hears CardRemoved, because the token is checked again."""
    module = use_store(tokens)
    ref = _auth_ref(module)
    tokens.delete_token(ref.label)
    with pytest.raises(CardRemoved):
        raise translate_error(pkcs11.GeneralError(), module, ref)


@pytest.mark.parametrize(
    "flag, so, state, tries",
    [
        (0, False, PinState.OK, None),
        ("USER_PIN_COUNT_LOW", False, PinState.COUNT_LOW, None),
        ("USER_PIN_FINAL_TRY", False, PinState.FINAL_TRY, 1),
        ("USER_PIN_LOCKED", False, PinState.LOCKED, 0),
        ("SO_PIN_FINAL_TRY", True, PinState.FINAL_TRY, 1),
        ("SO_PIN_LOCKED", True, PinState.LOCKED, 0),
        ("SO_PIN_LOCKED", False, PinState.OK, None),
    ],
)
def test_pin_status_follows_the_token_flags(flag, so, state, tries) -> None:
    """GIVEN token flags as a card reports them (SoftHSM never sets FINAL_TRY or LOCKED, so given here)
    WHEN they are read for the user PIN or the SO PIN (PUK)
    THEN the status says the same, with tries left where the flag implies a number."""
    flags = getattr(pkcs11.TokenFlag, flag) if flag else 0
    assert pin_status_from_flags(flags | pkcs11.TokenFlag.TOKEN_INITIALIZED, so=so) == PinStatus(state, tries)


def test_a_module_that_does_not_load_is_reader_unavailable(tmp_path) -> None:
    """GIVEN a configured module path with no PKCS#11 library behind it
    WHEN the module is loaded
    THEN ReaderUnavailable (the kiosk can reach no card), naming the path."""
    missing = tmp_path / "libvendor-eid.so"
    with pytest.raises(ReaderUnavailable, match="libvendor-eid.so"):
        Pkcs11Module(str(missing))


# -- cards leaving ---------------------------------------------------------------------------


def test_a_token_gone_after_a_rescan_is_card_removed(tokens, use_store) -> None:
    """GIVEN an open card, and its tokens deleted
    WHEN the module is re-initialised (its slots rescanned, as the slot reader does for SoftHSM)
    THEN PIN status, authentication and signing raise CardRemoved."""
    module = use_store(tokens)
    card = Pkcs11CardOpener(module)(ANY_READER)
    for label in tokens.labels:
        tokens.delete_token(label)
    module.reinitialize()
    with pytest.raises(CardRemoved):
        card.pin_status(PinKind.AUTH)
    with pytest.raises(CardRemoved):
        card.authenticate(bytearray(AUTH_PIN.encode()), CHALLENGE)
    with pytest.raises(CardRemoved):
        card.sign(bytearray(b"123456"), bytes(32))


def test_the_signing_token_alone_leaving_stops_only_signing(tokens, use_store) -> None:
    """GIVEN an open two-token card
    WHEN only the signing token disappears
    THEN signing raises CardRemoved while authentication still works."""
    module = use_store(tokens)
    card = Pkcs11CardOpener(module)(ANY_READER)
    tokens.delete_token(tokens.labels[1])
    with pytest.raises(CardRemoved):
        card.sign(bytearray(b"123456"), bytes(32))
    card.authenticate(bytearray(AUTH_PIN.encode()), CHALLENGE)


# -- cards the kiosk cannot use -----------------------------------------------------------------


def test_a_store_without_tokens_is_unsupported(tmp_path, use_store) -> None:
    """GIVEN a module with no initialised token
    WHEN the card in a reader is opened
    THEN CardUnsupported."""
    module = use_store(make_softhsm_store(tmp_path / "empty"))
    with pytest.raises(CardUnsupported):
        Pkcs11CardOpener(module)(ANY_READER)


def test_a_token_without_a_usable_certificate_is_unsupported(pki, tmp_path, use_store) -> None:
    """GIVEN a token holding only a CA certificate (keyCertSign, no digitalSignature)
    WHEN it is opened as an ID card
    THEN CardUnsupported, not a crash."""
    store = make_softhsm_store(tmp_path / "odd")
    store.add_token("Some other card")
    store.put("Some other card", AUTH_PIN, pki.auth_ca, "01", "CA", with_key=False)
    with pytest.raises(CardUnsupported):
        Pkcs11CardOpener(use_store(store))(ANY_READER)


def test_a_certificate_without_its_private_key_cannot_authenticate(pki, tmp_path, use_store) -> None:
    """GIVEN a token with the authentication certificate but no private key
    WHEN the citizen authenticates
    THEN the certificate is read, and authentication raises CardUnsupported."""
    store = make_softhsm_store(tmp_path / "keyless")
    store.add_token("Keyless")
    store.put("Keyless", AUTH_PIN, pki.citizen_auth, "01", "Authentication", with_key=False)
    card = Pkcs11CardOpener(use_store(store))(ANY_READER)
    assert card.certificates().authentication == pki.citizen_auth.der
    assert card.certificates().signing is None
    with pytest.raises(CardUnsupported):
        card.authenticate(bytearray(AUTH_PIN.encode()), CHALLENGE)
    with pytest.raises(CardUnsupported):
        card.sign(bytearray(b"123456"), bytes(32))


# -- layouts and finding the card -----------------------------------------------------------------


def test_single_token_card_tells_its_keys_apart_by_key_usage(pki, tmp_path, use_store) -> None:
    """GIVEN one token holding both keys (one PIN, 1234)
    WHEN the card is opened and used
    THEN nonRepudiation marks the signing certificate, and both keys sign with that PIN."""
    card = Pkcs11CardOpener(use_store(build_citizen_tokens(pki, tmp_path / "one", layout="single")))(ANY_READER)
    certs = card.certificates()
    assert (certs.authentication, certs.signing) == (pki.citizen_auth.der, pki.citizen_sign.der)
    signature = card.authenticate(bytearray(b"1234"), CHALLENGE)
    verify_challenge(pki.citizen_auth.cert, CHALLENGE, signature)
    card.sign(bytearray(b"1234"), hashlib.sha256(b"x").digest())
    with pytest.raises(PinFormatInvalid):
        card.sign(bytearray(b"123456"), hashlib.sha256(b"x").digest())


def test_the_card_of_a_reader_is_found_among_several(pki, tmp_path, use_store) -> None:
    """GIVEN two citizens' cards in one module
    WHEN the card of reader "Citizen B" is opened, or a reader the module does not name
    THEN B's certificates come back; an unknown reader is ambiguous (CardUnsupported) unless token_label says."""
    other = make_demo_pki(pki.issued_at, citizen={"personal_number": "01001012345", "given_name": "გიორგი", "surname": "კაპანაძე"})
    store = add_citizen_card(make_softhsm_store(tmp_path / "two"), pki, card_label="Citizen A")
    store = add_citizen_card(store, other, card_label="Citizen B")
    module = use_store(store)
    assert set(module.view().cards) == {"Citizen A", "Citizen B"}
    opened = Pkcs11CardOpener(module)(ReaderInfo("Citizen B", False, True))
    assert opened.certificates().authentication == other.citizen_auth.der
    with pytest.raises(CardUnsupported):
        Pkcs11CardOpener(module)(ANY_READER)
    by_label = Pkcs11CardOpener(module, token_label="Citizen A")(ANY_READER)
    assert by_label.certificates().authentication == pki.citizen_auth.der


def test_group_cards_follows_opensc_and_softhsm_layouts() -> None:
    """GIVEN token descriptions as OpenSC gives them (virtual slots per PIN, named after the reader)
    and as SoftHSM gives them (a slot each)
    WHEN they are grouped into cards
    THEN OpenSC's slots group by reader, SoftHSM's by serial or label prefix, and two readers stay apart."""
    refs = [
        TokenRef(0, "Gemalto PC Twin Reader 00 00", "ID (PIN1)", b"A1"),
        TokenRef(1, "Gemalto PC Twin Reader 00 00", "ID (PIN2)", b"A1"),
        TokenRef(4, "HID OMNIKEY 3121 01 00", "ID (PIN1)", b"B2"),
        TokenRef(5, "HID OMNIKEY 3121 01 00", "ID (PIN2)", b"B2"),
        TokenRef(90, "SoftHSM slot ID 0x5a", "Demo Citizen (PIN1)", b"x1"),
        TokenRef(91, "SoftHSM slot ID 0x5b", "Demo Citizen (PIN2)", b"x2"),
        TokenRef(92, "SoftHSM slot ID 0x5c", "Lone", b"x3"),
    ]
    cards = group_cards(refs)
    assert {name: [t.slot_id for t in tokens] for name, tokens in cards.items()} == {
        "Gemalto PC Twin Reader 00 00": [0, 1],
        "HID OMNIKEY 3121 01 00": [4, 5],
        "Demo Citizen": [90, 91],
        "Lone": [92],
    }


def test_an_ec_card_answers_the_challenge_with_a_der_ecdsa_signature(pki, tmp_path, use_store) -> None:
    """GIVEN a card whose authentication key is EC P-256 (SoftHSM has no CKM_ECDSA_SHA256)
    WHEN it signs the challenge
    THEN the DER ECDSA-SHA256 signature verifies with the certificate, as kiosk.identity expects."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = pki.issued_at
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EC citizen")]))
        .issuer_name(pki.auth_ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .sign(pki.auth_ca.key, hashes.SHA256())
    )
    store = make_softhsm_store(tmp_path / "ec")
    store.add_token("EC card")
    store.put("EC card", AUTH_PIN, Issued(key, cert), "01", "Authentication")  # type: ignore[arg-type]
    card = Pkcs11CardOpener(use_store(store))(ANY_READER)
    verify_challenge(cert, CHALLENGE, card.authenticate(bytearray(AUTH_PIN.encode()), CHALLENGE))


# -- the slot reader -------------------------------------------------------------------------------


def test_slot_events_come_from_set_differences() -> None:
    """GIVEN two looks at the slots
    WHEN a card is swapped in one reader, another reader appears with a card, and a third leaves
    THEN removals come before arrivals, and the swap is one removal and one insertion."""
    a, b = frozenset({("A", b"1")}), frozenset({("B", b"2")})
    events = slot_events({"r1": a, "r3": None}, {"r1": b, "r2": a})
    assert [(e.kind, e.reader) for e in events] == [
        (CardEventKind.CARD_REMOVED, "r1"),
        (CardEventKind.READER_REMOVED, "r3"),
        (CardEventKind.READER_ADDED, "r2"),
        (CardEventKind.CARD_INSERTED, "r1"),
        (CardEventKind.CARD_INSERTED, "r2"),
    ]


def test_slot_reader_reports_tokens_created_and_deleted(pki, tmp_path, use_store, card_event_recorder) -> None:
    """GIVEN a slot reader on SoftHSM (which rescans: SoftHSM lists tokens only at C_Initialize), no card yet
    WHEN a citizen's tokens are created, then deleted, by another process
    THEN READER_ADDED and CARD_INSERTED arrive for "Demo Citizen", then CARD_REMOVED and READER_REMOVED,
    each within a second, and readers() agrees."""
    store = make_softhsm_store(tmp_path / "live")
    module = use_store(store)
    assert module.lists_tokens_only_at_init
    reader = Pkcs11SlotReader(module, poll_s=0.05)
    reader.start(card_event_recorder)
    try:
        store = add_citizen_card(store, pki)
        card_event_recorder.wait_for(CardEventKind.READER_ADDED, "Demo Citizen")
        card_event_recorder.wait_for(CardEventKind.CARD_INSERTED, "Demo Citizen")
        assert ReaderInfo("Demo Citizen", False, True) in reader.readers()
        mark = card_event_recorder.mark()
        for label in store.labels:
            store.delete_token(label)
        card_event_recorder.wait_for(CardEventKind.CARD_REMOVED, "Demo Citizen", after=mark)
        card_event_recorder.wait_for(CardEventKind.READER_REMOVED, "Demo Citizen", after=mark)
        assert all(not r.card_present for r in reader.readers())
    finally:
        reader.stop()


def test_slot_reader_opens_what_it_reports(tokens, use_store, card_event_recorder) -> None:
    """GIVEN a slot reader over a module that already holds a card
    WHEN it starts and the opener is given the reported reader
    THEN the card there opens and is the citizen's, so the pair works as the kiosk's reader + opener."""
    module = use_store(tokens)
    reader = Pkcs11SlotReader(module, poll_s=0.05)
    reader.start(card_event_recorder)
    try:
        event = card_event_recorder.wait_for(CardEventKind.CARD_INSERTED, "Demo Citizen")
    finally:
        reader.stop()
    card = Pkcs11CardOpener(module)(ReaderInfo(event.reader, False, True, event.atr))
    assert isinstance(card, Pkcs11IdCard)
    assert card.pin_status(PinKind.AUTH).state is PinState.OK
