"""The journey's last steps: send the confirmed request — after the signing PIN when the service needs it.

``Sending`` is held by ``Journey`` and moves it on through ``FlowHost``; it keeps the
qualified-signature path out of the journey's own file. The card's answers, the signature and the
durable write with its receipt all run on the card thread (``FlowHost.card_work``): the screen
keeps drawing while the card signs and the printer prints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.errors import CardRemoved, HardwareError, PinIncorrect, PinLocked
from kiosk.identity import IdentityError, wipe
from kiosk.ports import PinKind, PinState, PinStatus
from kiosk.problem import Problem
from kiosk.session import Step
from kiosk.submission import RequestNotQueued

if TYPE_CHECKING:
    from kiosk.card_work import Answer
    from kiosk.flow_host import FlowHost
    from kiosk.signing import QualifiedSigner
    from kiosk.submission import SubmissionResult, Submitter

log = logging.getLogger(__name__)


class Sending:
    """Confirm, sign, send: the verbs of the confirm and signing-PIN screens."""

    def __init__(self, host: FlowHost, submitter: Submitter, signer: QualifiedSigner) -> None:
        self._host = host
        self._submitter = submitter
        self._signer = signer

    def confirm(self) -> None:
        """Send: straight away, or after the signing PIN when the service needs a qualified signature."""
        host = self._host
        s = host.session
        if (host.step is not Step.CONFIRM or s.citizen is None or s.service is None or s.card is None
                or not host.card_work.idle):
            return
        if not s.service.needs_signature:
            self._submit(None, say="busy.sending")
            return
        card = s.card
        host.card_work.run(lambda: card.pin_status(PinKind.SIGN), self._sign_status)

    def _sign_status(self, answer: Answer[PinStatus]) -> None:
        host = self._host
        s = host.session
        if host.step is not Step.CONFIRM:
            return
        try:
            s.sign_status = answer.get()
        except CardRemoved:
            host.end_session("card_removed")
            return
        except HardwareError as exc:
            host.fail(exc)
            return
        s.problem = Problem("sign.locked") if s.sign_status.state is PinState.LOCKED else None
        host.move_to(Step.SIGN)

    def sign(self, pin: bytearray | None) -> None:
        """The signing PIN: the card signs the request, the kiosk verifies it, then sends. ``pin`` is wiped."""
        s = self._host.session
        card, citizen, signer = s.card, s.citizen, self._signer
        if self._host.step is not Step.SIGN or card is None or citizen is None or not self._host.card_work.idle:
            wipe(pin)
            return
        self._submit(lambda payload: signer.sign(card, citizen, payload, pin).as_json(),
                     say=None if pin is None else "busy.card", secrets=(pin,))

    def _submit(self, sign: Callable[[dict[str, Any]], dict[str, str]] | None, *, say: str | None,
                secrets: tuple[bytearray | None, ...] = ()) -> None:
        """Durable enqueue (signed first if ``sign``), then the receipt; a wrong signing PIN stays on SIGN."""
        host = self._host
        s = host.session
        citizen, service, presence = s.citizen, s.service, s.presence
        assert citizen is not None and service is not None
        answers, assisted_by, submitter = dict(s.answers), host.assisted_by or None, self._submitter
        step = host.step

        def submit() -> SubmissionResult:
            return submitter.submit(citizen, service, answers, sign=sign, assisted_by=assisted_by, presence=presence)

        host.card_work.run(submit, lambda answer: self._submitted(answer, step, signed=sign is not None),
                           say=say, secrets=secrets)

    def _submitted(self, answer: Answer[SubmissionResult], step: Step, *, signed: bool) -> None:
        host = self._host
        s = host.session
        if host.step is not step:
            return
        try:
            s.result = answer.get()
        except PinIncorrect as exc:  # never retried: the person types it again, told the tries left
            s.problem = Problem("sign.incorrect", dict(exc.params))
            s.sign_status = PinStatus.from_tries_left(exc.tries_left)
            host.move_to(Step.SIGN)
            return
        except PinLocked:
            s.problem, s.sign_status = Problem("sign.locked"), PinStatus(PinState.LOCKED, 0)
            host.move_to(Step.SIGN)
            return
        except CardRemoved:
            host.end_session("card_removed")
            return
        except (RequestNotQueued, HardwareError, IdentityError) as exc:
            host.fail(exc)
            return
        s.problem = None
        if signed:
            log.info("request signed with the qualified signature")
        host.move_to(Step.DONE)
