"""Documents the hub signs for kiosks to use offline: the catalogue, the CRL bundle, the role list."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import and_, delete, select

from assets import ASSETS_DIR
from hub.keys import HubKeys
from hub.schema import documents as documents_table
from hub.schema import roles as roles_table
from hub.store import HubDatabase, upsert
from protocol.roles import PersonHash, role_list_body
from protocol.wire import canonical_json, sign_document

CATALOGUE = "catalogue"
CRL = "crl"
ROLES = ("staff", "technician")
ROLE_LIST_VALIDITY = dt.timedelta(days=14)  # a kiosk offline longer than this stops trusting its list
_PERSONAL_NUMBER = re.compile(r"\d{11}")


class DocumentError(ValueError):
    """A document to publish is not acceptable; the message says why."""


@dataclass(frozen=True)
class SignedDocument:
    """Body bytes exactly as served, their ETag and the hub's signature over them."""

    body: bytes
    etag: str
    signature: str


def _store(store: HubDatabase, keys: HubKeys, name: str, body: bytes) -> SignedDocument:
    doc = SignedDocument(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', sign_document(keys.sign_key, body))
    with store.write() as db:
        upsert(db, documents_table, {"name": name, "body": body, "etag": doc.etag, "signature": doc.signature,
                                     "published_at": store.now()}, ["name"])
    return doc


def published(store: HubDatabase, name: str) -> SignedDocument | None:
    """The document last published under ``name``, or None."""
    d = documents_table.c
    with store.read() as db:
        row = db.execute(select(d.body, d.etag, d.signature).where(d.name == name)).first()
    return None if row is None else SignedDocument(bytes(row.body), row.etag, row.signature)


def catalogue_in_force(store: HubDatabase) -> bytes:
    """The catalogue kiosks have: the one published, else the one they were shipped with."""
    doc = published(store, CATALOGUE)
    return doc.body if doc else (ASSETS_DIR / "catalogue" / "catalogue.json").read_bytes()


@functools.lru_cache(maxsize=4)
def services_in(body: bytes) -> dict[str, dict[str, Any]]:
    """A catalogue's services by id (parsed once per catalogue)."""
    return {s["id"]: s for s in json.loads(body).get("services", []) if isinstance(s, dict) and "id" in s}


def check_catalogue(body: bytes) -> None:
    """Raise DocumentError (saying why) unless kiosks can read this catalogue."""
    from protocol.catalogue import CatalogueError, parse_catalogue

    try:
        parse_catalogue(json.loads(body))
    except (ValueError, CatalogueError) as exc:
        raise DocumentError(str(exc)) from None


def publish_catalogue(store: HubDatabase, keys: HubKeys, source: Path | bytes) -> SignedDocument:
    """Check a catalogue (a file, or its bytes) the way kiosks will read it, then serve its bytes unchanged."""
    body = source if isinstance(source, bytes) else source.read_bytes()
    try:
        check_catalogue(body)
    except DocumentError as exc:
        raise DocumentError(f"{source}: {exc}" if isinstance(source, Path) else str(exc)) from None
    return _store(store, keys, CATALOGUE, body)


def _read_crl(path: Path) -> bytes:
    data = path.read_bytes()
    try:
        crl = x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise DocumentError(f"{path}: not a CRL ({exc})") from None
    return crl.public_bytes(Encoding.DER)


def publish_crl(store: HubDatabase, keys: HubKeys, folder: Path) -> SignedDocument:
    """Bundle every CRL file (DER or PEM) in ``folder`` into the signed CRL document."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".crl", ".der", ".pem"))
    if not files:
        raise DocumentError(f"{folder}: no .crl, .der or .pem files")
    crls = [base64.b64encode(_read_crl(p)).decode("ascii") for p in files]
    return _store(store, keys, CRL, canonical_json({"crls": crls, "issued_at": store.now()}))


def add_role(store: HubDatabase, personal_number: str, role: str, name: str) -> None:
    """Give a staff member or technician a role on every kiosk."""
    if not _PERSONAL_NUMBER.fullmatch(personal_number):
        raise DocumentError("a personal number is 11 digits")
    if role not in ROLES:
        raise DocumentError(f"role must be one of {', '.join(ROLES)}")
    with store.write() as db:
        upsert(db, roles_table, {"personal_number": personal_number, "role": role, "name": name,
                                 "added_at": store.now()}, ["personal_number", "role"])


def remove_role(store: HubDatabase, personal_number: str, role: str | None = None) -> int:
    """Take one role (or every role) away from a person; returns how many were removed."""
    r = roles_table.c
    chosen = r.personal_number == personal_number if role is None else and_(
        r.personal_number == personal_number, r.role == role)
    with store.write() as db:
        return db.execute(delete(roles_table).where(chosen)).rowcount


def roles(store: HubDatabase) -> list[dict[str, str]]:
    """Every role, by personal number."""
    r = roles_table.c
    with store.read() as db:
        rows = db.execute(select(r.personal_number, r.role, r.name).order_by(r.personal_number, r.role)).all()
    return [{"personal_number": row.personal_number, "role": row.role, "name": row.name or ""} for row in rows]


def person_hashing(keys: HubKeys) -> PersonHash:
    """The hub's person hash for role lists: its salt derived from the signing key, so it lasts as the hub does."""
    return PersonHash(hmac.digest(bytes(keys.sign_key), b"kiosk-hub role-list salt", "sha256")[:16])


class _CachedHashing(PersonHash):
    """The same hash, each number computed once per process (scrypt is slow on purpose)."""

    @functools.lru_cache(maxsize=4096)  # noqa: B019  (one instance per hub key, for the process's life)
    def of(self, personal_number: str) -> str:
        return super().of(personal_number)


@functools.lru_cache(maxsize=8)
def _hashing_for(salt: bytes) -> PersonHash:
    return _CachedHashing(salt)


def role_list(store: HubDatabase, keys: HubKeys, kiosk_id: str) -> SignedDocument:
    """The role list for one kiosk, issued now and valid for ``ROLE_LIST_VALIDITY``, signed.

    It names the kiosk (another kiosk refuses it) and people by a keyed hash, never by number.
    """
    now = store.clock().astimezone(dt.timezone.utc)
    entries = [(r["personal_number"], r["role"], r["name"]) for r in roles(store)]
    raw = role_list_body(entries, kiosk_id=kiosk_id, issued_at=now.isoformat(),
                         expires_at=(now + ROLE_LIST_VALIDITY).isoformat(),
                         hashing=_hashing_for(person_hashing(keys).salt))
    return SignedDocument(raw, '"' + hashlib.sha256(raw).hexdigest()[:32] + '"', sign_document(keys.sign_key, raw))
