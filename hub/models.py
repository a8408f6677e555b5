"""The protocol's bodies as pydantic models: they validate what arrives and make the OpenAPI document."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import uuid
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.text import find_control, has_control


def _plain(value: str) -> str:
    """Kiosk-supplied text the back office will print: no control, bidi or line-separator characters."""
    if has_control(value):
        raise ValueError("control character")
    return value


class HubState(enum.Enum):
    """A submission's state at the hub, as the statuses feed reports it."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REJECTED = "rejected"


class EnrollRequest(BaseModel):
    """``POST /v1/enroll``: a one-time code and the kiosk's new Ed25519 public key."""

    code: StrictStr = Field(min_length=4, max_length=64)
    device_public_key: StrictStr = Field(description="base64 of the 32-byte Ed25519 public key")
    name: StrictStr = Field(default="", max_length=100)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return _plain(value)

    @field_validator("device_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if len(base64.b64decode(value, validate=True)) != 32:
            raise ValueError("a key is 32 bytes")
        return value


class EnrollAnswer(BaseModel):
    """The kiosk id to sign with, and the hub's keys to pin."""

    kiosk_id: str
    hub_seal_public_key: str
    hub_sign_public_key: str
    hub_public_url: str | None = Field(default=None, description="where phones reach the hub: QR codes open "
                                       "<hub_public_url>/r/<kiosk_id>/<tracking_token>")
    sms_notifications: bool = Field(default=False, description="whether the hub texts villagers when a state changes")


class SubmissionItem(BaseModel):
    """One sealed submission of a batch; a bad one is rejected alone, the rest are still stored."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr = Field(description="UUID made by the kiosk: the idempotency key for ever")
    receipt_no: StrictStr = Field(min_length=1, max_length=64)
    service: StrictStr = Field(min_length=1, max_length=64)
    created_at: StrictStr = Field(description="ISO 8601 with a time zone")
    citizen_key: StrictStr | None = Field(default=None, max_length=128,
                                          description="ignored: older kiosks sent their own citizen hash")
    synthetic: StrictBool = False
    sealed: StrictStr = Field(description="base64 of the libsodium sealed box", max_length=200_000)
    tracking_token: StrictStr | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{22,64}$",
        description="random public token (at least 128 bits, URL-safe base64): the receipt's QR opens /r/<token>")
    language: Literal["ka", "en", "ru", "az", "hy"] | None = Field(
        default=None, description="the villager's language at the kiosk: the status page's and the SMS's")
    centre: StrictStr | None = Field(default=None, max_length=100, description="the community centre's name")

    @field_validator("receipt_no", "service", "citizen_key", "centre")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        return None if value is None else _plain(value)

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if str(uuid.UUID(value)) != value:  # one spelling per id, or "unique" would not be
            raise ValueError("not a lower-case canonical UUID")
        return value

    @field_validator("created_at")
    @classmethod
    def _when(cls, value: str) -> str:
        if dt.datetime.fromisoformat(value).tzinfo is None:
            raise ValueError("no time zone")
        return value

    @field_validator("sealed")
    @classmethod
    def _sealed(cls, value: str) -> str:
        if len(base64.b64decode(value, validate=True)) < 48:  # ephemeral key + MAC
            raise ValueError("too short for a sealed box")
        return value


class SubmissionBatch(BaseModel):
    """``POST /v1/submissions`` (documentation: items are validated one by one)."""

    items: list[SubmissionItem]


class ItemVerdict(BaseModel):
    """The hub's verdict on one item, in the order sent."""

    id: str | None
    result: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class BatchAnswer(BaseModel):
    """One verdict per item sent."""

    results: list[ItemVerdict]


class StatusChange(BaseModel):
    """A submission whose state the back office changed."""

    id: str
    state: HubState
    reason: str | None
    changed_at: str


class StatusesAnswer(BaseModel):
    """Changes after the cursor; call again with ``cursor`` while ``more`` is true."""

    statuses: list[StatusChange]
    cursor: str
    more: bool = False


class CitizenRequest(BaseModel):
    """One of a citizen's requests, from any centre ("my requests")."""

    id: str | None = Field(description="the request's id when the asking kiosk made it, else null")
    receipt_no: str
    service: str
    centre: str
    state: HubState
    reason: str | None
    created_at: str
    changed_at: str


class RequestsAnswer(BaseModel):
    """A citizen's requests from every centre, newest first."""

    requests: list[CitizenRequest]


class MyRequestsQuery(BaseModel):
    """``POST /v1/my-requests``: the session's proof of presence, with a hub nonce at most minutes old."""

    model_config = ConfigDict(extra="forbid")

    presence: dict[str, Any] = Field(description="the card's token (protocol/presence.py), made with a hub nonce")


class NonceAnswer(BaseModel):
    """``POST /v1/presence-nonce``: a nonce for the next card login's challenge."""

    nonce: str
    expires_at: str


class Heartbeat(BaseModel):
    """``POST /v1/heartbeat``: the kiosk's health; unknown fields are kept for later versions."""

    model_config = ConfigDict(extra="allow")

    version: StrictStr = Field(max_length=64)
    queue: dict[str, Any] = Field(default_factory=dict)
    printer: StrictStr = Field(default="", max_length=200)
    reader: StrictStr = Field(default="", max_length=200)
    ratings: dict[str, int] = Field(default_factory=dict)
    audit_checkpoint: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_everywhere(cls, data: Any) -> Any:
        # Every string, known field or not, key or value: all of it is kept and shown in the fleet view.
        if find_control(data):
            raise ValueError("control character")
        return data


class HeartbeatAnswer(BaseModel):
    """What the hub makes of a kiosk's heartbeat."""

    audit_problem: Literal["went_back", "forked"] | None = Field(
        description="the kiosk's audit chain went back or was rewritten since the hub last saw it (sticky)")


class RoleEntry(BaseModel):
    """A staff member or technician, identified by their ID card's personal number."""

    personal_number: str
    role: Literal["staff", "technician"]
    name: str


class RoleList(BaseModel):
    """The signed role list kiosks cache for offline use."""

    roles: list[RoleEntry]
    issued_at: str
    expires_at: str


class CrlBundle(BaseModel):
    """The revocation lists kiosks check ID cards against."""

    crls: list[str]
    issued_at: str


class Problem(BaseModel):
    """Any 4xx answer: a short machine word."""

    error: str


def rejection_reason(exc: ValidationError) -> str:
    """A short reason naming the bad fields, e.g. ``invalid:id,sealed``."""
    fields = sorted({".".join(str(p) for p in err["loc"]) or "item" for err in exc.errors()})
    return "invalid:" + ",".join(fields)

