"""Certificate path validation and challenge-response against the demo PKI."""

from __future__ import annotations

import datetime as dt

import pytest

from hardware.demo_pki import DemoPki, make_demo_pki
from hardware.simulated_card import SimulatedIdCard
from kiosk.identity import (
    CertificateBadUsage,
    CertificateExpired,
    CertificateMalformed,
    CertificateUntrusted,
    CertificateValidator,
    ChallengeFailed,
    citizen_from_certificate,
    parse_certificate,
    prove_possession,
)

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return make_demo_pki()


def _validator(pki: DemoPki, at: dt.datetime = NOW) -> CertificateValidator:
    return CertificateValidator([pki.root.cert, pki.auth_ca.cert], lambda: at)


def test_good_certificate_names_the_citizen(pki: DemoPki) -> None:
    """GIVEN the demo citizen's authentication certificate WHEN validated THEN it passes and names them."""
    _validator(pki).validate(pki.citizen_auth.cert)
    citizen = citizen_from_certificate(pki.citizen_auth.cert)
    assert citizen.personal_number == "01024085083" and citizen.full_name == "ნინო ბერიძე"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda pki, other: (_validator(pki, NOW + dt.timedelta(days=1000)), pki.citizen_auth.cert), CertificateExpired),
        (lambda pki, other: (_validator(pki, NOW - dt.timedelta(days=10)), pki.citizen_auth.cert), CertificateExpired),
        (lambda pki, other: (_validator(pki), other.citizen_auth.cert), CertificateUntrusted),
        (lambda pki, other: (_validator(pki), pki.citizen_sign.cert), CertificateBadUsage),
        (lambda pki, other: (CertificateValidator([], lambda: NOW), pki.citizen_auth.cert), CertificateUntrusted),
    ],
    ids=["expired", "not-yet-valid", "foreign-ca", "signing-key-usage", "no-anchors"],
)
def test_bad_certificates_are_refused(pki: DemoPki, make, error) -> None:
    """GIVEN a certificate that must not authenticate WHEN validated THEN it is refused with its own reason."""
    other = make_demo_pki()
    validator, cert = make(pki, other)
    with pytest.raises(error):
        validator.validate(cert)


def test_malformed_der_is_refused() -> None:
    """GIVEN bytes that are not a certificate WHEN parsed THEN CertificateMalformed, not a crash."""
    with pytest.raises(CertificateMalformed):
        parse_certificate(b"\x30\x03\x02\x01\x00")


def test_challenge_from_another_card_fails(pki: DemoPki) -> None:
    """GIVEN a card whose key does not match the certificate shown WHEN it signs the nonce THEN ChallengeFailed."""
    impostor = SimulatedIdCard(make_demo_pki())
    impostor.present = True
    with pytest.raises(ChallengeFailed):
        prove_possession(impostor, pki.citizen_auth.cert, bytearray(b"1234"))


def test_genuine_card_proves_possession(pki: DemoPki) -> None:
    """GIVEN the demo card and its certificate WHEN it signs a fresh nonce THEN the signature verifies."""
    card = SimulatedIdCard(pki)
    card.present = True
    prove_possession(card, pki.citizen_auth.cert, bytearray(b"1234"))
