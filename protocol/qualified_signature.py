"""The citizen's qualified signature inside a request's payload, as both sides check it.

The kiosk has the card sign the SHA-256 digest of the payload's RFC 8785 canonical form (everything but
the signature field itself); the hub — and a clerk opening the request — checks it again here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

SIGNATURE_FIELD = "qualified_signature"  # the payload key; everything else in the payload is signed
RSA_ALGORITHM = "RSASSA-PKCS1-v1_5-SHA256"
EC_ALGORITHM = "ECDSA-SHA256"


class SignatureMismatch(ValueError):
    """The signature does not verify (or cannot be read); the message says which."""


def canonical_form(document: Mapping[str, Any]) -> bytes:
    """The document's RFC 8785 (JCS) canonical UTF-8 bytes, which is what gets hashed and signed."""
    import rfc8785  # only a signed request needs it: not loaded before the kiosk's first frame

    try:
        return rfc8785.dumps(document)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"document cannot be canonicalised: {exc}") from None


def document_digest(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of the canonical form."""
    return hashlib.sha256(canonical_form(document)).digest()


def digest_algorithm(cert: x509.Certificate, digest: bytes, signature: bytes) -> str:
    """Check ``signature`` over a SHA-256 ``digest`` with ``cert``'s key; the algorithm's name, or SignatureMismatch."""
    key = cert.public_key()
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), prehashed)
            return RSA_ALGORITHM
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
            return EC_ALGORITHM
    except InvalidSignature:
        raise SignatureMismatch("signature does not verify") from None
    raise SignatureMismatch("unsupported key type")


def signer_of(payload: Mapping[str, Any]) -> x509.Certificate:
    """The certificate whose key made the payload's qualified signature; SignatureMismatch when it does not hold."""
    signed = payload.get(SIGNATURE_FIELD)
    if not isinstance(signed, Mapping):
        raise SignatureMismatch("no qualified signature")
    document = {k: v for k, v in payload.items() if k != SIGNATURE_FIELD}
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(signed["certificate"]))
        signature = base64.b64decode(signed["signature"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise SignatureMismatch("the signature or its certificate cannot be read") from None
    if digest_algorithm(cert, document_digest(document), signature) != signed.get("algorithm"):
        raise SignatureMismatch("algorithm does not match the key")
    return cert
