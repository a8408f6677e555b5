"""A demo PKI shaped like Georgia's: GEO Root CA → Authentication / Signing CA → citizen certificates.

Used by the simulated card in the demo and by tests; never by a production kiosk. Keys and
certificates are cached as files so the demo does not spend a second making RSA keys each start.
Besides the demo citizen's two good certificates it makes the bad ones a kiosk must refuse
(``DemoPki.issue_citizen`` with a ``Flaw``), CRLs (``make_crl``) and an OCSP responder certificate.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

DEMO_CITIZEN = {
    "personal_number": "01024085083",
    "given_name": "ნინო",
    "surname": "ბერიძე",
}
CERT_DAYS = 912  # Georgian ID-card certificates last 2.5 years

Role = Literal["authentication", "signing"]


class Flaw(enum.Enum):
    """What is wrong with a test citizen certificate; ``NONE`` makes a good one."""

    NONE = "none"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_USAGE = "wrong_usage"  # authentication without digitalSignature, signing without nonRepudiation


@dataclass(frozen=True)
class Issued:
    """A key and its certificate."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        """The certificate in DER."""
        return self.cert.public_bytes(serialization.Encoding.DER)


def _usage(*, digital_signature: bool = False, non_repudiation: bool = False,
           key_encipherment: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=non_repudiation,
        key_encipherment=key_encipherment, data_encipherment=False, key_agreement=False,
        key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
    )


# (key usage, extended key usage) per role, for good and for wrong-usage certificates.
_USAGES: dict[tuple[Role, bool], tuple[x509.KeyUsage, list[x509.ObjectIdentifier]]] = {
    ("authentication", True): (_usage(digital_signature=True), [ExtendedKeyUsageOID.CLIENT_AUTH]),
    ("authentication", False): (_usage(key_encipherment=True), [ExtendedKeyUsageOID.CLIENT_AUTH]),
    ("signing", True): (_usage(non_repudiation=True), []),
    ("signing", False): (_usage(digital_signature=True), []),
}


def _name(cn: str, **extra: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "GE")]
    if "surname" in extra:
        attrs.append(x509.NameAttribute(NameOID.SURNAME, extra["surname"]))
    if "given_name" in extra:
        attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, extra["given_name"]))
    if "serial" in extra:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, extra["serial"]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _issue(
    subject: x509.Name,
    issuer: Issued | None,
    *,
    usage: x509.KeyUsage,
    valid: tuple[dt.datetime, dt.datetime],
    ca: bool = False,
    eku: list[x509.ObjectIdentifier] | None = None,
    ocsp_url: str | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(usage, critical=True)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    return Issued(key, builder.sign(signer_key, hashes.SHA256()))


def _ca(cn: str, issuer: Issued | None, now: dt.datetime, days: int) -> Issued:
    valid = (now - dt.timedelta(days=1), now + dt.timedelta(days=days))
    return _issue(_name(cn), issuer, usage=_usage(ca=True), valid=valid, ca=True)


def _validity(flaw: Flaw, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    day, life = dt.timedelta(days=1), dt.timedelta(days=CERT_DAYS)
    if flaw is Flaw.EXPIRED:
        return now - life - day, now - day
    if flaw is Flaw.NOT_YET_VALID:
        return now + day, now + life
    return now - day, now + life


def _holder(person: dict[str, str], number_field: str) -> x509.Name:
    """The subject; the personal number goes in ``number_field`` (serialNumber or commonName)."""
    names = {"surname": person["surname"], "given_name": person["given_name"]}
    if number_field == "commonName":
        return _name(person["personal_number"], **names)
    if number_field != "serialNumber":
        raise ValueError(f"number_field must be serialNumber or commonName, not {number_field!r}")
    return _name(f"{person['given_name']} {person['surname']}", serial=person["personal_number"], **names)


@dataclass(frozen=True)
class DemoPki:
    """The demo hierarchy and one demo citizen's two certificates."""

    root: Issued
    auth_ca: Issued
    sign_ca: Issued
    citizen_auth: Issued
    citizen_sign: Issued

    def write_trust_anchors(self, folder: Path) -> Path:
        """Write the CA certificates (PEM) where ``[card] trust_anchors`` can point."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, issued in (("root", self.root), ("auth-ca", self.auth_ca), ("sign-ca", self.sign_ca)):
            (folder / f"{name}.pem").write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
        return folder

    @property
    def issued_at(self) -> dt.datetime:
        """The moment this PKI was made for: the default "now" of what it issues later."""
        return self.root.cert.not_valid_before_utc + dt.timedelta(days=1)

    def issue_citizen(
        self,
        role: Role = "authentication",
        *,
        flaw: Flaw = Flaw.NONE,
        now: dt.datetime | None = None,
        ocsp_url: str | None = None,
        citizen: dict[str, str] | None = None,
        number_field: str = "serialNumber",
        issuer: Issued | None = None,
    ) -> Issued:
        """A citizen certificate for ``role`` with ``flaw``, on the demo citizen's key for that role.

        ``issuer`` defaults to this PKI's CA for the role (give another PKI's CA for a foreign
        certificate); ``ocsp_url`` adds an AIA OCSP entry; ``now`` defaults to the moment the PKI
        was made for (never the wall clock). Reusing the key keeps this fast.
        """
        now = now or self.issued_at
        own = self.citizen_auth if role == "authentication" else self.citizen_sign
        ca = issuer or (self.auth_ca if role == "authentication" else self.sign_ca)
        usage, eku = _USAGES[(role, flaw is not Flaw.WRONG_USAGE)]
        subject = _holder(citizen or DEMO_CITIZEN, number_field)
        return _issue(subject, ca, usage=usage, eku=eku, valid=_validity(flaw, now), ocsp_url=ocsp_url, key=own.key)

    def issue_ocsp_responder(self, issuer: Issued, now: dt.datetime | None = None) -> Issued:
        """A delegated OCSP responder certificate (id-kp-OCSPSigning) issued by ``issuer``."""
        now = now or self.issued_at
        subject = _name(f"{issuer.cert.subject.rfc4514_string()} OCSP responder (demo)")
        valid = (now - dt.timedelta(days=1), now + dt.timedelta(days=365))
        return _issue(subject, issuer, usage=_usage(digital_signature=True), valid=valid,
                      eku=[ExtendedKeyUsageOID.OCSP_SIGNING])


def malformed_der(issued: Issued) -> bytes:
    """A certificate's DER cut short: what a damaged card or a bad read returns."""
    return issued.der[: len(issued.der) // 2]


def make_crl(
    issuer: Issued,
    revoked: Iterable[x509.Certificate] = (),
    *,
    this_update: dt.datetime,
    next_update: dt.datetime | None = None,
    signing_key: rsa.RSAPrivateKey | None = None,
) -> x509.CertificateRevocationList:
    """A CRL in ``issuer``'s name listing ``revoked``, issued at ``this_update`` (the caller's clock),
    next update 7 days later unless given.

    ``signing_key`` signs instead of the issuer's own key: a CRL with the wrong signer.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update or this_update + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(int(this_update.timestamp())), critical=False)
    )
    for cert in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(this_update - dt.timedelta(hours=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(signing_key or issuer.key, hashes.SHA256())


def write_crl(folder: Path, name: str, crl: x509.CertificateRevocationList, *, pem: bool = False) -> Path:
    """Write ``crl`` as ``<folder>/<name>.crl`` (DER) or ``.pem`` where ``[card] crl_dir`` can point."""
    folder.mkdir(parents=True, exist_ok=True)
    encoding = serialization.Encoding.PEM if pem else serialization.Encoding.DER
    path = folder / f"{name}.{'pem' if pem else 'crl'}"
    path.write_bytes(crl.public_bytes(encoding))
    return path


def make_demo_pki(
    now: dt.datetime, citizen: dict[str, str] | None = None, *, ocsp_url: str | None = None
) -> DemoPki:
    """Make a fresh demo PKI valid from ``now`` (the caller's clock): five RSA-2048 keys, a fraction of a second."""
    person = citizen or DEMO_CITIZEN
    root = _ca("GEO Root CA (demo)", None, now, 3650)
    auth_ca = _ca("GEO Authentication CA (demo)", root, now, 3000)
    sign_ca = _ca("GEO Signing CA (demo)", root, now, 3000)
    subject = _holder(person, "serialNumber")
    valid = _validity(Flaw.NONE, now)
    auth_usage, auth_eku = _USAGES[("authentication", True)]
    sign_usage, sign_eku = _USAGES[("signing", True)]
    citizen_auth = _issue(subject, auth_ca, usage=auth_usage, eku=auth_eku, valid=valid, ocsp_url=ocsp_url)
    citizen_sign = _issue(subject, sign_ca, usage=sign_usage, eku=sign_eku, valid=valid, ocsp_url=ocsp_url)
    return DemoPki(root, auth_ca, sign_ca, citizen_auth, citizen_sign)


def _dump(issued: Issued) -> bytes:
    key = issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key + issued.cert.public_bytes(serialization.Encoding.PEM)


def _load(blob: bytes) -> Issued:
    # Our own cache, written 0600 by make_demo_pki: OpenSSL's full RSA key check (primality of p
    # and q: ~35 ms a key, 0.18 s of every demo start) is skipped for the cheap ones below; a key
    # that fails them is "unreadable" (ValueError) and the PKI is made anew, as before.
    key = serialization.load_pem_private_key(blob, password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(blob)
    numbers = key.private_numbers()
    if numbers.p * numbers.q != numbers.public_numbers.n or cert.public_key() != key.public_key():
        raise ValueError("the private key does not match its certificate")
    return Issued(key, cert)


_PARTS = ("root", "auth_ca", "sign_ca", "citizen_auth", "citizen_sign")


RENEW_BEFORE = dt.timedelta(days=30)  # a cached demo PKI is remade when it has less than this left


def _stale(pki: DemoPki, now: dt.datetime) -> str | None:
    """Why the cached PKI can't serve at ``now`` (None when it can)."""
    for part in _PARTS:
        cert = getattr(pki, part).cert
        if now < cert.not_valid_before_utc:
            return f"{part} is not valid until {cert.not_valid_before_utc:%Y-%m-%d}"
        if now + RENEW_BEFORE >= cert.not_valid_after_utc:
            return f"{part} expires on {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


def load_or_make_demo_pki(folder: Path, now: dt.datetime) -> DemoPki:
    """Reuse the demo PKI cached in ``folder`` while it is valid at ``now`` and for a month more,
    else make a new one from ``now`` (logged): a demo data folder keeps working for years."""
    files = [folder / f"{part}.pem" for part in _PARTS]
    if all(f.exists() for f in files):
        try:
            pki = DemoPki(*(_load(f.read_bytes()) for f in files))
        except ValueError as exc:
            log.warning("demo PKI in %s unreadable (%s): making a new one", folder, exc)
        else:
            reason = _stale(pki, now)
            if reason is None:
                return pki
            log.warning("demo PKI in %s renewed: %s", folder, reason)
    pki = make_demo_pki(now)
    folder.mkdir(parents=True, exist_ok=True)
    for part, path in zip(_PARTS, files, strict=True):
        path.write_bytes(_dump(getattr(pki, part)))
        path.chmod(0o600)
    return pki
