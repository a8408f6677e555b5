"""RFC 8785 canonical JSON (the RFC's own examples) and the qualified-signature check."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from hardware.demo_pki import DEMO_CITIZEN, Flaw, make_demo_pki
from hardware.simulated_card import SimulatedIdCard
from kiosk.identity import CertificateBadUsage, CertificateExpired, CertificateUntrusted, CertificateValidator, Citizen
from kiosk.ports import CardCertificates, PinKind
from kiosk.signing import (
    NoSigningCertificate,
    QualifiedSigner,
    SignatureInvalid,
    verify_digest,
    verify_signed_payload,
)
from protocol.qualified_signature import RSA_ALGORITHM, SIGNATURE_FIELD, canonical_form, document_digest
from tests.fixtures.clock import WORLD_NOW

CITIZEN = Citizen(DEMO_CITIZEN["personal_number"], DEMO_CITIZEN["given_name"], DEMO_CITIZEN["surname"])


def test_rfc8785_section_3_2_2_example() -> None:
    """GIVEN the RFC 8785 §3.2.2 input WHEN canonicalised THEN the bytes are the RFC's output exactly."""
    document = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_form(document) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_property_sorting() -> None:
    """GIVEN the RFC 8785 §3.2.3 keys WHEN canonicalised THEN they are ordered by UTF-16 code units, as the RFC lists."""
    document = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    values = [v for v in canonical_form(document).decode("utf-8").split('"')[3::4]]
    assert values == [
        "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis",
        "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
    ]


@pytest.mark.parametrize(
    ("number", "text"),
    [  # RFC 8785 Appendix B
        (0.0, "0"), (-0.0, "0"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
        (0.000001, "0.000001"), (1e-7, "1e-7"), (295147905179352830000.0, "295147905179352830000"),
    ],
)
def test_rfc8785_appendix_b_numbers(number: float, text: str) -> None:
    """GIVEN an IEEE 754 value from RFC 8785 Appendix B WHEN serialised THEN it is the RFC's text."""
    assert canonical_form({"n": number}) == f'{{"n":{text}}}'.encode()


def test_values_json_cannot_hold_are_refused() -> None:
    """GIVEN NaN WHEN canonicalised THEN ValueError (nothing unsignable is signed)."""
    with pytest.raises(ValueError):
        canonical_form({"n": float("nan")})


def test_key_order_and_spacing_do_not_change_the_digest() -> None:
    """GIVEN the same request built in two key orders WHEN hashed THEN the digests are equal; a changed value differs."""
    a = {"service": "x", "answers": {"b": "2", "a": "ქართული"}}
    b = {"answers": {"a": "ქართული", "b": "2"}, "service": "x"}
    assert document_digest(a) == document_digest(b) == hashlib.sha256(canonical_form(a)).digest()
    assert document_digest({**a, "service": "y"}) != document_digest(a)


@pytest.fixture(scope="module")
def pki():
    return make_demo_pki(WORLD_NOW)


def _signer(pki, now: dt.datetime | None = None) -> QualifiedSigner:
    anchors = [pki.root.cert, pki.auth_ca.cert, pki.sign_ca.cert]
    validator = CertificateValidator(anchors, lambda: now or WORLD_NOW, policy="off")
    return QualifiedSigner(validator)


def _card(pki) -> SimulatedIdCard:
    card = SimulatedIdCard(pki)
    card.present = True
    return card


def test_signer_signs_and_the_payload_verifies(pki) -> None:
    """GIVEN the simulated card WHEN a payload is signed THEN the signature verifies and the PIN buffer is wiped."""
    payload = {"service": "municipality_letter", "answers": {"text": "გზა"}}
    pin = bytearray(b"123456")
    signature = _signer(pki).sign(_card(pki), CITIZEN, payload, pin)
    assert pin == bytearray() and signature.algorithm == RSA_ALGORITHM
    assert verify_signed_payload({**payload, SIGNATURE_FIELD: signature.as_json()}) == pki.citizen_sign.cert


def test_authentication_key_signature_does_not_pass_as_qualified(pki) -> None:
    """GIVEN a digest signed with the authentication key WHEN checked against the signing certificate THEN refused."""
    digest = document_digest({"a": 1})
    wrong = pki.citizen_auth.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    with pytest.raises(SignatureInvalid):
        verify_digest(pki.citizen_sign.cert, digest, wrong)


def test_expired_signing_certificate_is_refused(pki) -> None:
    """GIVEN a time after the signing certificate's end WHEN signing THEN CertificateExpired, PIN untried."""
    card = _card(pki)
    later = WORLD_NOW + dt.timedelta(days=2000)
    with pytest.raises(CertificateExpired):
        _signer(pki, later).sign(card, CITIZEN, {"a": 1}, bytearray(b"000000"))
    assert card.pin_status(PinKind.SIGN).tries_left == 3


def test_signing_certificate_from_a_foreign_ca_is_untrusted(pki) -> None:
    """GIVEN a signing certificate issued by another PKI's CA WHEN checked THEN CertificateUntrusted."""
    other = make_demo_pki(WORLD_NOW)
    foreign = pki.issue_citizen("signing", issuer=other.sign_ca)
    with pytest.raises(CertificateUntrusted):
        _signer(pki).check_certificate(foreign.cert, CITIZEN)


def test_card_without_signing_certificate(pki) -> None:
    """GIVEN a card that reports no signing certificate WHEN signing THEN NoSigningCertificate, PIN wiped."""

    class NoSigningCard(SimulatedIdCard):  # a real card before its signature was activated
        def certificates(self) -> CardCertificates:
            return CardCertificates(pki.citizen_auth.der, None)

    card = NoSigningCard(pki)
    card.present = True
    pin = bytearray(b"123456")
    with pytest.raises(NoSigningCertificate):
        _signer(pki).sign(card, CITIZEN, {"a": 1}, pin)
    assert pin == bytearray()


def test_wrong_usage_flaw_is_refused(pki) -> None:
    """GIVEN a signing certificate without nonRepudiation WHEN checked THEN refused."""
    with pytest.raises(CertificateBadUsage):
        _signer(pki).check_certificate(pki.issue_citizen("signing", flaw=Flaw.WRONG_USAGE).cert, CITIZEN)
