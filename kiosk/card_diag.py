"""The card part of the technician's diagnostic: readers, the card, its holder and certificates.

Asks for no PIN and shows no full personal number (only its last 3 digits). Works through the
ports only (``CardReader``, ``CardOpener``), so simulated, PC/SC and PKCS#11 hardware all report
the same way. ``card_report`` returns plain JSON-ready data; ``kiosk diag card`` prints it.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from kiosk.errors import HardwareError, ReaderUnavailable
from kiosk.identity import (
    NAME_FIELDS,
    CertificateBadUsage,
    CertificateExpired,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUntrusted,
    CertificateValidator,
    CertRole,
    IdentityError,
    RevocationUnknown,
    citizen_from_certificate,
    parse_certificate,
)
from kiosk.ports import CardOpener, CardReader, ReaderInfo
from kiosk.revocation import RevocationResult, RevocationStatus

# The diagnostic's status words, per refusal. A malformed certificate cannot be trusted: its
# reason says it could not be parsed.
_STATUS = {
    CertificateExpired: "expired",
    CertificateNotYetValid: "not_yet_valid",
    CertificateRevoked: "revoked",
    CertificateUntrusted: "untrusted",
    CertificateMalformed: "untrusted",
    CertificateBadUsage: "bad_usage",
    RevocationUnknown: "revocation_unknown",
}
_REASON_PREFIX = {
    "expired": "the certificate has expired",
    "not_yet_valid": "the certificate is not valid yet",
    "revoked": "the issuer has revoked the certificate",
    "untrusted": "the certificate does not chain to a configured trust anchor",
    "bad_usage": "the key usage does not allow this role",
    "revocation_unknown": "revocation could not be checked and the policy requires it",
}


def mask_number(number: str) -> str:
    """A personal number with all but its last 3 characters hidden: ``********083``."""
    return "*" * max(len(number) - 3, 0) + number[-3:]


def _masked_subject(cert: x509.Certificate, number_field: str, number: str | None) -> str:
    """The subject (RFC 4514) with the personal number masked wherever it appears."""
    oid = NAME_FIELDS.get(number_field)
    attrs = []
    for attr in cert.subject:
        value = attr.value if isinstance(attr.value, str) else attr.value.decode(errors="replace")
        if attr.oid == oid or (number and number in value):
            value = value.replace(number, mask_number(number)) if number else mask_number(value)
        attrs.append(x509.NameAttribute(attr.oid, value))
    readable = {NameOID.SERIAL_NUMBER: "serialNumber", NameOID.GIVEN_NAME: "givenName", NameOID.SURNAME: "surname"}
    return x509.Name(attrs).rfc4514_string(readable)


def _certificate_entry(der: bytes, role: CertRole, validator: CertificateValidator, number_field: str,
                       number: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": role.value, "subject": None, "not_after": None}
    try:
        cert = parse_certificate(der)
    except CertificateMalformed as exc:
        return {**entry, "status": "untrusted", "reason": f"the certificate cannot be parsed ({exc})",
                "revocation": None}
    entry["subject"] = _masked_subject(cert, number_field, number)
    entry["not_after"] = cert.not_valid_after_utc.isoformat()
    try:
        validation = validator.validate(cert, role)
    except IdentityError as exc:
        status = _STATUS.get(type(exc), "untrusted")
        refused = exc.result if isinstance(exc, (CertificateRevoked, RevocationUnknown)) else None
        return {**entry, "status": status, "reason": f"{_REASON_PREFIX[status]}: {exc}",
                "revocation": _revocation_entry(refused)}
    revocation = validation.revocation
    checked = "revocation checked" if revocation.status is RevocationStatus.GOOD else "revocation NOT checked"
    via = validation.chain[-1].subject.rfc4514_string()
    return {**entry, "status": "valid", "reason": f"chains to {via}; {checked}: {revocation.reason}",
            "revocation": _revocation_entry(revocation)}


def _revocation_entry(result: RevocationResult | None) -> dict[str, str] | None:
    if result is None:  # refused before revocation was asked
        return None
    return {"status": result.status.value, "method": result.method.value, "reason": result.reason}


def _holder(der: bytes, number_field: str) -> tuple[dict[str, Any] | None, str | None]:
    """The masked holder from a certificate, and the clear number (kept only to mask subjects)."""
    try:
        citizen = citizen_from_certificate(parse_certificate(der), number_field)
    except IdentityError as exc:
        return {"error": str(exc)}, None
    return {
        "personal_number": mask_number(citizen.personal_number),
        "given_name": citizen.given_name,
        "surname": citizen.surname,
    }, citizen.personal_number


def _reader_entry(info: ReaderInfo) -> dict[str, Any]:
    return {"name": info.name, "has_pinpad": info.has_pinpad, "card_present": info.card_present,
            "atr": info.atr.hex() if info.atr else None}


def card_report(
    reader: CardReader,
    open_card: CardOpener,
    validator: CertificateValidator,
    number_field: str = "serialNumber",
) -> dict[str, Any]:
    """What the readers and the first card in them say, for a technician; never asks for a PIN.

    ``card_read`` is True when a card's certificates were read, whatever their status.
    """
    report: dict[str, Any] = {
        "pcsc_answers": True, "readers": [], "token_present": False, "card_read": False,
        "reader": None, "error": None, "holder": None, "certificates": [],
        "revocation_policy": validator.policy.value,
    }
    try:
        readers = reader.readers()
    except ReaderUnavailable as exc:
        return {**report, "pcsc_answers": False, "error": f"the card reader service does not answer: {exc}"}
    report["readers"] = [_reader_entry(r) for r in readers]
    with_card = next((r for r in readers if r.card_present), None)
    if with_card is None:
        return {**report, "error": "no card in any reader" if readers else "no reader attached"}
    report["reader"] = with_card.name
    try:
        card = open_card(with_card)
        report["token_present"] = True
        certificates = card.certificates()
    except HardwareError as exc:
        return {**report, "error": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__}
    report["card_read"] = True
    report["holder"], number = _holder(certificates.authentication, number_field)
    roles = [(certificates.authentication, CertRole.AUTHENTICATION), (certificates.signing, CertRole.SIGNING)]
    report["certificates"] = [
        _certificate_entry(der, role, validator, number_field, number) for der, role in roles if der
    ]
    return report
