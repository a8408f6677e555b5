"""The citizen's qualified signature on a request: RFC 8785 canonical JSON, SHA-256, the card's signing key.

For services that need it, the villager types the 6-digit signing PIN; the card signs the
SHA-256 digest of the request's canonical form with its qualified-signature key; the kiosk
checks the signing certificate (chain, dates, key usage, same person as the login) and the
signature, and both travel inside the sealed payload so the agency can check them again.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from kiosk.identity import (
    CertificateValidator,
    CertRole,
    Citizen,
    IdentityError,
    citizen_from_certificate,
    parse_certificate,
    wipe,
)
from kiosk.ports import IdCard
from protocol.qualified_signature import (
    SignatureMismatch,
    digest_algorithm,
    document_digest,
    signer_of,
)


class SignatureInvalid(IdentityError):
    """The card's signature does not verify with its signing certificate."""

    translation_key = "error.signature_invalid"


class NoSigningCertificate(IdentityError):
    """The card holds no qualified-signature certificate (e.g. it was never activated)."""

    translation_key = "error.no_signing_certificate"


class SignerMismatch(IdentityError):
    """The signing certificate names another person than the one who logged in."""

    translation_key = "error.signer_mismatch"


@dataclass(frozen=True)
class QualifiedSignature:
    """A verified signature over a document's digest, with the certificate that checks it."""

    algorithm: str
    signature: bytes
    certificate: bytes  # DER

    def as_json(self) -> dict[str, str]:
        """The form that travels in the payload (base64 values)."""
        return {
            "algorithm": self.algorithm,
            "canonicalization": "RFC8785",
            "digest": "SHA-256",
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "certificate": base64.b64encode(self.certificate).decode("ascii"),
        }


def verify_digest(cert: x509.Certificate, digest: bytes, signature: bytes) -> str:
    """Check ``signature`` over a SHA-256 ``digest`` with ``cert``'s key; returns the algorithm name."""
    try:
        return digest_algorithm(cert, digest, signature)
    except SignatureMismatch as exc:
        raise SignatureInvalid(str(exc)) from None


def verify_signed_payload(payload: Mapping[str, Any]) -> x509.Certificate:
    """The receiving side: check the payload's qualified signature; returns the signer's certificate."""
    try:
        return signer_of(payload)
    except SignatureMismatch as exc:
        raise SignatureInvalid(str(exc)) from None


class QualifiedSigner:
    """Checks a card's signing certificate, has the card sign a document, and verifies the result."""

    def __init__(self, validator: CertificateValidator, personal_number_field: str = "serialNumber") -> None:
        self._validator = validator
        self._number_field = personal_number_field

    def check_certificate(self, cert: x509.Certificate, citizen: Citizen) -> None:
        """Raise unless ``cert`` is a valid, trusted, unrevoked non-repudiation certificate of ``citizen``.

        The same validator as for signing in (dates, path, revocation policy), with the signing
        role's key usage; its errors never quote the certificate, so no name or number leaks.
        """
        self._validator.validate(cert, CertRole.SIGNING)
        signer = citizen_from_certificate(cert, self._number_field)
        if signer.personal_number != citizen.personal_number:
            raise SignerMismatch()

    def sign(
        self, card: IdCard, citizen: Citizen, document: Mapping[str, Any], pin: bytearray | None
    ) -> QualifiedSignature:
        """The card's verified signature over ``document`` after the signing ``pin``. Wipes ``pin``.

        The certificate is checked before the PIN is used, so a bad certificate never costs a try.
        """
        try:
            der = card.certificates().signing
            if der is None:
                raise NoSigningCertificate()
            cert = parse_certificate(der)
            self.check_certificate(cert, citizen)
            digest = document_digest(document)
            signature = card.sign(pin, digest)
        finally:
            wipe(pin)
        return QualifiedSignature(verify_digest(cert, digest, signature), signature, der)
