"""The journey's last steps: send the confirmed request — after the signing PIN when the service needs it.

``Sending`` is held by ``Journey`` and moves it on through ``FlowHost``; it keeps the
qualified-signature path out of the journey's own file.
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
    from kiosk.flow_host import FlowHost
    from kiosk.signing import QualifiedSigner
    from kiosk.submission import Submitter

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
        if host.step is not Step.CONFIRM or s.citizen is None or s.service is None or s.card is None:
            return
        if not s.service.needs_signature:
            self._submit(None)
            return
        try:
            s.sign_status = s.card.pin_status(PinKind.SIGN)
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
        card, citizen = s.card, s.citizen
        if self._host.step is not Step.SIGN or card is None or citizen is None:
            wipe(pin)
            return
        try:
            self._submit(lambda payload: self._signer.sign(card, citizen, payload, pin).as_json())
        finally:
            wipe(pin)

    def _submit(self, sign: Callable[[dict[str, Any]], dict[str, str]] | None) -> None:
        """Durable enqueue (signed first if ``sign``), then the receipt; a wrong signing PIN stays on SIGN."""
        host = self._host
        s = host.session
        assert s.citizen is not None and s.service is not None
        try:
            s.result = self._submitter.submit(s.citizen, s.service, s.answers, sign=sign,
                                              assisted_by=host.assisted_by or None, presence=s.presence)
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
        if sign is not None:
            log.info("request signed with the qualified signature")
        host.move_to(Step.DONE)
