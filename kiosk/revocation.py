"""Is a certificate revoked? OCSP first when the certificate names a responder, else the CRL bundle.

Built on cryptography's OCSP (``kiosk.ocsp``) and CRL APIs. The rules:

* **OCSP** is asked first when the certificate's AIA names a responder; an answer that does not
  verify or does not come within ``ocsp_timeout_s`` falls back to the CRL. ``good`` and
  ``revoked`` decide. ``unknown`` (the responder does not know the certificate) is never turned
  into good by a CRL, only into revoked when the CRL lists it.
* **CRL**: a full (not delta) CRL in ``crl_dir`` (DER or PEM, any file name) named after the
  issuer and signed with its key. It counts from thisUpdate (5 min clock skew allowed) while
  now ≤ nextUpdate + ``crl_max_age`` (no nextUpdate: thisUpdate + ``crl_max_age``): kiosks may
  be offline for days, so a CRL past its nextUpdate keeps counting for that grace period and no
  longer. The newest such CRL decides.

Only the leaf certificate is checked (its path is verified first). Reasons are English, for logs
and technicians, and name CAs and dates only, never the holder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from kiosk.config import Settings
from kiosk.ocsp import CLOCK_SKEW, OcspClient, OcspUnusable, common_name, ocsp_urls

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

log = logging.getLogger(__name__)


class RevocationStatus(enum.Enum):
    """What the revocation sources say about a certificate."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class RevocationMethod(enum.Enum):
    """Which source decided."""

    OCSP = "ocsp"
    CRL = "crl"
    NONE = "none"


@dataclass(frozen=True)
class RevocationResult:
    """A verdict, the source that gave it and why, in words."""

    status: RevocationStatus
    method: RevocationMethod
    reason: str
    revoked_at: dt.datetime | None = None


def crl_folder(settings: Settings) -> Path:
    """Where CRLs are read from (and the hub's sync writes them): ``[card] crl_dir``, else ``<data_dir>/crl``."""
    return Path(settings.card.crl_dir) if settings.card.crl_dir else settings.kiosk.data_dir / "crl"


class _Unusable(Exception):
    """This source cannot decide; the message says why."""


def _when(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


class LoadedCrl:
    """One parsed CRL and what is slow to recompute on a big one: its serials and signature checks."""

    def __init__(self, crl: x509.CertificateRevocationList) -> None:
        self.crl = crl
        self._serials: frozenset[int] | None = None
        self._signed_by: dict[bytes, bool] = {}

    def signed_by(self, issuer: x509.Certificate) -> bool:
        """True when ``issuer``'s key made this CRL's signature (checked once per issuer)."""
        fingerprint = issuer.fingerprint(hashes.SHA256())
        if fingerprint not in self._signed_by:
            self._signed_by[fingerprint] = self.crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]  # a CA key is one the CRL API takes
        return self._signed_by[fingerprint]

    def entry(self, serial: int) -> x509.RevokedCertificate | None:
        """The CRL's entry for ``serial``, if listed (a set lookup: cryptography's own is a scan)."""
        if self._serials is None:
            self._serials = frozenset(r.serial_number for r in self.crl)
        return self.crl.get_revoked_certificate_by_serial_number(serial) if serial in self._serials else None


