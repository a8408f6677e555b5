"""Who is at the kiosk: certificate validation and challenge-response with the ID card.

Authentication follows Web eID: read the authentication certificate (no PIN), check its dates,
its key usage for its role, its path to the configured trust anchors (cryptography's X.509
verifier) and its revocation (``kiosk.revocation``, under the ``[card] revocation`` policy),
then have the card sign a fresh 32-byte nonce after the PIN and verify that signature with the
certificate's key.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from kiosk.errors import KioskError
from kiosk.ports import IdCard
from kiosk.revocation import RevocationChecker, RevocationMethod, RevocationResult, RevocationStatus
from protocol.certificates import (
    NAME_FIELDS,
    PathUntrusted,
    TrustAnchors,
    card_signature_valid,
    personal_number,
    subject_text,
)
from protocol.presence import Challenge, PresenceToken


class IdentityError(KioskError):
    """The card or its certificate cannot prove who this is; the message is English, for logs."""

    translation_key = "error.identity"


class CertificateMalformed(IdentityError):
    """The card's certificate cannot be read."""

    translation_key = "error.cert_malformed"


class CertificateExpired(IdentityError):
    """The card's certificate is past its end date."""

    translation_key = "error.cert_expired"


class CertificateNotYetValid(IdentityError):
    """The card's certificate starts in the future (a new card, or a wrong kiosk clock)."""

    translation_key = "error.cert_not_yet_valid"


class CertificateUntrusted(IdentityError):
    """The certificate does not chain to a trusted Georgian CA."""

    translation_key = "error.cert_untrusted"


class CertificateBadUsage(IdentityError):
    """The certificate's key usage does not allow its role (authentication or signing)."""

    translation_key = "error.cert_bad_usage"


class CertificateRevoked(IdentityError):
    """The issuer has revoked the certificate (card reported lost, stolen or replaced)."""

    translation_key = "error.cert_revoked"

    def __init__(self, result: RevocationResult) -> None:
        super().__init__(result.reason)
        self.result = result


class RevocationUnknown(IdentityError):
    """Revocation could not be checked and the policy (``require``) refuses unchecked cards."""

    translation_key = "error.revocation_unknown"

    def __init__(self, result: RevocationResult) -> None:
        super().__init__(result.reason)
        self.result = result


class ChallengeFailed(IdentityError):
    """The card's signature of the nonce does not verify: not the card's own key."""

    translation_key = "error.challenge_failed"


class CertRole(enum.Enum):
    """What a card certificate is for; each role needs its own key usage bit."""

    AUTHENTICATION = "authentication"
    SIGNING = "signing"


class RevocationPolicy(enum.Enum):
    """``[card] revocation``: refuse unchecked certificates, accept them, or do not check."""

    REQUIRE = "require"
    PREFER = "prefer"
    OFF = "off"


# KeyUsage attribute and its RFC 5280 name, per role.
_REQUIRED_USAGE = {
    CertRole.AUTHENTICATION: ("digital_signature", "digitalSignature"),
    CertRole.SIGNING: ("content_commitment", "nonRepudiation"),
}


@dataclass(frozen=True)
class Validation:
    """A certificate that passed: its verified path (leaf first) and how revocation was checked."""

    chain: tuple[x509.Certificate, ...]
    revocation: RevocationResult

    @property
    def revocation_checked(self) -> bool:
        """True when OCSP or a CRL said the certificate is good; False means it went unchecked."""
        return self.revocation.status is RevocationStatus.GOOD


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


