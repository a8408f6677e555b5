"""The ID-card services "Change my PIN" and "Unblock my PIN with the PUK", step by step.

Change: choose which PIN, then old, new, repeat. Unblock: PUK, new, repeat. Length, a new PIN
equal to the old one and a repeat that does not match are refused before the card is asked, so
a slip of the finger never costs a try. Every typed code sits in a bytearray that is overwritten
as soon as it is compared or used. ``PinServices`` is held by ``Journey`` and moves it on through
``FlowHost``; each stage's rules live in ``kiosk.pin_flow.PinFlow``. What asks the card (choosing a
PIN reads its tries, the last code changes it) runs on the card thread (``FlowHost.card_work``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.errors import CardRemoved, HardwareError
from kiosk.identity import wipe
from kiosk.pin_flow import FlowMode, PinFlow
from kiosk.ports import PinKind, PinState
from kiosk.session import Step

if TYPE_CHECKING:
    from kiosk.card_work import Answer
    from kiosk.flow_host import FlowHost
    from kiosk.ports import PinStatus

log = logging.getLogger(__name__)


class PinServices:
    """The journey's verbs for the PIN services: start, choose, enter, back, leave."""

    def __init__(self, host: FlowHost) -> None:
        self._host = host

    def start(self, mode: FlowMode) -> None:
        """The service was chosen from the list (the journey has checked a card is in)."""
        card = self._host.session.card
        assert card is not None
        self._host.session.pin_flow = PinFlow(card, mode)
        self._host.move_to(Step.PIN_CHANGE)

    def unblock_with_puk(self) -> None:
        """From "PIN blocked": the PUK service without a PIN login (the certificate was already validated)."""
        s = self._host.session
        if self._host.step is Step.PIN_BLOCKED and s.card is not None:
            s.pin_flow = PinFlow(s.card, FlowMode.UNBLOCK, from_blocked=True)
            self._host.move_to(Step.PIN_CHANGE)

    def choose(self, which: PinKind) -> None:
        """Which PIN to change (the card says its tries left)."""
        self._on_card(lambda flow: flow.choose(which), ())

    def enter(self, digits: bytearray) -> None:
        """The code typed for the current stage; ``digits`` is wiped whatever happens."""
        self._on_card(lambda flow: flow.enter(digits), (digits,))

    def back(self) -> None:
        """One stage back, or out of the service from its first stage."""
        host = self._host
        flow = host.session.pin_flow
        if host.step is not Step.PIN_CHANGE or flow is None or not host.card_work.idle:
            return
        if flow.back():
            host.move_to(Step.PIN_CHANGE)
        else:
            self.leave()

    def leave(self) -> None:
        """Out of the PIN service: to the services, or after an unblock without login to the PIN (or back)."""
        host = self._host
        s = host.session
        flow = s.pin_flow
        if host.step is not Step.PIN_CHANGE or flow is None or s.card is None or not host.card_work.idle:
            return
        flow.wipe()
        s.pin_flow, s.service, s.problem = None, None, None
        if not flow.from_blocked:
            host.move_to(Step.SERVICES)
            return
        card = s.card
        host.card_work.run(lambda: card.pin_status(PinKind.AUTH), self._left_to_pin)

    def _left_to_pin(self, answer: Answer[PinStatus]) -> None:
        host = self._host
        s = host.session
        if host.step is not Step.PIN_CHANGE or s.pin_flow is not None:
            return
        try:
            s.pin_status = answer.get()
        except CardRemoved:
            host.end_session("card_removed")
            return
        except HardwareError as exc:
            host.fail(exc)
            return
        host.move_to(Step.PIN_BLOCKED if s.pin_status.state is PinState.LOCKED else Step.PIN)

    def _on_card(self, action: Callable[[PinFlow], None], secrets: tuple[bytearray, ...]) -> None:
        """Run ``action`` on the flow on the card thread, then redraw; ``secrets`` are wiped whatever happens."""
        host = self._host
        flow = host.session.pin_flow
        if host.step is not Step.PIN_CHANGE or flow is None or not host.card_work.idle:
            for secret in secrets:
                wipe(secret)
            return
        host.card_work.run(lambda: action(flow), lambda answer: self._answered(answer, flow), secrets=secrets)

    def _answered(self, answer: Answer[None], flow: PinFlow) -> None:
        host = self._host
        if host.step is not Step.PIN_CHANGE or host.session.pin_flow is not flow:
            return
        try:
            answer.get()
        except CardRemoved:
            host.end_session("card_removed")
            return
        except HardwareError as exc:
            host.fail(exc)
            return
        host.move_to(Step.PIN_CHANGE)
