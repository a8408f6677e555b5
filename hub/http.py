"""HTTP details shared by the hub's endpoints: bounded body reading, gzip, answers by word, ETags."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from hub.documents import SignedDocument
from protocol.wire import HEADER_DATE, HEADER_HUB_SIGNATURE, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, MAX_BODY_BYTES


class Refused(Exception):
    """Answer ``status`` with ``{"error": word}`` (and optional headers); nothing is stored."""

    def __init__(self, status: int, word: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(word)
        self.status = status
        self.word = word
        self.headers = headers or {}


def refusal(exc: Refused) -> JSONResponse:
    """The JSON answer for a refusal."""
    return JSONResponse({"error": exc.word}, status_code=exc.status, headers=exc.headers)


async def raw_body(request: Request) -> bytes:
    """The body as sent, refused with 413 as soon as it grows past the limit (no matter what it claims)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, "too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def signed_path(request: Request) -> str:
    """The path and query exactly as on the request line, which is what the kiosk signed."""
    path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    query = request.scope.get("query_string", b"")
    return (path + (b"?" + query if query else b"")).decode("latin-1")


def decoded_json(request: Request, body: bytes) -> Any:
    """The body uncompressed (gzip allowed) and parsed: 413 past the limit, 400 when it is not JSON."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error:
            raise Refused(400, "bad_gzip") from None
        if len(body) > MAX_BODY_BYTES or inflater.unconsumed_tail:  # a gzip bomb stops here
            raise Refused(413, "too_large")
        if not inflater.eof or inflater.unused_data:  # cut short, or bytes after the stream we would ignore
            raise Refused(400, "bad_gzip")
    elif encoding != "identity":
        raise Refused(400, "unsupported_encoding")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "malformed_json") from None


def document_response(request: Request, doc: SignedDocument | None) -> Response:
    """A signed document with its ETag, ``304`` when the kiosk already has it, ``404`` if never published."""
    if doc is None:
        raise Refused(404, "not_published")
    wanted = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",") if tag.strip()}
    headers = {"ETag": doc.etag, HEADER_HUB_SIGNATURE: doc.signature, "Cache-Control": "no-cache"}
    if doc.etag in wanted or f"W/{doc.etag}" in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(doc.body, media_type="application/json", headers=headers)


SIGNED_HEADERS_DOC = [
    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": text}
    for name, text in (
        (HEADER_KEY, "kiosk id given at enrolment"),
        (HEADER_DATE, "UTC, e.g. 2026-11-21T10:00:00Z; refused when more than 5 minutes off"),
        (HEADER_NONCE, "32 hex digits, never reused"),
        (HEADER_SIGNATURE, "base64 Ed25519 signature, see protocol/wire.py"),
    )
]
"""The signature headers as OpenAPI parameters, for every signed endpoint."""


def json_body_doc(schema: dict[str, Any], gzip: bool = False) -> dict[str, Any]:
    """An OpenAPI requestBody for an endpoint that reads its body itself (to check the signature first)."""
    note = "May be sent with Content-Encoding: gzip. " if gzip else ""
    return {"requestBody": {"required": True, "description": note + "JSON",
                            "content": {"application/json": {"schema": schema}}}}