def parse_certificate(der: bytes) -> x509.Certificate:
    """DER to certificate, or ``CertificateMalformed``."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateMalformed(str(exc)) from None


def citizen_from_certificate(cert: x509.Certificate, number_field: str = "serialNumber") -> Citizen:
    """Read the personal number (11 digits, from ``number_field``) and names from the subject."""
    if number_field not in NAME_FIELDS:
        raise ValueError(f"unknown personal number field {number_field!r}; use one of {sorted(NAME_FIELDS)}")
    try:
        number = personal_number(cert, number_field)
    except ValueError as exc:
        raise CertificateMalformed(str(exc)) from None
    return Citizen(number, subject_text(cert, NameOID.GIVEN_NAME), subject_text(cert, NameOID.SURNAME))


class CertificateValidator:
    """Path validation of card certificates to a fixed set of trust anchors, then revocation."""

    def __init__(
        self,
        anchors: list[x509.Certificate],
        clock: Callable[[], dt.datetime],
        *,
        revocation: RevocationChecker | None = None,
        policy: RevocationPolicy | str = RevocationPolicy.PREFER,
    ) -> None:
        self._anchors = TrustAnchors(anchors)
        self._clock = clock
        self._revocation = revocation
        self.policy = RevocationPolicy(policy)

    def validate(self, cert: x509.Certificate, role: CertRole = CertRole.AUTHENTICATION) -> Validation:
        """Check dates, key usage for ``role``, the path and revocation; raise an ``IdentityError`` if bad."""
        now = self._clock()
        if now < cert.not_valid_before_utc:
            raise CertificateNotYetValid(f"valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
        if now > cert.not_valid_after_utc:
            raise CertificateExpired(f"expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
        attribute, bit = _REQUIRED_USAGE[role]
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            raise CertificateBadUsage("no key usage extension") from None
        if not getattr(usage, attribute):
            raise CertificateBadUsage(f"key usage lacks {bit}, needed for {role.value}")
        chain = self._verify_path(cert, role, now)
        issuer = chain[1] if len(chain) > 1 else chain[0]  # a leaf that is itself an anchor has no issuer above it
        return Validation(chain, self._check_revocation(cert, issuer))

    def _verify_path(self, cert: x509.Certificate, role: CertRole, now: dt.datetime) -> tuple[x509.Certificate, ...]:
        try:
            return self._anchors.verify_path(cert, now, signing=role is CertRole.SIGNING)
        except PathUntrusted as exc:
            raise CertificateUntrusted(str(exc)) from None

    def _check_revocation(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationResult:
        if self.policy is RevocationPolicy.OFF:
            return RevocationResult(RevocationStatus.UNKNOWN, RevocationMethod.NONE, "revocation checking is off")
        if self._revocation is None:
            result = RevocationResult(RevocationStatus.UNKNOWN, RevocationMethod.NONE,
                                      "no revocation source configured")
        else:
            result = self._revocation.check(cert, issuer)
        if result.status is RevocationStatus.REVOKED:
            raise CertificateRevoked(result)
        if result.status is RevocationStatus.UNKNOWN and self.policy is RevocationPolicy.REQUIRE:
            raise RevocationUnknown(result)
        return result


def verify_challenge(cert: x509.Certificate, challenge: bytes, signature: bytes) -> None:
    """Check the card's signature over ``challenge``; raise ``ChallengeFailed`` otherwise."""
    if not card_signature_valid(cert, challenge, signature):
        raise ChallengeFailed("signature does not verify")


def identify(card: IdCard, validator: CertificateValidator, number_field: str) -> tuple[x509.Certificate, Citizen]:
    """The card's authentication certificate, validated, and the person it names (no PIN asked yet)."""
    certificate = parse_certificate(card.certificates().authentication)
    validator.validate(certificate)
    return certificate, citizen_from_certificate(certificate, number_field)


def prove_possession(card: IdCard, cert: x509.Certificate, pin: bytearray | None) -> None:
    """Have the card sign a fresh single-use nonce after ``pin``; verify it. Wipes ``pin``."""
    challenge = secrets.token_bytes(32)
    try:
        signature = card.authenticate(pin, challenge)
    finally:
        wipe(pin)
    verify_challenge(cert, challenge, signature)


def prove_presence(card: IdCard, cert: x509.Certificate, pin: bytearray | None, challenge: Challenge) -> PresenceToken:
    """Have the card sign ``challenge`` after ``pin``, verify it, and keep it as the session's proof of
    presence (``protocol.presence``): it travels sealed with each request. Wipes ``pin``."""
    try:
        signature = card.authenticate(pin, challenge.to_be_signed())
    finally:
        wipe(pin)
    verify_challenge(cert, challenge.to_be_signed(), signature)
    return PresenceToken(challenge, cert.public_bytes(serialization.Encoding.DER), signature)


def wipe(secret: bytearray | None) -> None:
    """Overwrite a PIN buffer in place so no copy of the digits stays in it."""
    if secret is not None:
        for i in range(len(secret)):
            secret[i] = 0
        secret.clear()
