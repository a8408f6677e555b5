"""The kiosk's side of the sync protocol: one signed HTTP call per method, every failure typed.

``HubClient`` works over ONE injected ``requests.Session`` (kept alive between calls, so a
batch on a slow rural link does not pay a TCP and TLS handshake each time). Each call is signed
with the device key (``protocol.wire.sign_request``); documents meant for offline use are
checked against the hub's pinned signing key before anyone sees them. Nothing the hub answers
can crash the caller: every failure becomes a ``HubError`` with a translation key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import gzip
import json
import logging
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nacl.signing import SigningKey, VerifyKey

from offline.sync_types import HubState, HubStatus, ItemOutcome, OutgoingItem
from protocol.wire import (
    API_PREFIX,
    HEADER_HUB_SIGNATURE,
    HEADER_NONCE,
    ItemResult,
    canonical_json,
    sign_request,
    verify_answer,
    verify_document,
)

if TYPE_CHECKING:
    import requests  # imported where a request is made: it is not needed before the first frame

log = logging.getLogger(__name__)

# a hub asking for a longer pause is believed only this far (a typo must not silence a kiosk for weeks)
MAX_RETRY_AFTER_S = 6 * 3600.0


class HubError(Exception):
    """The hub could not be used for this call; ``retry_after`` is how long it asked us to wait, if it did."""

    translation_key = "error.hub"
    retry_after: float | None = None

    @property
    def params(self) -> dict[str, object]:
        """Values the translated message may use."""
        return {}


class HubUnreachable(HubError):
    """No answer: no route, refused, reset, timed out, or the answer broke off."""

    translation_key = "error.hub_unreachable"


class HubUnauthorized(HubError):
    """401: the hub does not accept this kiosk's signature; ``reason`` is the hub's word for why."""

    translation_key = "error.hub_unauthorized"

    def __init__(self, reason: str) -> None:
        super().__init__(f"hub refused the signature: {reason}")
        self.reason = reason
        if reason in ("stale_date", "bad_date"):
            self.translation_key = "error.hub_clock"  # the kiosk's clock is wrong: a technician can fix that


class HubRefused(HubError):
    """Another 4xx: the hub understood and said no (``reason`` is its short word, if it gave one)."""

    translation_key = "error.hub_refused"

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"hub answered {status}: {reason}")
        self.status, self.reason = status, reason


class HubPayloadTooLarge(HubRefused):
    """413: the batch is over the hub's limits; send fewer items."""

    translation_key = "error.hub_refused"


class HubBusy(HubError):
    """429 or 503: the hub asked us to come back later."""

    translation_key = "error.hub_busy"

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"hub busy ({status}), retry after {retry_after}")
        self.status, self.retry_after = status, retry_after


class HubServerError(HubError):
    """5xx: the hub failed; try again later."""

    translation_key = "error.hub_server"

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"hub failed with {status}")
        self.status, self.retry_after = status, retry_after


class HubAnswerInvalid(HubError):
    """The answer is not what the protocol says (garbage, bad JSON, wrong shape, unsigned document)."""

    translation_key = "error.hub_answer_invalid"


@dataclass(frozen=True)
class HubIdentity:
    """Who this kiosk is to the hub, and the hub key it pinned at enrolment."""

    kiosk_id: str
    device_key: SigningKey
    hub_sign_key: VerifyKey


@dataclass(frozen=True)
class SignedDocument:
    """A document whose ``X-Hub-Signature`` verified: the exact bytes, the signature, its ETag."""

    body: bytes
    signature: str
    etag: str | None


