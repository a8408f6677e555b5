"""The citizen session: everything the kiosk holds about the person at it, and how it is wiped."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509

from kiosk.identity import Citizen
from kiosk.pin_flow import PinFlow
from kiosk.ports import IdCard, PinStatus
from kiosk.problem import Problem
from kiosk.submission import SubmissionResult
from protocol.catalogue import Service
from protocol.presence import PresenceToken

if TYPE_CHECKING:
    from kiosk.my_requests import MyRequestsResult


class Step(enum.Enum):
    """Where the villager is in the journey; each step has one screen."""

    ATTRACT = "attract"
    READING = "reading"
    PIN = "pin"
    PIN_BLOCKED = "pin_blocked"
    SERVICES = "services"
    INTRO = "intro"  # what a chosen service costs and needs, before its first question
    FORM = "form"
    CONFIRM = "confirm"
    SIGN = "sign"  # the signing PIN, for services that need a qualified signature
    PIN_CHANGE = "pin_change"  # the change-PIN and PUK-unblock services
    MY_REQUESTS = "my_requests"
    DONE = "done"
    RATING = "rating"  # after the receipt; the session is already wiped here
    FAILED = "failed"


@dataclass
class CitizenSession:
    """Mutable state of one visit; ``wipe`` clears every field holding citizen data."""

    card: IdCard | None = None
    certificate: x509.Certificate | None = None
    citizen: Citizen | None = None
    pin_status: PinStatus | None = None
    service: Service | None = None
    answers: dict[str, str] = field(default_factory=dict)
    field_index: int = 0
    draft: str = ""  # an answer that did not pass validation, kept so it can be corrected
    problem: Problem | None = None
    result: SubmissionResult | None = None
    sign_status: PinStatus | None = None  # the signing PIN's tries left
    pin_flow: PinFlow | None = None
    my_requests: MyRequestsResult | None = None
    presence: PresenceToken | None = None  # the card's signed login challenge: sealed into each request

    def wipe(self) -> None:
        """Forget everything: the card, the person, their answers and their receipt."""
        self.answers.clear()
        self.card = None
        self.certificate = None
        self.citizen = None
        self.pin_status = None
        self.service = None
        self.field_index = 0
        self.draft = ""
        self.problem = None
        self.result = None
        self.sign_status = None
        if self.pin_flow is not None:
            self.pin_flow.wipe()
        self.pin_flow = None
        self.my_requests = None
        self.presence = None

    @property
    def is_empty(self) -> bool:
        """True when nothing about a citizen is held."""
        return (self.citizen is None and self.card is None and not self.answers and self.result is None
                and self.pin_flow is None and self.my_requests is None and self.presence is None)
