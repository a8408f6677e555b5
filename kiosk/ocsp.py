"""An OCSP client (RFC 6960) over cryptography's ``x509.ocsp`` and an injectable ``requests.Session``.

An answer counts only when it is signed by the certificate's issuer or by a responder
certificate the issuer signed with ``id-kp-OCSPSigning``; names this certificate; echoes our
nonce if it echoes one; is current (thisUpdate ≤ now + 5 min and now ≤ nextUpdate + 5 min, or
within an hour of thisUpdate when it has no nextUpdate); and arrived within the timeout in all.
Anything else raises ``OcspUnusable`` with the reason in English (CA names and dates only).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

CLOCK_SKEW = dt.timedelta(minutes=5)
NO_NEXT_UPDATE_MAX_AGE = dt.timedelta(hours=1)
MAX_ANSWER_BYTES = 64 * 1024  # a one-certificate answer is ~2 KB; refuse anything silly


class OcspUnusable(Exception):
    """The responder gave no answer we can trust in time; the message says why."""


@dataclass(frozen=True)
class OcspAnswer:
    """A checked answer: the responder's status for the certificate."""

    status: ocsp.OCSPCertStatus
    revoked_at: dt.datetime | None = None


def common_name(name: x509.Name) -> str:
    """A CA's common name for messages (the whole name when it has none)."""
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else name.rfc4514_string()


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    """The OCSP responders the certificate's AIA extension names."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


def _verify_signature(key: object, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None) -> None:
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        else:
            raise OcspUnusable("the answer is signed with an unsupported algorithm")
    except InvalidSignature:
        raise OcspUnusable("the answer's signature does not verify") from None


def _key_hash(key_owner: x509.Certificate, subject: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    """The hash of ``key_owner``'s public key as OCSP uses it (cryptography computes it for a request)."""
    return ocsp.OCSPRequestBuilder().add_certificate(subject, key_owner, algorithm).build().issuer_key_hash


class OcspClient:
    """Asks one responder about one certificate and checks the answer."""

    def __init__(self, session: requests.Session | None, timeout_s: float, clock: Callable[[], dt.datetime],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``session`` None: one is made at the first question (requests is not needed before then)."""
        self._session, self._timeout_s, self._clock, self._monotonic = session, timeout_s, clock, monotonic

    def ask(self, url: str, cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        """The responder's checked verdict on ``cert``, or ``OcspUnusable``."""
        nonce = secrets.token_bytes(16)
        request = (
            ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
            .add_extension(x509.OCSPNonce(nonce), critical=False).build()
        )
        body = self._post(url, request.public_bytes(Encoding.DER))
        try:
            response = ocsp.load_der_ocsp_response(body)
        except ValueError:
            raise OcspUnusable("the answer is not an OCSP response") from None
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise OcspUnusable(f"the responder answered {response.response_status.name.lower()}")
        now = self._clock()
        signer = _signer(response, cert, issuer, now)
        _verify_signature(signer.public_key(), response.signature, response.tbs_response_bytes,
                          response.signature_hash_algorithm)
        try:
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = nonce  # many responders pre-sign answers; the freshness rule still holds
        if echoed != nonce:
            raise OcspUnusable("the answer carries another request's nonce")
        single = _single(response, cert, issuer)
        if single.this_update_utc > now + CLOCK_SKEW:
            raise OcspUnusable("the answer is dated in the future")
        until = single.next_update_utc or single.this_update_utc + NO_NEXT_UPDATE_MAX_AGE
        if now > until + CLOCK_SKEW:
            raise OcspUnusable(f"the answer is stale (valid until {until:%Y-%m-%d %H:%M} UTC)")
        revoked_at = single.revocation_time_utc if single.certificate_status is ocsp.OCSPCertStatus.REVOKED else None
        return OcspAnswer(single.certificate_status, revoked_at)

    def _post(self, url: str, der: bytes) -> bytes:
        """POST within one overall deadline: requests' own timeout is per socket operation."""
        import requests

        if self._session is None:
            self._session = requests.Session()
        deadline = self._monotonic() + self._timeout_s
        late = OcspUnusable(f"no answer within {self._timeout_s:g} s")
        headers = {"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"}
        try:
            with self._session.post(url, data=der, headers=headers, timeout=self._timeout_s, stream=True) as reply:
                if reply.status_code != 200:
                    raise OcspUnusable(f"HTTP {reply.status_code}")
                body = bytearray()
                for chunk in reply.iter_content(8192):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise OcspUnusable("the answer is too large")
                    if self._monotonic() > deadline:
                        raise late
                return bytes(body)
        except requests.Timeout:
            raise late from None
        except requests.RequestException as exc:
            raise OcspUnusable(f"unreachable ({type(exc).__name__})") from None


def _signer(response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate,
            now: dt.datetime) -> x509.Certificate:
    """The issuer itself, or a responder certificate it delegated OCSP signing to."""

    def is_responder(candidate: x509.Certificate) -> bool:
        if response.responder_key_hash is not None:
            return response.responder_key_hash == _key_hash(candidate, cert, hashes.SHA1())
        return response.responder_name == candidate.subject

    if is_responder(issuer):
        return issuer
    for candidate in response.certificates:
        if not is_responder(candidate):
            continue
        try:
            candidate.verify_directly_issued_by(issuer)
            eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
            continue
        in_date = candidate.not_valid_before_utc <= now <= candidate.not_valid_after_utc
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku and in_date:
            return candidate
    raise OcspUnusable(f"the answer is not signed by {common_name(issuer.subject)} or a responder it authorised")


def _single(response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate) -> ocsp.OCSPSingleResponse:
    for single in response.responses:
        if (single.serial_number == cert.serial_number
                and single.issuer_key_hash == _key_hash(issuer, cert, single.hash_algorithm)):
            return single
    raise OcspUnusable("the answer is about another certificate")
