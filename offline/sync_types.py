"""The values that pass between the outbox, the hub client, the sync engine and the screens."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from protocol.wire import ItemResult


class SubmissionState(enum.Enum):
    """Where a submission is on its way to the hub."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # staff cancelled it before it left (kiosk.staff); never sent


class HubState(enum.Enum):
    """What the hub's back office says about a delivered request ("my requests")."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REJECTED = "rejected"  # the agency turned the request down; its life on the kiosk is over (CLOSED)


@dataclass(frozen=True)
class Submission:
    """A submission's clear-text facts (the personal data stays sealed)."""

    id: str
    receipt_no: str
    service: str
    state: SubmissionState
    created_at: dt.datetime
    state_changed_at: dt.datetime
    reason: str | None = None
    synthetic: bool = False
    hub_state: HubState | None = None
    hub_reason: str | None = None
    tracking_token: str | None = None  # public and random: the receipt's QR opens the hub's page for it
    centre: str | None = None  # the community centre it was made at


@dataclass(frozen=True)
class OutgoingItem:
    """A claimed submission as the hub client sends it: clear fields and the sealed payload."""

    id: str
    receipt_no: str
    service: str
    created_at: str
    synthetic: bool
    sealed: bytes
    tracking_token: str | None = None
    language: str | None = None
    centre: str | None = None


@dataclass(frozen=True)
class ItemOutcome:
    """The hub's verdict on one sent item."""

    id: str
    result: ItemResult
    reason: str | None = None


@dataclass(frozen=True)
class HubStatus:
    """A change the hub reports for one of this kiosk's requests."""

    id: str
    state: HubState
    reason: str | None
    changed_at: str | None


class SyncState(enum.Enum):
    """What the kiosk shows about its link to the hub."""

    OFFLINE = "offline"
    ONLINE = "online"
    SYNCING = "syncing"


@dataclass(frozen=True)
class SyncStatus:
    """One event for the UI: the state, how many requests wait, the last success, the last error's key."""

    state: SyncState
    queued: int
    last_success: dt.datetime | None = None
    last_error: str | None = None