@dataclass(frozen=True)
class StatusPage:
    """Status changes after a cursor, the cursor to ask from next, and whether more are waiting."""

    statuses: list[HubStatus]
    cursor: str
    more: bool


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value) if value.isdigit() else (
            email.utils.parsedate_to_datetime(value) - now).total_seconds()
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def raise_for_answer(resp: requests.Response, now: dt.datetime) -> None:
    """Turn any status the caller did not expect into its typed ``HubError``."""
    status = resp.status_code
    retry_after = parse_retry_after(resp.headers.get("Retry-After"), now)
    if status in (429, 503):
        raise HubBusy(status, retry_after)
    if status >= 500:
        raise HubServerError(status, retry_after)
    reason = _error_word(resp)
    if status == 401:
        raise HubUnauthorized(reason)
    if status == 413:
        raise HubPayloadTooLarge(status, reason)
    if 400 <= status < 500:
        raise HubRefused(status, reason)
    raise HubAnswerInvalid(f"unexpected HTTP status {status}")


def _error_word(resp: requests.Response) -> str:
    try:
        word = resp.json().get("error")
    except (ValueError, AttributeError):
        return "unknown"
    return word[:64] if isinstance(word, str) else "unknown"


def json_answer(resp: requests.Response) -> dict[str, Any]:
    """The body as a JSON object, or ``HubAnswerInvalid``."""
    try:
        value = json.loads(resp.content)
    except (ValueError, UnicodeDecodeError):
        raise HubAnswerInvalid("answer is not JSON") from None
    if not isinstance(value, dict):
        raise HubAnswerInvalid("answer is not a JSON object")
    return value


def send(session: requests.Session, method: str, url: str, *, body: bytes, headers: dict[str, str],
         timeout: float) -> requests.Response:
    """One HTTP exchange; any transport failure becomes ``HubUnreachable``."""
    import requests

    try:
        return session.request(method, url, data=body or None, headers=headers, timeout=timeout,
                               allow_redirects=False)
    except requests.RequestException as exc:
        raise HubUnreachable(type(exc).__name__) from None


