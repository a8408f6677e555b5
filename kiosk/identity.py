"""Who is at the kiosk: certificate path validation and challenge-response with the ID card.

Authentication follows Web eID: read the authentication certificate (no PIN), validate its
path to the configured trust anchors with cryptography's X.509 verifier, then have the card
sign a fresh 32-byte nonce after the PIN and verify that signature with the certificate's key.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from hardware.ports import IdCard

_NAME_FIELDS = {
    "serialNumber": NameOID.SERIAL_NUMBER,
    "commonName": NameOID.COMMON_NAME,
    "givenName": NameOID.GIVEN_NAME,
    "surname": NameOID.SURNAME,
}


class IdentityError(Exception):
    """The card or its certificate cannot prove who this is."""

    translation_key = "error.identity"


class CertificateMalformed(IdentityError):
    """The card's certificate cannot be read."""

    translation_key = "error.cert_malformed"


class CertificateExpired(IdentityError):
    """The card's certificate is past its end date (or not yet valid)."""

    translation_key = "error.cert_expired"


class CertificateUntrusted(IdentityError):
    """The certificate does not chain to a trusted Georgian CA."""

    translation_key = "error.cert_untrusted"


class CertificateBadUsage(IdentityError):
    """The certificate is not an authentication certificate (key usage)."""

    translation_key = "error.cert_bad_usage"


class ChallengeFailed(IdentityError):
    """The card's signature of the nonce does not verify: not the card's own key."""

    translation_key = "error.challenge_failed"


@dataclass(frozen=True)
class Citizen:
    """The person the card belongs to, as the certificate names them."""

    personal_number: str
    given_name: str
    surname: str

    @property
    def full_name(self) -> str:
        """Given name and surname, as printed on the receipt."""
        return f"{self.given_name} {self.surname}".strip()


def load_trust_anchors(folder: Path) -> list[x509.Certificate]:
    """Every PEM or DER certificate in ``folder``."""
    anchors = []
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() not in (".pem", ".crt", ".cer", ".der"):
            continue
        blob = path.read_bytes()
        if b"-----BEGIN" in blob:
            anchors.extend(x509.load_pem_x509_certificates(blob))
        else:
            anchors.append(x509.load_der_x509_certificate(blob))
    return anchors


def parse_certificate(der: bytes) -> x509.Certificate:
    """DER to certificate, or ``CertificateMalformed``."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateMalformed(str(exc)) from None


def citizen_from_certificate(cert: x509.Certificate, number_field: str = "serialNumber") -> Citizen:
    """Read the personal number (11 digits, from ``number_field``) and names from the subject."""
    oid = _NAME_FIELDS.get(number_field)
    if oid is None:
        raise ValueError(f"unknown personal number field {number_field!r}; use one of {sorted(_NAME_FIELDS)}")

    def first(o: x509.ObjectIdentifier) -> str:
        attrs = cert.subject.get_attributes_for_oid(o)
        value = attrs[0].value if attrs else ""
        return value.decode() if isinstance(value, bytes) else value

    raw = first(oid)
    digits = raw.removeprefix("PNOGE-")  # ETSI semantics identifier, if the card uses one
    if len(digits) != 11 or not digits.isdigit():
        raise CertificateMalformed(f"personal number in {number_field} is not 11 digits")
    return Citizen(digits, first(NameOID.GIVEN_NAME), first(NameOID.SURNAME))


class CertificateValidator:
    """Path validation of authentication certificates to a fixed set of trust anchors."""

    def __init__(self, anchors: list[x509.Certificate], clock: Callable[[], dt.datetime]) -> None:
        roots = [a for a in anchors if a.subject == a.issuer]
        self._intermediates = [a for a in anchors if a.subject != a.issuer]
        self._store = Store(roots) if roots else None
        self._clock = clock

    def validate(self, cert: x509.Certificate) -> None:
        """Raise an ``IdentityError`` subclass unless ``cert`` chains to an anchor and is in date."""
        now = self._clock()
        if now < cert.not_valid_before_utc or now > cert.not_valid_after_utc:
            raise CertificateExpired()
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            raise CertificateBadUsage("no key usage") from None
        if not usage.digital_signature:
            raise CertificateBadUsage("key usage lacks digitalSignature")
        if self._store is None:
            raise CertificateUntrusted("no trust anchors configured")
        # ID-card certificates name a person, not a host: a subjectAltName is optional.
        leaf_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
            x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
        )
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=leaf_policy)
            .build_client_verifier()
        )
        try:
            verifier.verify(cert, self._intermediates)
        except VerificationError as exc:
            raise CertificateUntrusted(str(exc)) from None


def verify_challenge(cert: x509.Certificate, challenge: bytes, signature: bytes) -> None:
    """Check the card's signature over ``challenge``; raise ``ChallengeFailed`` otherwise."""
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, challenge, ec.ECDSA(hashes.SHA256()))
        else:
            raise ChallengeFailed("unsupported key type")
    except InvalidSignature:
        raise ChallengeFailed("signature does not verify") from None


def prove_possession(card: IdCard, cert: x509.Certificate, pin: bytearray | None) -> None:
    """Have the card sign a fresh single-use nonce after ``pin``; verify it. Wipes ``pin``."""
    challenge = secrets.token_bytes(32)
    try:
        signature = card.authenticate(pin, challenge)
    finally:
        wipe(pin)
    verify_challenge(cert, challenge, signature)


def wipe(secret: bytearray | None) -> None:
    """Overwrite a PIN buffer in place so no copy of the digits stays in it."""
    if secret is not None:
        for i in range(len(secret)):
            secret[i] = 0
        secret.clear()
