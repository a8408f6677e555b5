"""One run of "Change my PIN" or "Unblock my PIN with the PUK" on one card: its stages and the codes typed.

Length, a new PIN equal to the old one and a repeat that does not match are refused before the
card is asked, so a slip of the finger never costs a try. Every typed code sits in a bytearray
that is overwritten as soon as it is compared or used.
"""

from __future__ import annotations

import enum
import hmac
import logging

from kiosk.errors import CardError, CardRemoved, HardwareError, PinFormatInvalid, PinIncorrect, PinLocked
from kiosk.identity import wipe
from kiosk.ports import IdCard, PinKind, PinState, PinStatus
from kiosk.problem import Problem

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

    def _which(self) -> PinKind:
        """The PIN this change is about (chosen before any code is typed)."""
        assert self.which is not None, "no PIN chosen yet"
        return self.which

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
            return "puk.done" if self.mode is FlowMode.UNBLOCK else f"pin_change.done_{self._which().value}"
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
            key = "puk.locked" if self.mode is FlowMode.UNBLOCK else f"pin_change.locked_{self._which().value}"
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
