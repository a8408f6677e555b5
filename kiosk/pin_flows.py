"""The ID-card services "Change my PIN" and "Unblock my PIN with the PUK", step by step.

Change: choose which PIN, then old, new, repeat. Unblock: PUK, new, repeat. Length, a new PIN
equal to the old one and a repeat that does not match are refused before the card is asked, so
a slip of the finger never costs a try. Every typed code sits in a bytearray that is overwritten
as soon as it is compared or used.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from kiosk.errors import CardRemoved, HardwareError
from kiosk.identity import wipe
from kiosk.pin_flow import FlowMode, PinFlow
from kiosk.ports import PinKind, PinState
from kiosk.session import Step

if TYPE_CHECKING:
    from kiosk.session import CitizenSession

log = logging.getLogger(__name__)

class PinServiceSteps:
    """The journey's verbs for the PIN services, mixed into ``Journey``.

    ``Journey`` provides ``session``, ``step``, ``_go``, ``_fail`` and ``end_session``.
    """

    session: CitizenSession
    step: Step
    _go: Callable[[Step], None]
    _fail: Callable[[BaseException], None]
    end_session: Callable[[str], None]

    def unblock_with_puk(self) -> None:
        """From "PIN blocked": the PUK service without a PIN login (the certificate was already validated)."""
        s = self.session
        if self.step is Step.PIN_BLOCKED and s.card is not None:
            s.pin_flow = PinFlow(s.card, FlowMode.UNBLOCK, from_blocked=True)
            self._go(Step.PIN_CHANGE)

    def pin_service_choose(self, which: PinKind) -> None:
        """Which PIN to change."""
        self._in_pin_service(lambda flow: flow.choose(which))

    def pin_service_enter(self, digits: bytearray) -> None:
        """The code typed for the current stage; ``digits`` is wiped whatever happens."""
        try:
            self._in_pin_service(lambda flow: flow.enter(digits))
        finally:
            wipe(digits)

    def pin_service_back(self) -> None:
        """One stage back, or out of the service from its first stage."""
        if not self._in_pin_service(lambda flow: flow.back()):
            self.leave_pin_service()

    def leave_pin_service(self) -> None:
        """Out of the PIN service: to the services, or after an unblock without login to the PIN (or back)."""
        s = self.session
        flow = s.pin_flow
        if self.step is not Step.PIN_CHANGE or flow is None or s.card is None:
            return
        flow.wipe()
        s.pin_flow, s.service, s.problem = None, None, None
        if not flow.from_blocked:
            self._go(Step.SERVICES)
            return
        try:
            s.pin_status = s.card.pin_status(PinKind.AUTH)
        except CardRemoved:
            self.end_session("card_removed")
            return
        except HardwareError as exc:
            self._fail(exc)
            return
        self._go(Step.PIN_BLOCKED if s.pin_status.state is PinState.LOCKED else Step.PIN)

    def _in_pin_service(self, action: Callable[[PinFlow], object]) -> bool:
        """Run ``action`` on the flow and redraw; returns what ``action`` returned (False if no flow)."""
        flow = self.session.pin_flow
        if self.step is not Step.PIN_CHANGE or flow is None:
            return False
        try:
            outcome = action(flow)
        except CardRemoved:
            self.end_session("card_removed")
            return True
        except HardwareError as exc:
            self._fail(exc)
            return True
        if outcome is False:
            return False
        self._go(Step.PIN_CHANGE)
        return True