class HubClient:
    """Signed calls to one hub over one kept-alive session."""

    def __init__(self, session: requests.Session, base_url: str, identity: HubIdentity, *,
                 clock: Callable[[], dt.datetime], timeout_s: float = 15.0) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._prefix = urllib.parse.urlsplit(self._base).path  # a hub mounted under a path signs that too
        self._identity = identity
        self._clock = clock
        self._timeout = timeout_s

    def _call(self, method: str, path: str, *, query: dict[str, str] | None = None, body: bytes = b"",
              gzipped: bool = False, headers: dict[str, str] | None = None,
              ok: Sequence[int] = (200,), signed_answer: bool = False) -> requests.Response:
        """One signed call; with ``signed_answer`` the hub's signature over the answer (bound to this
        request's nonce) must verify with the pinned key, or ``HubAnswerInvalid``: an answer that
        would change this kiosk's state is believed only from the hub it enrolled with."""
        target = self._prefix + API_PREFIX + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        if gzipped:
            body = gzip.compress(body, compresslevel=6, mtime=0)
        now = self._clock()
        signed = sign_request(self._identity.device_key, self._identity.kiosk_id, method, target, body, now)
        all_headers = {**(headers or {}), **signed}
        if body:
            all_headers["Content-Type"] = "application/json"
        if gzipped:
            all_headers["Content-Encoding"] = "gzip"
        resp = send(self._session, method, self._base + target[len(self._prefix):], body=body,
                    headers=all_headers, timeout=self._timeout)
        if resp.status_code not in ok:
            raise_for_answer(resp, now)
        if signed_answer and not verify_answer(self._identity.hub_sign_key, signed[HEADER_NONCE], resp.status_code,
                                               resp.content, resp.headers.get(HEADER_HUB_SIGNATURE, "")):
            raise HubAnswerInvalid(f"{method} {path}: the answer is not signed by the pinned hub key")
        return resp

    def submit(self, items: Sequence[OutgoingItem]) -> list[ItemOutcome]:
        """Send one batch (gzip); the hub's verdict for each item, in the order sent."""
        body = canonical_json({"items": [_wire_item(i) for i in items]})
        answer = json_answer(self._call("POST", "/submissions", body=body, gzipped=True, signed_answer=True))
        results = answer.get("results")
        if not isinstance(results, list) or len(results) != len(items):
            raise HubAnswerInvalid("results do not match the batch")
        outcomes = []
        for item, result in zip(items, results, strict=True):
            if not isinstance(result, dict) or result.get("id") not in (item.id, None):
                raise HubAnswerInvalid("results are not in the order sent")
            try:
                verdict = ItemResult(result.get("result"))
            except ValueError:
                raise HubAnswerInvalid("unknown item result") from None
            reason = result.get("reason")
            outcomes.append(ItemOutcome(item.id, verdict, reason if isinstance(reason, str) else None))
        return outcomes

    def statuses(self, since: str | None) -> StatusPage:
        """Changes to this kiosk's requests after ``since`` (None: from the start)."""
        answer = json_answer(self._call("GET", "/statuses", query={"since": since or ""}, signed_answer=True))
        raw, cursor = answer.get("statuses"), answer.get("cursor")
        if not isinstance(raw, list) or not isinstance(cursor, str):
            raise HubAnswerInvalid("statuses answer has the wrong shape")
        try:
            statuses = [HubStatus(str(s["id"]), HubState(s["state"]), s.get("reason"), s.get("changed_at"))
                        for s in raw]
        except (TypeError, KeyError, ValueError):
            raise HubAnswerInvalid("a status has the wrong shape") from None
        return StatusPage(statuses, cursor, bool(answer.get("more")))

    def presence_nonce(self) -> str:
        """A fresh nonce for the next card login's challenge (``POST /v1/presence-nonce``)."""
        answer = json_answer(self._call("POST", "/presence-nonce", signed_answer=True))
        nonce = answer.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise HubAnswerInvalid("presence nonce answer has the wrong shape")
        return nonce

    def my_requests(self, presence: dict[str, Any]) -> list[dict[str, Any]]:
        """The card holder's requests from every centre ("my requests" online), shown the session's proof."""
        answer = json_answer(self._call("POST", "/my-requests", body=canonical_json({"presence": presence}),
                                        signed_answer=True))
        found = answer.get("requests")
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            raise HubAnswerInvalid("requests answer has the wrong shape")
        return found

    def document(self, name: str, etag: str | None = None) -> SignedDocument | None:
        """``catalogue``, ``crl`` or ``roles``, signature checked; None when unchanged since ``etag``."""
        headers = {"If-None-Match": etag} if etag else {}
        resp = self._call("GET", "/" + name, headers=headers, ok=(200, 304))
        if resp.status_code == 304:
            return None
        signature = resp.headers.get(HEADER_HUB_SIGNATURE, "")
        if not verify_document(self._identity.hub_sign_key, resp.content, signature):
            raise HubAnswerInvalid(f"{name}: hub signature does not verify")
        return SignedDocument(resp.content, signature, resp.headers.get("ETag"))

    def heartbeat(self, beat: dict[str, Any]) -> str | None:
        """Tell the hub how this kiosk is; returns the hub's word on this kiosk's audit chain
        (``went_back`` or ``forked`` when it was cut or rewritten since the hub last saw it), or None."""
        answer = json_answer(self._call("POST", "/heartbeat", body=canonical_json(beat), signed_answer=True))
        problem = answer.get("audit_problem")
        return problem if isinstance(problem, str) else None


def _wire_item(item: OutgoingItem) -> dict[str, Any]:
    """One item as the hub takes it; the public token, language and centre only when the kiosk has them."""
    wire: dict[str, Any] = {
        "id": item.id, "receipt_no": item.receipt_no, "service": item.service, "created_at": item.created_at,
        "synthetic": item.synthetic,
        "sealed": base64.b64encode(item.sealed).decode("ascii")}
    for name in ("tracking_token", "language", "centre"):
        if getattr(item, name):
            wire[name] = getattr(item, name)
    return wire


def decode_b64_key(text: object) -> bytes:
    """A 32-byte key from the hub's base64, or ``HubAnswerInvalid``."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise HubAnswerInvalid("key is not base64") from None
    if len(raw) != 32:
        raise HubAnswerInvalid("key is not 32 bytes")
    return raw
