"""A demo PKI shaped like Georgia's: GEO Root CA → Authentication CA → citizen certificates.

Used by the simulated card in the demo and by tests; never by a production kiosk. Keys and
certificates are cached as files so the demo does not spend a second making RSA keys each start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_CITIZEN = {
    "personal_number": "01024085083",
    "given_name": "ნინო",
    "surname": "ბერიძე",
}


@dataclass(frozen=True)
class Issued:
    """A key and its certificate."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        """The certificate in DER."""
        return self.cert.public_bytes(serialization.Encoding.DER)


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
    ca: bool,
    usage: str,
    now: dt.datetime,
    days: int,
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
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    elif usage == "authentication":
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    else:  # qualified signature
        builder = builder.add_extension(
            x509.KeyUsage(False, True, False, False, False, False, False, False, False), critical=True
        )
    return Issued(key, builder.sign(signer_key, hashes.SHA256()))


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


def make_demo_pki(now: dt.datetime | None = None, citizen: dict[str, str] | None = None) -> DemoPki:
    """Make a fresh demo PKI (five RSA-2048 keys: about half a second)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    person = citizen or DEMO_CITIZEN
    root = _issue(_name("GEO Root CA (demo)"), None, ca=True, usage="", now=now, days=3650)
    auth_ca = _issue(_name("GEO Authentication CA (demo)"), root, ca=True, usage="", now=now, days=3000)
    sign_ca = _issue(_name("GEO Signing CA (demo)"), root, ca=True, usage="", now=now, days=3000)
    holder = dict(
        surname=person["surname"], given_name=person["given_name"], serial=person["personal_number"]
    )
    cn = f"{person['given_name']} {person['surname']}"
    citizen_auth = _issue(_name(cn, **holder), auth_ca, ca=False, usage="authentication", now=now, days=912)
    citizen_sign = _issue(_name(cn, **holder), sign_ca, ca=False, usage="signing", now=now, days=912)
    return DemoPki(root, auth_ca, sign_ca, citizen_auth, citizen_sign)


def _dump(issued: Issued) -> bytes:
    key = issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key + issued.cert.public_bytes(serialization.Encoding.PEM)


def _load(blob: bytes) -> Issued:
    key = serialization.load_pem_private_key(blob, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return Issued(key, x509.load_pem_x509_certificate(blob))


_PARTS = ("root", "auth_ca", "sign_ca", "citizen_auth", "citizen_sign")


def load_or_make_demo_pki(folder: Path) -> DemoPki:
    """Reuse the demo PKI cached in ``folder`` while it is valid for a month more, else remake it."""
    files = [folder / f"{part}.pem" for part in _PARTS]
    if all(f.exists() for f in files):
        pki = DemoPki(*(_load(f.read_bytes()) for f in files))
        month = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
        if pki.citizen_auth.cert.not_valid_after_utc > month:
            return pki
    pki = make_demo_pki()
    folder.mkdir(parents=True, exist_ok=True)
    for part, path in zip(_PARTS, files):
        path.write_bytes(_dump(getattr(pki, part)))
        path.chmod(0o600)
    return pki
