"""Certificate validation (dates, key usage per role, path, revocation policy) and challenge-response."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from hardware.demo_pki import DemoPki, Flaw, make_demo_pki
from hardware.simulated_card import SimulatedIdCard
from kiosk.identity import (
    CertificateBadUsage,
    CertificateExpired,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUntrusted,
    CertificateValidator,
    CertRole,
    ChallengeFailed,
    IdentityError,
    RevocationUnknown,
    citizen_from_certificate,
    parse_certificate,
    prove_possession,
)
from kiosk.revocation import RevocationChecker, RevocationMethod, RevocationStatus
from tests.fixtures.citizen_pki import CitizenCerts, make_citizen_certs
from tests.fixtures.clock import WORLD_NOW

NOW = WORLD_NOW  # the test world's clock


@pytest.fixture(scope="module")
def certs() -> CitizenCerts:
    return make_citizen_certs(NOW)


@pytest.fixture(scope="module")
def pki(certs: CitizenCerts) -> DemoPki:
    return certs.pki


@pytest.fixture(scope="module")
def crl_dir(certs: CitizenCerts, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return certs.write_crls(tmp_path_factory.mktemp("crls"), this_update=NOW - dt.timedelta(hours=1))


def _validator(certs: CitizenCerts, crl_dir: Path | None = None, policy: str = "require",
               at: dt.datetime = NOW) -> CertificateValidator:
    checker = RevocationChecker(crl_dir, clock=lambda: at, use_ocsp=False)
    return CertificateValidator(certs.anchors, lambda: at, revocation=checker, policy=policy)


def test_good_certificate_names_the_citizen_and_how_revocation_was_checked(certs: CitizenCerts, crl_dir: Path) -> None:
    """GIVEN a good authentication certificate and a fresh CRL WHEN validated under "require"
    THEN it passes, names the citizen, and says the CRL checked it."""
    result = _validator(certs, crl_dir).validate(certs.good.cert)
    assert result.revocation.method is RevocationMethod.CRL and result.revocation_checked
    assert [c.subject for c in result.chain[1:]] == [certs.pki.auth_ca.cert.subject, certs.pki.root.cert.subject]
    citizen = citizen_from_certificate(certs.good.cert)
    assert citizen.personal_number == "01024085083" and citizen.full_name == "ნინო ბერიძე"


def test_good_signing_certificate_passes_as_signing(certs: CitizenCerts, crl_dir: Path) -> None:
    """GIVEN the demo signing certificate WHEN validated for the signing role THEN it passes on the CRL."""
    result = _validator(certs, crl_dir).validate(certs.pki.citizen_sign.cert, CertRole.SIGNING)
    assert result.revocation.status is RevocationStatus.GOOD


BAD = {
    "expired": (lambda c: c.expired.cert, CertRole.AUTHENTICATION, CertificateExpired),
    "not-yet-valid": (lambda c: c.not_yet_valid.cert, CertRole.AUTHENTICATION, CertificateNotYetValid),
    "revoked": (lambda c: c.revoked.cert, CertRole.AUTHENTICATION, CertificateRevoked),
    "foreign-ca": (lambda c: c.foreign_issued.cert, CertRole.AUTHENTICATION, CertificateUntrusted),
    "auth-without-digitalSignature": (
        lambda c: c.auth_without_digital_signature.cert, CertRole.AUTHENTICATION, CertificateBadUsage),
    "signing-without-nonRepudiation": (
        lambda c: c.signing_without_non_repudiation.cert, CertRole.SIGNING, CertificateBadUsage),
    "signing-cert-used-to-authenticate": (lambda c: c.pki.citizen_sign.cert, CertRole.AUTHENTICATION, CertificateBadUsage),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
@pytest.mark.parametrize("policy", ["require", "prefer"])
def test_every_bad_certificate_is_refused_with_its_own_reason(certs: CitizenCerts, crl_dir: Path, case: str,
                                                              policy: str) -> None:
    """GIVEN a certificate of the test PKI that must not pass WHEN validated THEN its own error is raised."""
    pick, role, error = BAD[case]
    with pytest.raises(error) as raised:
        _validator(certs, crl_dir, policy).validate(pick(certs), role)
    assert type(raised.value) is error and str(raised.value)


def test_malformed_der_is_refused(certs: CitizenCerts) -> None:
    """GIVEN a truncated certificate from a card WHEN parsed THEN CertificateMalformed, not a crash."""
    with pytest.raises(CertificateMalformed):
        parse_certificate(certs.malformed)


def test_each_refusal_has_its_own_translation_key() -> None:
    """GIVEN every identity error WHEN their translation keys are compared THEN no two share one."""
    errors = [CertificateMalformed, CertificateExpired, CertificateNotYetValid, CertificateUntrusted,
              CertificateBadUsage, CertificateRevoked, RevocationUnknown, ChallengeFailed, IdentityError]
    keys = [e.translation_key for e in errors]
    assert len(set(keys)) == len(keys)


def test_no_trust_anchors_trusts_nothing(certs: CitizenCerts) -> None:
    """GIVEN a validator with no anchors WHEN a good certificate comes THEN CertificateUntrusted."""
    with pytest.raises(CertificateUntrusted):
        CertificateValidator([], lambda: NOW).validate(certs.good.cert)


def test_untrusted_message_does_not_quote_the_holder(certs: CitizenCerts) -> None:
    """GIVEN a certificate the path verifier refuses with a message quoting the certificate
    WHEN validated THEN the error message names neither the personal number nor the holder."""
    good = certs.good.cert
    server_only = (
        x509.CertificateBuilder().subject_name(good.subject).issuer_name(good.issuer).public_key(good.public_key())
        .serial_number(7).not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=9))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(certs.pki.auth_ca.key.public_key()),
                       critical=False)
        .sign(certs.pki.auth_ca.key, hashes.SHA256())
    )
    with pytest.raises(CertificateUntrusted) as raised:
        CertificateValidator(certs.anchors, lambda: NOW, policy="off").validate(server_only)
    message = str(raised.value)
    assert "EKU" in message
    assert "01024085083" not in message and "ნინო" not in message and "ბერიძე" not in message


@pytest.mark.parametrize(
    ("policy", "crls", "outcome"),
    [
        ("off", True, RevocationMethod.NONE),
        ("prefer", True, RevocationMethod.CRL),
        ("prefer", False, RevocationMethod.NONE),
        ("require", True, RevocationMethod.CRL),
        ("require", False, RevocationUnknown),
    ],
)
def test_revocation_policy(certs: CitizenCerts, crl_dir: Path, policy: str, crls: bool, outcome) -> None:
    """GIVEN a good certificate and a policy, with or without a CRL WHEN validated
    THEN "off" skips, "prefer" proceeds unchecked without a CRL, "require" refuses unchecked."""
    validator = _validator(certs, crl_dir if crls else None, policy)
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            validator.validate(certs.good.cert)
        return
    result = validator.validate(certs.good.cert)
    assert result.revocation.method is outcome
    assert result.revocation_checked is (outcome is RevocationMethod.CRL)


def test_off_lets_a_revoked_certificate_through(certs: CitizenCerts, crl_dir: Path) -> None:
    """GIVEN revocation = "off" WHEN the revoked certificate is validated THEN it passes, unchecked."""
    result = _validator(certs, crl_dir, "off").validate(certs.revoked.cert)
    assert not result.revocation_checked and "off" in result.revocation.reason


def test_journey_call_without_role_or_checker_still_works(pki: DemoPki) -> None:
    """GIVEN the old two-argument constructor WHEN validate(cert) is called THEN it passes, unchecked."""
    result = CertificateValidator([pki.root.cert, pki.auth_ca.cert], lambda: NOW).validate(pki.citizen_auth.cert)
    assert result.revocation.status is RevocationStatus.UNKNOWN


def test_personal_number_field_is_configurable(pki: DemoPki) -> None:
    """GIVEN a certificate with the personal number in the common name WHEN read with that field THEN found."""
    issued = pki.issue_citizen(number_field="commonName", now=NOW)
    assert citizen_from_certificate(issued.cert, "commonName").personal_number == "01024085083"
    with pytest.raises(CertificateMalformed):
        citizen_from_certificate(issued.cert, "serialNumber")


def test_challenge_from_another_card_fails(pki: DemoPki) -> None:
    """GIVEN a card whose key does not match the certificate shown WHEN it signs the nonce THEN ChallengeFailed."""
    impostor = SimulatedIdCard(make_demo_pki(NOW))
    impostor.present = True
    with pytest.raises(ChallengeFailed):
        prove_possession(impostor, pki.citizen_auth.cert, bytearray(b"1234"))


def test_genuine_card_proves_possession(pki: DemoPki) -> None:
    """GIVEN the demo card and its certificate WHEN it signs a fresh nonce THEN the signature verifies."""
    card = SimulatedIdCard(pki)
    card.present = True
    prove_possession(card, pki.citizen_auth.cert, bytearray(b"1234"))


def test_flawed_certificates_reuse_the_citizen_key(pki: DemoPki) -> None:
    """GIVEN a flawed certificate from the test PKI WHEN compared with the demo one THEN same key, other serial."""
    expired = pki.issue_citizen(flaw=Flaw.EXPIRED, now=NOW)
    assert expired.cert.public_key() == pki.citizen_auth.cert.public_key()
    assert expired.cert.serial_number != pki.citizen_auth.cert.serial_number
