"""Documents the hub signs for kiosks to use offline: the catalogue, the CRL bundle, the role list."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hub.keys import HubKeys
from hub.store import HubDatabase
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
        db.table("documents").upsert({"name": name, "body": body, "etag": doc.etag, "signature": doc.signature,
                                "published_at": store.now()}, pk="name")
    return doc


def published(store: HubDatabase, name: str) -> SignedDocument | None:
    """The document last published under ``name``, or None."""
    with store.read() as db:
        row = db.execute("SELECT body, etag, signature FROM documents WHERE name = ?", [name]).fetchone()
    return None if row is None else SignedDocument(bytes(row[0]), row[1], row[2])


def publish_catalogue(store: HubDatabase, keys: HubKeys, path: Path) -> SignedDocument:
    """Check a catalogue file the way kiosks will read it, then serve its bytes unchanged."""
    from protocol.catalogue import CatalogueError, parse_catalogue

    body = path.read_bytes()
    try:
        parse_catalogue(json.loads(body))
    except (ValueError, CatalogueError) as exc:
        raise DocumentError(f"{path}: {exc}") from None
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
        db.table("roles").upsert({"personal_number": personal_number, "role": role, "name": name,
                            "added_at": store.now()}, pk=("personal_number", "role"))


def remove_role(store: HubDatabase, personal_number: str, role: str | None = None) -> int:
    """Take one role (or every role) away from a person; returns how many were removed."""
    with store.write() as db:
        if role is None:
            cursor = db.execute("DELETE FROM roles WHERE personal_number = ?", [personal_number])
        else:
            cursor = db.execute("DELETE FROM roles WHERE personal_number = ? AND role = ?", [personal_number, role])
    return cursor.rowcount


def roles(store: HubDatabase) -> list[dict[str, str]]:
    """Every role, by personal number."""
    with store.read() as db:
        rows = db.execute("SELECT personal_number, role, name FROM roles ORDER BY personal_number, role").fetchall()
    return [{"personal_number": r[0], "role": r[1], "name": r[2] or ""} for r in rows]


def role_list(store: HubDatabase, keys: HubKeys) -> SignedDocument:
    """The role list, issued now and valid for ``ROLE_LIST_VALIDITY``, signed."""
    now = store.clock().astimezone(dt.timezone.utc)
    body: dict[str, Any] = {"roles": roles(store), "issued_at": now.isoformat(),
                            "expires_at": (now + ROLE_LIST_VALIDITY).isoformat()}
    raw = canonical_json(body)
    return SignedDocument(raw, '"' + hashlib.sha256(raw).hexdigest()[:32] + '"', sign_document(keys.sign_key, raw))
