"""The hub's HTTP API (FastAPI): the server side of ``docs/sync-protocol.md``; OpenAPI at ``/openapi.json``."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy.exc import OperationalError

from hub import documents, enrolment, intake, metrics, status_page
from hub.admission import Admission
from hub.http import (
    BUSY_RETRY_AFTER_S,
    ENROL_MAX_BODY_BYTES,
    SIGNED_HEADERS_DOC,
    BodyBudget,
    Limits,
    Refused,
    body_reader,
    decoded_json,
    decoded_model,
    document_response,
    json_body_doc,
    refusal,
    signed_path,
)
from hub.keys import HubKeys
from hub.models import (
    BatchAnswer,
    CrlBundle,
    EnrollAnswer,
    EnrollRequest,
    Heartbeat,
    HeartbeatAnswer,
    MyRequestsQuery,
    NonceAnswer,
    Problem,
    RequestsAnswer,
    RoleList,
    StatusesAnswer,
    SubmissionItem,
)
from hub.office import pages as office
from hub.presence import NONCE_PURPOSE, NonceIssuer, PresenceRefused, PresenceVerifier, record_session
from hub.store import HubDatabase
from protocol import __version__
from protocol.wire import (
    API_PREFIX,
    HEADER_HUB_SIGNATURE,
    MAX_BATCH_ITEMS,
    MAX_BODY_BYTES,
    SignatureProblem,
    SignedBy,
    sign_answer,
    verify_request,
)

log = logging.getLogger("hub")
_JSON_400 = ("malformed_json | too_deep | bad_number | bad_schema | bad_gzip | unsupported_encoding | "
             "incomplete_body")
_ANSWERS: dict[int, dict[str, Any]] = {
    304: {"description": "Not Modified: the kiosk has this ETag already"},
    400: {"model": Problem, "description": _JSON_400},
    408: {"model": Problem, "description": "body_timeout: the client paused too long while sending the body"},
    401: {"model": Problem, "description": "missing_headers | unknown_kiosk | bad_date | "
                                           "stale_date | bad_nonce | bad_signature | replay"},
    404: {"model": Problem, "description": "not_published"},
    413: {"model": Problem, "description": "too_large"},
    503: {"model": Problem, "description": "busy (too many bodies held, or the database locked): retry after "
                                           "Retry-After seconds",
          "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}},
}


def _answers(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route; ``e400="..."`` replaces a code's description."""
    chosen: dict[int | str, dict[str, Any]] = {code: dict(_ANSWERS[code]) for code in codes}
    for key, text in described.items():
        chosen[int(key.removeprefix("e"))]["description"] = text
    return chosen


_SIGNED_ANSWERS = (401, 408, 413, 503)  # every signed route reads a body (at most 4 MB) and claims a nonce
_SIGNED: dict[str, Any] = {"parameters": SIGNED_HEADERS_DOC}
_HUB_SIGNED = {HEADER_HUB_SIGNATURE: {"schema": {"type": "string"}, "description":
               "the hub's Ed25519 signature over the request's nonce, the status and this body "
               "(protocol.wire.sign_answer); a kiosk acts on the answer only when it verifies"}}
_BATCH_SCHEMA = {"type": "object", "required": ["items"], "properties": {
    "items": {"type": "array", "maxItems": MAX_BATCH_ITEMS, "items": SubmissionItem.model_json_schema()}}}


class HubApi:
    """The state behind the endpoints: the database, the hub's keys, the nonce ledger."""

    def __init__(self, store: HubDatabase, keys: HubKeys, presence: PresenceVerifier | None = None) -> None:
        self.store = store
        self.keys = keys
        self.nonces = presence.nonces if presence else NonceIssuer(keys.derived_key(NONCE_PURPOSE), store.clock)
        self.admission = Admission(keys, presence)
        self.replays = intake.NonceLedger()

    def authenticate(self, request: Request, body: bytes) -> SignedBy:
        """Check the signature headers (SignatureProblem → 401); the nonce is claimed in ``write``."""
        return verify_request(request.headers, request.method, signed_path(request), body,
                              lambda key_id: enrolment.verify_key_for(self.store, key_id), self.store.clock())

    def check_headers(self, request: Request) -> None:
        """Before the body is read: a known kiosk, a fresh date, a well-formed nonce (else 401).

        Checked by verifying against an empty body, so the rules stay ``protocol.wire``'s own; only
        ``bad_signature`` waits for the body (the signature covers it).
        """
        try:
            self.authenticate(request, b"")
        except SignatureProblem as exc:
            if exc.reason != "bad_signature":
                raise

    def claim(self, db: Any, signed: SignedBy) -> None:
        """Record the nonce in the current transaction (a replay → 401)."""
        self.replays.claim(db, signed, self.store.clock())

    def signed_answer(self, signed: SignedBy, value: Any, status: int = 200) -> Response:
        """A JSON answer carrying the hub's signature over the request's nonce, the status and the body."""
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return Response(body, status_code=status, media_type="application/json",
                        headers={HEADER_HUB_SIGNATURE: sign_answer(self.keys.sign_key, signed.nonce, status, body)})


