"""The ID-card services "Change my PIN" and "Unblock my PIN with the PUK", step by step.

Change: choose which PIN, then old, new, repeat. Unblock: PUK, new, repeat. Length, a new PIN
equal to the old one and a repeat that does not match are refused before the card is asked, so
a slip of the finger never costs a try. Every typed code sits in a bytearray that is overwritten
as soon as it is compared or used.
"""

from __future__ import annotations

import enum
import hmac
import logging
from typing import TYPE_CHECKING, Callable

from hardware.errors import CardError, CardRemoved, HardwareError, PinFormatInvalid, PinIncorrect, PinLocked
from hardware.ports import IdCard, PinKind, PinState, PinStatus
from kiosk.identity import wipe
from kiosk.session import Problem, Step

if TYPE_CHECKING:
    from kiosk.session import CitizenSession

log = logging.getLogger(__name__)

PIN_LENGTHS = {PinKind.AUTH: 4, PinKind.SIGN: 6}
PUK_LENGTH = 8


class FlowMode(enum.Enum):
    """Which service this is."""

    CHANGE = "change"
    UNBLOCK = "unblock"


class Stage(enum.Enum):
    """What the person is asked for now."""

    CHOOSE = "choose"  # which PIN to change
    OLD = "old"
    PUK = "puk"
    NEW = "new"
    REPEAT = "repeat"
    DONE = "done"  # success or a card refusal, said in words


_PROMPTS = {
    Stage.CHOOSE: "pin_change.choose",
    Stage.OLD: "pin_change.enter_old",
    Stage.PUK: "puk.enter",
    Stage.NEW: "pin_change.enter_new",
    Stage.REPEAT: "pin_change.enter_repeat",
}


class PinFlow:
    """One run of the change or unblock service on one card; ``enter`` takes each typed code."""

    def __init__(self, card: IdCard, mode: FlowMode, *, from_blocked: bool = False) -> None:
        self._card = card
        self.mode = mode
        self.from_blocked = from_blocked  # reached from "PIN blocked", without a PIN login
        self.which: PinKind | None = PinKind.AUTH if mode is FlowMode.UNBLOCK else None
        self.stage = Stage.PUK if mode is FlowMode.UNBLOCK else Stage.CHOOSE
        self.status: PinStatus | None = None  # tries left of the code asked for now, when known
        self.problem: Problem | None = None
        self.succeeded = False
        self._first = bytearray()  # the old PIN or the PUK
        self._new = bytearray()

    @property
    def first_stage(self) -> Stage:
        """Where the codes start: the old PIN, or the PUK."""
        return Stage.PUK if self.mode is FlowMode.UNBLOCK else Stage.OLD

    @property
    def length(self) -> int:
        """How many digits the code asked for now has."""
        if self.stage is Stage.PUK:
            return PUK_LENGTH
        return PIN_LENGTHS[self.which or PinKind.AUTH]

    @property
    def prompt_key(self) -> str:
        """Translation key of what the screen asks now (``{length}`` in it)."""
        if self.stage is Stage.DONE:
            return self.outcome_key
        return _PROMPTS[self.stage]

    @property
    def outcome_key(self) -> str:
        """Translation key of the result, once the card has answered."""
        if self.succeeded:
            return "puk.done" if self.mode is FlowMode.UNBLOCK else f"pin_change.done_{self.which.value}"
        return self.problem.key if self.problem else "error.card"

    def choose(self, which: PinKind) -> None:
        """Pick the PIN to change; a PIN already blocked is said at once."""
        if self.stage is not Stage.CHOOSE:
            return
        self.which = which
        self.status = self._card.pin_status(which)
        if self.status.state is PinState.LOCKED:
            self._finish_refused(Problem(f"pin_change.locked_{which.value}"))
        else:
            self.stage = Stage.OLD

    def enter(self, digits: bytearray) -> None:
        """Take the code typed for the current stage; ``digits`` is wiped. CardRemoved propagates."""
        try:
            if len(digits) != self.length or not digits.isdigit():
                self.problem = Problem("pin_change.error.length", {"length": self.length})
                return
            self.problem = None
            if self.stage in (Stage.OLD, Stage.PUK):
                self._keep(self._first, digits)
                self.stage = Stage.NEW
            elif self.stage is Stage.NEW:
                if self.mode is FlowMode.CHANGE and hmac.compare_digest(digits, self._first):
                    self.problem = Problem("pin_change.error.same_as_old")
                    return
                self._keep(self._new, digits)
                self.stage = Stage.REPEAT
            elif self.stage is Stage.REPEAT:
                if not hmac.compare_digest(digits, self._new):
                    wipe(self._new)
                    self.problem = Problem("pin_change.error.mismatch")
                    self.stage = Stage.NEW
                    return
                self._apply()
        finally:
            wipe(digits)

    def back(self) -> bool:
        """One stage back; False when there is nothing before (the caller leaves the service)."""
        self.problem = None
        if self.stage is Stage.REPEAT:
            wipe(self._new)
            self.stage = Stage.NEW
        elif self.stage is Stage.NEW:
            wipe(self._first)
            self.stage = self.first_stage
        elif self.stage is Stage.OLD:
            self.stage, self.which, self.status = Stage.CHOOSE, None, None
        else:
            return False
        return True

    def wipe(self) -> None:
        """Overwrite every code held (the session ended or the service was left)."""
        wipe(self._first)
        wipe(self._new)

    @staticmethod
    def _keep(buffer: bytearray, digits: bytearray) -> None:
        wipe(buffer)
        buffer.extend(digits)

    def _apply(self) -> None:
        try:
            if self.mode is FlowMode.UNBLOCK:
                self._card.unblock_pin(self._first, self._new)
            else:
                assert self.which is not None
                self._card.change_pin(self.which, self._first, self._new)
        except PinIncorrect as exc:
            # No retry with the same code: the person types it again, knowing the tries left.
            self.problem = Problem("puk.incorrect" if self.mode is FlowMode.UNBLOCK else exc.translation_key,
                                   dict(exc.params))
            self.status = PinStatus.from_tries_left(exc.tries_left)
            self.stage = self.first_stage
        except PinLocked:
            key = "puk.locked" if self.mode is FlowMode.UNBLOCK else f"pin_change.locked_{self.which.value}"
            self._finish_refused(Problem(key))
        except PinFormatInvalid as exc:
            self.problem = Problem(exc.translation_key, dict(exc.params))
            self.stage = self.first_stage
        except CardRemoved:
            raise
        except (CardError, HardwareError) as exc:
            log.info("pin service refused by the card: %s", type(exc).__name__)
            self._finish_refused(Problem(exc.translation_key, dict(exc.params)))
        else:
            self.succeeded, self.problem, self.stage = True, None, Stage.DONE
            log.info("pin service %s succeeded", self.mode.value)
        finally:
            self.wipe()

    def _finish_refused(self, problem: Problem) -> None:
        self.problem, self.succeeded, self.stage = problem, False, Stage.DONE


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