class CrlBundle:
    """The CRLs in a folder (DER or PEM, any file name), each file parsed once per version."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, tuple[tuple[int, int], list[LoadedCrl]]] = {}

    def crls(self) -> list[LoadedCrl]:
        """Every readable CRL in the folder now; unreadable files are logged by name and skipped."""
        try:
            entries = [e for e in os.scandir(self.folder) if e.is_file()]
        except FileNotFoundError:
            entries = []
        found: list[LoadedCrl] = []
        for entry in entries:
            stat = entry.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(entry.path)
            if cached is None or cached[0] != version:  # the hub's sync replaced the file
                loaded = [LoadedCrl(crl) for crl in _parse_crls(Path(entry.path))]
                cached = self._cache[entry.path] = (version, loaded)
            found.extend(cached[1])
        for gone in set(self._cache) - {e.path for e in entries}:
            del self._cache[gone]
        return found


def _parse_crls(path: Path) -> list[x509.CertificateRevocationList]:
    blob = path.read_bytes()
    end = b"-----END X509 CRL-----"
    try:
        if b"-----BEGIN X509 CRL-----" in blob:
            return [x509.load_pem_x509_crl(block + end) for block in blob.split(end)[:-1]]
        return [x509.load_der_x509_crl(blob)]
    except ValueError:
        log.warning("skipping %s: not a CRL", path.name)
        return []


def _is_delta(crl: x509.CertificateRevocationList) -> bool:
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        return False
    return True


class RevocationChecker:
    """OCSP when the certificate names a responder that answers in time, else the CRL bundle."""

    def __init__(
        self,
        crl_dir: Path | None,
        *,
        clock: Callable[[], dt.datetime],
        crl_max_age: dt.timedelta = dt.timedelta(hours=72),
        ocsp_timeout_s: float = 3.0,
        session: requests.Session | None = None,
        use_ocsp: bool = True,
    ) -> None:
        self._bundle = CrlBundle(crl_dir) if crl_dir else None
        self._clock = clock
        self._max_age = crl_max_age
        self._ocsp = OcspClient(session, ocsp_timeout_s, clock) if use_ocsp else None

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], dt.datetime]) -> RevocationChecker:
        """The checker the ``[card]`` settings describe (``crl_dir``, ``crl_max_age_h``, ``ocsp_timeout_s``)."""
        return cls(
            crl_folder(settings),
            clock=clock,
            crl_max_age=dt.timedelta(hours=settings.card.crl_max_age_h),
            ocsp_timeout_s=settings.card.ocsp_timeout_s,
        )

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationResult:
        """The revocation status of ``cert``, whose path to ``issuer`` is already verified."""
        notes: list[str] = []
        urls = ocsp_urls(cert) if self._ocsp else []
        ocsp_unknown: RevocationResult | None = None
        for url in urls:
            answer = self._ask_ocsp(url, cert, issuer, notes)
            if answer is None:
                continue
            if answer.status is not RevocationStatus.UNKNOWN:
                return answer
            ocsp_unknown = answer
            break
        try:
            from_crl = self._from_crl(cert, issuer)
        except _Unusable as exc:
            notes.append(f"CRL: {exc}")
            from_crl = None
        if from_crl is not None and (ocsp_unknown is None or from_crl.status is RevocationStatus.REVOKED):
            return dataclasses.replace(from_crl, reason="; ".join([from_crl.reason, *notes]))
        if ocsp_unknown is not None:
            return dataclasses.replace(ocsp_unknown, reason="; ".join([ocsp_unknown.reason, *notes]))
        if not urls:
            notes.insert(0, "the certificate names no OCSP responder" if self._ocsp else "OCSP is not used")
        return RevocationResult(RevocationStatus.UNKNOWN, RevocationMethod.NONE, "; ".join(notes))

    def _ask_ocsp(self, url: str, cert: x509.Certificate, issuer: x509.Certificate,
                  notes: list[str]) -> RevocationResult | None:
        assert self._ocsp is not None
        try:
            answer = self._ocsp.ask(url, cert, issuer)
        except OcspUnusable as exc:
            notes.append(f"OCSP {url}: {exc}")
            return None
        if answer.status is ocsp.OCSPCertStatus.GOOD:
            return RevocationResult(RevocationStatus.GOOD, RevocationMethod.OCSP, f"OCSP {url}: good")
        if answer.status is ocsp.OCSPCertStatus.REVOKED:
            since = f" since {_when(answer.revoked_at)}" if answer.revoked_at else ""
            return RevocationResult(RevocationStatus.REVOKED, RevocationMethod.OCSP,
                                    f"OCSP {url}: revoked{since}", answer.revoked_at)
        return RevocationResult(RevocationStatus.UNKNOWN, RevocationMethod.OCSP,
                                f"OCSP {url}: the responder does not know this certificate")

    def _from_crl(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationResult:
        if self._bundle is None:
            raise _Unusable("no CRL folder is configured")
        ca = common_name(issuer.subject)
        named = [c for c in self._bundle.crls() if c.crl.issuer == issuer.subject]
        if not named:
            raise _Unusable(f"no CRL from {ca} in {self._bundle.folder}")
        try:
            if not issuer.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign:
                raise _Unusable(f"{ca} may not sign CRLs (key usage)")
        except x509.ExtensionNotFound:
            pass
        signed = [c for c in named if c.signed_by(issuer)]
        if not signed:
            raise _Unusable(f"the CRL named after {ca} is not signed by its key")
        complete = [c for c in signed if not _is_delta(c.crl)]
        if not complete:
            raise _Unusable(f"only delta CRLs from {ca}: a full CRL is needed")
        now = self._clock()
        fresh = [c for c in complete if c.crl.last_update_utc <= now + CLOCK_SKEW
                 and now <= (c.crl.next_update_utc or c.crl.last_update_utc) + self._max_age]
        if not fresh:
            stale = max(complete, key=lambda c: c.crl.last_update_utc).crl
            due = stale.next_update_utc or stale.last_update_utc
            hours = f"{self._max_age.total_seconds() / 3600:g}"
            raise _Unusable(f"the newest CRL from {ca} is too old (next update was due {_when(due)}, "
                            f"grace {hours} h) or dated in the future")
        newest = max(fresh, key=lambda c: c.crl.last_update_utc)
        entry = newest.entry(cert.serial_number)
        issued = _when(newest.crl.last_update_utc)
        if entry is None:
            return RevocationResult(RevocationStatus.GOOD, RevocationMethod.CRL,
                                    f"not on the CRL from {ca} issued {issued}")
        since = entry.revocation_date_utc
        return RevocationResult(RevocationStatus.REVOKED, RevocationMethod.CRL,
                                f"revoked since {_when(since)} (CRL from {ca} issued {issued})", since)