def create_app(store: HubDatabase, keys: HubKeys, limits: Limits | None = None, *, public_url: str | None = None,
               sms: bool = False, presence: PresenceVerifier | None = None) -> FastAPI:
    """The ASGI application for one hub database and its keys.

    ``public_url`` is where villagers' phones reach this hub (the receipts' QR codes open
    ``<public_url>/r/<kiosk>/<token>``); kiosks learn it, and whether the hub sends SMS, at enrolment.
    ``presence`` (``hub.presence.verifier_for``) checks each request's proof that the card was there;
    without it (no trust anchors) requests are taken on the kiosk's signature alone and "my requests"
    is refused.
    """
    limits = limits or Limits()
    page_views = status_page.RateLimit()
    api = HubApi(store, keys, presence)
    app = FastAPI(title="Community-kiosk reference hub", version=__version__,
                  description="Server side of the kiosk sync protocol v1. Signing: `protocol/wire.py`; "
                  "the human contract: `docs/sync-protocol.md`.")
    app.state.hub = api
    budget = BodyBudget(limits.body_budget_bytes)
    raw_body = body_reader(MAX_BODY_BYTES, limits, budget)
    enrol_body = body_reader(ENROL_MAX_BODY_BYTES, limits, budget)

    def signed_headers(request: Request) -> None:
        # A plain def: FastAPI runs it in the thread pool, so the key lookup never blocks the event loop.
        api.check_headers(request)

    async def signed_body(request: Request, _checked: None = Depends(signed_headers),
                          body: bytes = Depends(raw_body)) -> bytes:
        """The body of a signed call, read only once its headers name a kiosk and a fresh date."""
        return body

    metrics.install(app, store)
    office.install(app, store, keys, presence, secure_cookies=bool(public_url and public_url.startswith("https:")))
    # Verdicts and status pages shrink to a third on the slow rural links; documents stay signed
    # over their uncompressed bytes (the client's transport undoes the compression).
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return refusal(exc)

    @app.exception_handler(SignatureProblem)
    async def _unsigned(_request: Request, exc: SignatureProblem) -> JSONResponse:
        return JSONResponse({"error": exc.reason}, status_code=401)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, _exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "bad_request"}, status_code=400)

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, exc: OperationalError) -> JSONResponse:
        # SQLite locked by the back office for a moment, PostgreSQL restarting or failing over: nothing
        # was stored (the transaction rolled back), so the kiosk simply tries again after this.
        log.warning("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse({"error": "busy"}, status_code=503, headers={"Retry-After": str(BUSY_RETRY_AFTER_S)})

    @app.get("/healthz", tags=["hub"], summary="liveness, unsigned (technicians: reachability and latency)")
    def health() -> dict[str, str]:
        """Unsigned liveness answer."""
        return {"status": "ok", "version": __version__}

    @app.post(f"{API_PREFIX}/enroll", tags=["kiosk"], status_code=201, response_model=EnrollAnswer,
              responses={**_answers(400, 408, 413, 503, e413="too_large (1 KB, before or after gzip)"),
                         403: {"model": Problem, "description": "bad_code | revoked"}},
              openapi_extra=json_body_doc(EnrollRequest.model_json_schema()))
    def enroll(request: Request, body: bytes = Depends(enrol_body)) -> dict[str, Any]:
        """Spend a one-time code: the kiosk gets its id and pins the hub's keys (the only unsigned call)."""
        asked = decoded_model(request, body, EnrollRequest, ENROL_MAX_BODY_BYTES)
        try:
            kiosk_id = enrolment.enrol(store, asked.code, base64.b64decode(asked.device_public_key), asked.name)
        except enrolment.EnrolmentRefused as exc:
            raise Refused(403, exc.reason) from None
        return {"kiosk_id": kiosk_id, **keys.public_b64(), "hub_public_url": public_url, "sms_notifications": sms}

    @app.post(f"{API_PREFIX}/submissions", tags=["kiosk"], response_model=BatchAnswer,
              responses={**_answers(400, *_SIGNED_ANSWERS,
                                    e413="too_many_items | too_large (4 MB, before or after gzip)"),
                         200: {"description": "one verdict per item, in the order sent", "headers": _HUB_SIGNED}},
              openapi_extra={**_SIGNED, **json_body_doc(_BATCH_SCHEMA, gzip=True)})
    def submissions(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """Store a batch; each item is accepted, a duplicate (already had) or rejected (bad shape)."""
        signed = api.authenticate(request, body)
        batch = decoded_json(request, body)
        items = batch.get("items") if isinstance(batch, dict) else None
        if not isinstance(items, list) or set(batch) != {"items"}:
            raise Refused(400, "bad_schema")
        if len(items) > MAX_BATCH_ITEMS:
            raise Refused(413, "too_many_items")
        verdicts = [api.admission.check(signed.key_id, raw) for raw in items]  # before the write lock: CPU only
        with store.write() as db:
            api.claim(db, signed)
            results = intake.accept_batch(db, signed.key_id, items, store.now(), verdicts)
        metrics.count_verdicts(results)
        # Straight to JSON: the verdicts are built by the hub itself, no need to validate them again.
        return api.signed_answer(signed, {"results": results})

    @app.get(f"{API_PREFIX}/statuses", tags=["kiosk"], response_model=StatusesAnswer,
             responses={**_answers(400, *_SIGNED_ANSWERS, e400="bad_cursor"),
                        200: {"description": "changes after the cursor", "headers": _HUB_SIGNED}},
             openapi_extra=_SIGNED)
    def statuses(request: Request, since: str = "", body: bytes = Depends(signed_body)) -> Response:
        """This kiosk's submissions whose state the back office changed after the cursor."""
        signed = api.authenticate(request, body)
        try:
            cursor = intake.parse_cursor(since)
        except ValueError:
            raise Refused(400, "bad_cursor") from None
        with store.write() as db:
            api.claim(db, signed)
            page = intake.statuses_since(db, signed.key_id, cursor)
        return api.signed_answer(signed, page)

    @app.post(f"{API_PREFIX}/presence-nonce", tags=["kiosk"], response_model=NonceAnswer,
              responses={**_answers(*_SIGNED_ANSWERS),
                         200: {"description": "a nonce for the next card login", "headers": _HUB_SIGNED}},
              openapi_extra=_SIGNED)
    def presence_nonce(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """A nonce for the challenge the card signs at the next login: it proves the session fresh."""
        signed = api.authenticate(request, body)
        with store.write() as db:
            api.claim(db, signed)
        nonce, expires = api.nonces.issue(signed.key_id)
        return api.signed_answer(signed, {"nonce": nonce, "expires_at": expires.isoformat()})

    @app.post(f"{API_PREFIX}/my-requests", tags=["kiosk"], response_model=RequestsAnswer,
              responses={**_answers(400, *_SIGNED_ANSWERS),
                         403: {"model": Problem, "description": "presence_unchecked (the hub has no trust anchors) "
                               "| presence_... (the card's token does not hold: reason)"},
                         200: {"description": "the citizen's requests from every centre", "headers": _HUB_SIGNED}},
              openapi_extra={**_SIGNED, **json_body_doc(MyRequestsQuery.model_json_schema())})
    def my_requests(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """"My requests": the requests of the card holder at the kiosk now, from every centre."""
        signed = api.authenticate(request, body)
        asked = decoded_model(request, body, MyRequestsQuery)
        if api.admission.presence is None:
            raise Refused(403, "presence_unchecked")
        try:
            presence = api.admission.presence.verify(asked.presence, kiosk_id=signed.key_id, fresh_at=store.clock())
            with store.write() as db:
                api.claim(db, signed)
                record_session(db, presence, signed.key_id, store.now())
                found = intake.requests_of(db, api.admission.citizen(presence.personal_number), signed.key_id)
        except PresenceRefused as exc:
            raise Refused(403, exc.reason) from None
        return api.signed_answer(signed, {"requests": found})

    def _document(request: Request, body: bytes, name: str) -> Response:
        signed = api.authenticate(request, body)
        with store.write() as db:
            api.claim(db, signed)
        return document_response(request, documents.published(store, name))

    @app.get(f"{API_PREFIX}/catalogue", tags=["kiosk"], responses=_answers(304, 404, *_SIGNED_ANSWERS),
             openapi_extra=_SIGNED, response_class=Response)
    def catalogue(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """The service catalogue as published, with ``ETag`` and ``X-Hub-Signature``; honours ``If-None-Match``."""
        return _document(request, body, documents.CATALOGUE)

    @app.get(f"{API_PREFIX}/crl", tags=["kiosk"], response_model=CrlBundle,
             responses=_answers(304, 404, *_SIGNED_ANSWERS), openapi_extra=_SIGNED,
             response_class=Response)
    def crl(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """The CRL bundle, with ``ETag`` and ``X-Hub-Signature``; honours ``If-None-Match``."""
        return _document(request, body, documents.CRL)

    @app.get(f"{API_PREFIX}/roles", tags=["kiosk"], response_model=RoleList, responses=_answers(*_SIGNED_ANSWERS),
             openapi_extra=_SIGNED, response_class=Response)
    def roles(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """The staff and technician list for this kiosk, freshly issued and signed (``X-Hub-Signature``)."""
        signed = api.authenticate(request, body)
        with store.write() as db:
            api.claim(db, signed)
        return document_response(request, documents.role_list(store, keys, signed.key_id))

    @app.post(f"{API_PREFIX}/heartbeat", tags=["kiosk"], response_model=HeartbeatAnswer,
              responses={**_answers(400, *_SIGNED_ANSWERS),
                         200: {"description": "what the hub makes of the kiosk", "headers": _HUB_SIGNED}},
              openapi_extra={**_SIGNED, **json_body_doc(Heartbeat.model_json_schema(), gzip=True)})
    def heartbeat(request: Request, body: bytes = Depends(signed_body)) -> Response:
        """The kiosk's health, for the fleet view; the answer says whether its audit chain went back or forked."""
        signed = api.authenticate(request, body)
        beat = decoded_model(request, body, Heartbeat)
        with store.write() as db:
            api.claim(db, signed)
            audit_problem = intake.record_heartbeat(db, signed.key_id, beat, store.now())
        return api.signed_answer(signed, {"audit_problem": audit_problem})

    @app.get("/r/font/{name}", include_in_schema=False)
    def page_font(name: str) -> Response:
        """The bundled font, for phones without Georgian or Armenian letters (the page asks only then)."""
        if name not in ("KioskSans-Regular.ttf", "KioskSans-Bold.ttf"):
            raise Refused(404, "not_found")
        return FileResponse(status_page.FONT_DIR / name, media_type="font/ttf",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    @app.get("/r/{kiosk_id}/{token}", include_in_schema=False)
    def request_page(request: Request, kiosk_id: str, token: str, lang: str | None = None) -> Response:
        """The public page behind a receipt's QR code: the request's state in words, no personal data."""
        client = request.headers.get("x-real-ip") or (request.client.host if request.client else "?")
        # The request's own language unless the villager picked another; the phone's only for a page not found.
        chosen = lang if lang in status_page.LANGUAGES else None
        fallback = chosen or status_page.preferred_language(request.headers.get("accept-language")) or "ka"
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": "default-src 'none'; style-src "
                   "'unsafe-inline'; font-src 'self'; img-src 'self'", "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer"}
        if not page_views.allow(client):
            return Response(status_page.render(None, fallback, busy=True), status_code=429,
                            media_type="text/html; charset=utf-8", headers={**headers, "Retry-After": "60"})
        view = status_page.find(store, kiosk_id, token, chosen) if len(token) <= 64 else None
        return Response(status_page.render(view, fallback), status_code=200 if view else 404,
                        media_type="text/html; charset=utf-8", headers=headers)

    generated = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI documents a 422 for every route with parameters; this hub answers those with 400 itself.
        if app.openapi_schema is None:
            document = generated()
            for operations in document["paths"].values():
                for operation in operations.values():
                    operation["responses"].pop("422", None)
            for unused in ("HTTPValidationError", "ValidationError"):
                document.get("components", {}).get("schemas", {}).pop(unused, None)
        return app.openapi_schema or generated()

    app.openapi = openapi  # type: ignore[method-assign]
    return app
