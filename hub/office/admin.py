"""The administrators' work in the office: a new service catalogue checked, compared and published.

An uploaded catalogue is checked exactly as kiosks read it; a valid one is kept as a draft (in the
documents table, unsigned, never served) until the administrator publishes it after seeing how it
differs from the one in force — by the draft's ETag, so a newer upload in between is not what gets
published by mistake.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import delete, select

from hub import documents
from hub.http import Refused, read_capped
from hub.keys import HubKeys
from hub.schema import documents as documents_table
from hub.store import HubDatabase, upsert

DRAFT = "catalogue_draft"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def catalogue_services(body: bytes, lang: str) -> list[dict[str, Any]]:
    """Each service in a catalogue: id, title in ``lang``, fee in lari, working days."""
    rows = []
    for sid, s in documents.services_in(body).items():
        title = s.get("title")
        title = title if isinstance(title, dict) else {}
        fee = s.get("fee_tetri")
        rows.append({"id": sid, "title": title.get(lang) or title.get("en") or sid,
                     "fee": f"{fee / 100:.2f}" if isinstance(fee, int) else "—",
                     "days": s.get("processing_days", "—")})
    return rows


@dataclass
class CatalogueCheck:
    """What an uploaded catalogue is: its problem, or how it differs from the one in force."""

    error: str | None = None
    etag: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def check_draft(store: HubDatabase, body: bytes) -> CatalogueCheck:
    """Check ``body`` as kiosks would; a valid one becomes the draft, compared with the catalogue in force."""
    try:
        documents.check_catalogue(body)
    except documents.DocumentError as exc:
        return CatalogueCheck(error=str(exc)[:300])
    new, old = documents.services_in(body), documents.services_in(documents.catalogue_in_force(store))
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    with store.write() as db:
        upsert(db, documents_table, {"name": DRAFT, "body": body, "etag": etag, "signature": "",
                                     "published_at": store.now()}, ["name"])
    return CatalogueCheck(None, etag, sorted(set(new) - set(old)), sorted(set(old) - set(new)),
                          sorted(sid for sid in set(new) & set(old) if new[sid] != old[sid]))


def publish_draft(store: HubDatabase, keys: HubKeys, etag: str) -> documents.SignedDocument | None:
    """Publish the draft checked with ``etag`` (None when it is no longer the draft)."""
    d = documents_table.c
    with store.read() as db:
        row = db.execute(select(d.body).where(d.name == DRAFT, d.etag == etag)).first()
    if row is None:
        return None
    doc = documents.publish_catalogue(store, keys, bytes(row.body))
    with store.write() as db:
        db.execute(delete(documents_table).where(d.name == DRAFT))
    return doc


async def catalogue_upload(request: Request) -> tuple[dict[str, str], bytes]:
    """A ``multipart/form-data`` upload (at most 2 MB): its text fields, and the bytes of its ``catalogue`` file."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        raise Refused(400, "bad_form")
    body = await read_capped(request, MAX_UPLOAD_BYTES)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + kind.encode("latin-1") + b"\r\n\r\n" + body)
    fields: dict[str, str] = {}
    upload = b""
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        if name == "catalogue":
            upload = payload
        elif isinstance(name, str):
            fields[name] = payload.decode("utf-8", "replace")
    return fields, upload
