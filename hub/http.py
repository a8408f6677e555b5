"""HTTP details shared by the hub's endpoints: bounded body reading, gzip, answers by word, ETags."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from hub.documents import SignedDocument
from protocol.wire import HEADER_DATE, HEADER_HUB_SIGNATURE, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, MAX_BODY_BYTES

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger("hub")
MAX_JSON_DEPTH = 32  # a heartbeat nests 3 deep, a batch 3: anything far deeper is an attack
ENROL_MAX_BODY_BYTES = 1024  # code (64) + key (44) + a 100-letter name JSON-escaped (600) + field names
_INT64 = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    """What one hub process lets clients take: connections, time between two pieces of a body, memory.

    A 4 MB batch over a rural link at 100 kbit/s takes five minutes but never pauses for long, so
    the body timeout is between two reads, not for the whole body. The budget caps the request
    bodies one process holds at once: past it, the answer is 503 with Retry-After (the kiosk tries
    again) instead of memory growing with every connection an attacker opens.
    """

    max_connections: int = 1000
    body_timeout_s: float = 60.0
    body_budget_bytes: int = 64 * 1024 * 1024
    keep_alive_s: float = 30.0


class BodyBudget:
    """Bytes of request bodies held by this process (the event loop's own: no lock needed)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False when that would pass the limit."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        """Release what ``take`` reserved."""
        self.held -= size


BUSY_RETRY_AFTER_S = 5


class Refused(Exception):
    """Answer ``status`` with ``{"error": word}`` (and optional headers); nothing is stored."""

    def __init__(self, status: int, word: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(word)
        self.status = status
        self.word = word
        self.headers = headers or {}


async def read_capped(request: Request, limit: int) -> bytes:
    """A small body (a back-office form or upload), refused 413 past ``limit`` whatever it declares."""
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise Refused(413, "too_large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, "too_large")
    return body


def refusal(exc: Refused) -> JSONResponse:
    """The JSON answer for a refusal."""
    return JSONResponse({"error": exc.word}, status_code=exc.status, headers=exc.headers)


def body_reader(limit: int, limits: Limits, budget: BodyBudget) -> Callable[[Request], AsyncIterator[bytes]]:
    """A dependency reading the body as sent: 413 past ``limit`` (whatever it claims), 408 when the
    client pauses longer than the body timeout, 503 busy when this process holds too much already.
    The bytes are given back to the budget once the answer is sent."""

    async def read_body(request: Request) -> AsyncIterator[bytes]:
        declared = request.headers.get("content-length")
        expected = int(declared) if declared is not None and declared.isdigit() else 0
        if expected > limit:
            raise Refused(413, "too_large")
        held = size = 0
        try:
            if not budget.take(expected):
                raise _busy(request, budget)
            held = expected
            chunks, stream = [], request.stream().__aiter__()
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(stream), limits.body_timeout_s)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    log.warning("client %s paused over %.0f s after %d bytes of %s %s: dropped", _peer(request),
                                limits.body_timeout_s, size, request.method, request.url.path)
                    raise Refused(408, "body_timeout", {"Connection": "close"}) from None
                size += len(chunk)
                if size > limit:
                    raise Refused(413, "too_large")
                if size > held:  # more than declared (or no length given): reserve as it grows
                    if not budget.take(size - held):
                        raise _busy(request, budget)
                    held = size
                chunks.append(chunk)
            yield b"".join(chunks)
        except ClientDisconnect:
            # Nobody is left to answer: one line for the operator, no traceback.
            log.warning("client %s gone after %d bytes of the body of %s %s", _peer(request), size,
                        request.method, request.url.path)
            raise Refused(400, "incomplete_body") from None
        finally:
            budget.give_back(held)

    return read_body


def _busy(request: Request, budget: BodyBudget) -> Refused:
    log.warning("busy: %d bytes of bodies held, %s %s from %s answered 503", budget.held, request.method,
                request.url.path, _peer(request))
    return Refused(503, "busy", {"Retry-After": str(BUSY_RETRY_AFTER_S)})


def _peer(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else "?"


def signed_path(request: Request) -> str:
    """The path and query exactly as on the request line, which is what the kiosk signed."""
    path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    query = request.scope.get("query_string", b"")
    return (path + (b"?" + query if query else b"")).decode("latin-1")


class _BadNumber(Exception):
    """A number no field of the protocol can hold: infinite, NaN, or past 64 bits."""


def _no_constant(_name: str) -> Any:
    raise _BadNumber  # NaN, Infinity, -Infinity: not JSON at all, Python's parser takes them


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as infinity
        raise _BadNumber
    return value


def _int64(text: str) -> int:
    if len(text) > 20:  # before int(), which is slow on (and refuses) thousands of digits
        raise _BadNumber
    value = int(text)
    if not -_INT64 - 1 <= value <= _INT64:  # SQLite's integers, and every count the protocol has
        raise _BadNumber
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def decoded_json(request: Request, body: bytes, limit: int = MAX_BODY_BYTES) -> Any:
    """The body uncompressed (gzip allowed) and parsed: 413 past ``limit``, 400 when it is not JSON we can hold.

    400 words: ``bad_gzip``, ``unsupported_encoding``, ``malformed_json``, ``too_deep`` (nested more than
    ``MAX_JSON_DEPTH``), ``bad_number`` (NaN, infinite, or an integer past 64 bits).
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise Refused(400, "bad_gzip") from None
        if len(body) > limit or inflater.unconsumed_tail:  # a gzip bomb stops here
            raise Refused(413, "too_large")
        if not inflater.eof or inflater.unused_data:  # cut short, or bytes after the stream we would ignore
            raise Refused(400, "bad_gzip")
    elif encoding != "identity":
        raise Refused(400, "unsupported_encoding")
    try:
        value = json.loads(body, parse_constant=_no_constant, parse_float=_finite, parse_int=_int64)
    except RecursionError:
        raise Refused(400, "too_deep") from None
    except _BadNumber:
        raise Refused(400, "bad_number") from None
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "malformed_json") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise Refused(400, "too_deep")
    return value


def decoded_model(request: Request, body: bytes, model: type[M], limit: int = MAX_BODY_BYTES) -> M:
    """``decoded_json`` checked against ``model``: 400 ``bad_schema`` when it does not fit."""
    try:
        return model.model_validate(decoded_json(request, body, limit))
    except ValidationError:
        raise Refused(400, "bad_schema") from None


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
