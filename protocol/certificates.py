"""ID-card certificates, as the kiosk and the hub both read them: trust anchors, the path to them,
the personal number in the subject, and the card's signature.

The kiosk validates a card at login (``kiosk.identity`` adds dates, key usage and revocation); the
hub validates the same certificate again when a request's proof of presence arrives
(``hub.presence``), at the time the card signed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

NAME_FIELDS = {  # the subject fields ``[card] personal_number_field`` may name
    "serialNumber": NameOID.SERIAL_NUMBER,
    "commonName": NameOID.COMMON_NAME,
    "givenName": NameOID.GIVEN_NAME,
    "surname": NameOID.SURNAME,
}


class PathUntrusted(ValueError):
    """The certificate does not chain to the trust anchors (the message names no holder)."""


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


def subject_text(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    """The first value of ``oid`` in the subject, or ""."""
    attrs = cert.subject.get_attributes_for_oid(oid)
    value = attrs[0].value if attrs else ""
    return value.decode() if isinstance(value, bytes) else value


def personal_number(cert: x509.Certificate, number_field: str = "serialNumber") -> str:
    """The 11-digit personal number in ``number_field`` (an ETSI ``PNOGE-`` prefix allowed); ValueError if not."""
    oid = NAME_FIELDS.get(number_field)
    if oid is None:
        raise ValueError(f"unknown personal number field {number_field!r}; use one of {sorted(NAME_FIELDS)}")
    digits = subject_text(cert, oid).removeprefix("PNOGE-")
    if len(digits) != 11 or not digits.isdigit():
        raise ValueError(f"personal number in {number_field} is not 11 digits")
    return digits


def _safe(message: str) -> str:
    """A verifier message without the certificate it quotes (the subject names the holder)."""
    message = message.split(" (encountered processing", 1)[0]
    return re.sub(r"<Certificate\(.*\)>", "<certificate>", message)


class TrustAnchors:
    """A fixed set of CA certificates: self-signed roots, and intermediates offered as the path's middle."""

    def __init__(self, anchors: list[x509.Certificate]) -> None:
        roots = [a for a in anchors if a.subject == a.issuer]
        self._intermediates = [a for a in anchors if a.subject != a.issuer]
        self._store = Store(roots) if roots else None

    @property
    def empty(self) -> bool:
        """True when no root is configured: nothing can be trusted."""
        return self._store is None

    def verify_path(self, cert: x509.Certificate, at: dt.datetime, *, signing: bool = False) -> tuple[
            x509.Certificate, ...]:
        """The path from ``cert`` to a root, valid at ``at`` (leaf first); PathUntrusted otherwise."""
        if self._store is None:
            raise PathUntrusted("no trust anchors configured")
        # ID-card certificates name a person, not a host: a subjectAltName is optional. Signing
        # certificates may carry any extended key usage; authentication ones need clientAuth.
        leaf_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
            x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
        )
        if signing:
            leaf_policy = leaf_policy.may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=leaf_policy)
            .build_client_verifier()
        )
        try:
            return tuple(verifier.verify(cert, self._intermediates).chain)
        except VerificationError as exc:
            raise PathUntrusted(_safe(str(exc))) from None


def card_signature_valid(cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the card's over ``data``: RSA PKCS#1 v1.5 SHA-256, or ECDSA SHA-256."""
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True
