"""The citizen journey as a state machine: card in, PIN, service, form, confirm, receipt, card out.

Called on the UI thread only (card events are marshalled there). It knows no widgets:
screens observe ``step`` and ``session`` and call the verbs below. Card removal and the idle
timeout end the session and wipe it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

from hardware.errors import CardError, CardRemoved, HardwareError, PinIncorrect, PinLocked
from hardware.ports import CardEvent, CardEventKind, CardOpener, PinKind, PinState, PinStatus, ReaderInfo
from kiosk.catalogue import Catalogue, FormField
from kiosk.forms import normalize, validate
from kiosk.identity import (
    CertificateValidator,
    IdentityError,
    citizen_from_certificate,
    parse_certificate,
    prove_possession,
    wipe,
)
from kiosk.session import CitizenSession, Problem, Step
from kiosk.submission import RequestNotQueued, Submitter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdlePolicy:
    """How long a silent session lasts, and how long the countdown before it ends."""

    timeout_s: float = 60.0
    countdown_s: float = 15.0


class Journey:
    """One kiosk's citizen journey; one session at a time."""

    def __init__(
        self,
        *,
        open_card: CardOpener,
        validator: CertificateValidator,
        catalogue: Callable[[], Catalogue],
        submitter: Submitter,
        idle: IdlePolicy,
        clock: Callable[[], float],
        today: Callable[[], dt.date],
        personal_number_field: str = "serialNumber",
    ) -> None:
        self._open_card = open_card
        self._validator = validator
        self._catalogue = catalogue
        self._submitter = submitter
        self._idle = idle
        self._clock = clock
        self._today = today
        self._number_field = personal_number_field
        self.step = Step.ATTRACT
        self.session = CitizenSession()
        self.card_left_in = False  # a card is still in the reader after the session ended
        self._last_activity = clock()
        self._listeners: list[Callable[[Step], None]] = []

    # -- observation -------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Step], None]) -> None:
        """Call ``listener(step)`` after every change worth redrawing."""
        self._listeners.append(listener)

    def _go(self, step: Step) -> None:
        self.step = step
        self._last_activity = self._clock()
        for listener in list(self._listeners):
            listener(step)

    @property
    def catalogue(self) -> Catalogue:
        """The service catalogue in force now."""
        return self._catalogue()

    # -- card presence -----------------------------------------------------------------------

    def on_card_event(self, event: CardEvent) -> None:
        """React to the reader: a card in starts a session, a card out ends it."""
        if event.kind is CardEventKind.CARD_INSERTED:
            self.card_left_in = False
            if self.step is Step.ATTRACT:
                self._start(ReaderInfo(event.reader, False, True, event.atr))
        elif event.kind in (CardEventKind.CARD_REMOVED, CardEventKind.READER_REMOVED):
            self.card_left_in = False
            self.end_session("card_removed")

    def _start(self, reader: ReaderInfo) -> None:
        self._go(Step.READING)
        try:
            card = self._open_card(reader)
            certificate = parse_certificate(card.certificates().authentication)
            self._validator.validate(certificate)
            citizen = citizen_from_certificate(certificate, self._number_field)
            status = card.pin_status(PinKind.AUTH)
        except CardRemoved:
            self.end_session("card_removed")
            return
        except (HardwareError, IdentityError) as exc:
            log.info("card refused: %s", type(exc).__name__)
            self._fail(exc)
            return
        s = self.session
        s.card, s.certificate, s.citizen, s.pin_status = card, certificate, citizen, status
        self._go(Step.PIN_BLOCKED if status.state is PinState.LOCKED else Step.PIN)

    def _fail(self, exc: BaseException) -> None:
        self.session.wipe()
        self.session.problem = Problem(
            getattr(exc, "translation_key", "error.unexpected"), dict(getattr(exc, "params", {}))
        )
        self._go(Step.FAILED)

    # -- PIN ---------------------------------------------------------------------------------

    @property
    def pin_on_reader(self) -> bool:
        """True when the PIN is typed on the reader's own keypad."""
        card = self.session.card
        return bool(card and card.protected_auth_path)

    def enter_pin(self, pin: bytearray | None) -> None:
        """Prove the card holder: the card signs a fresh nonce after ``pin``. ``pin`` is wiped."""
        s = self.session
        if self.step is not Step.PIN or s.card is None or s.certificate is None:
            wipe(pin)
            return
        try:
            prove_possession(s.card, s.certificate, pin)
        except PinIncorrect as exc:
            s.problem = Problem(exc.translation_key, dict(exc.params))
            s.pin_status = PinStatus.from_tries_left(exc.tries_left)
            self._go(Step.PIN)
            return
        except PinLocked:
            s.problem = None
            self._go(Step.PIN_BLOCKED)
            return
        except CardRemoved:
            self.end_session("card_removed")
            return
        except (CardError, HardwareError, IdentityError) as exc:
            self._fail(exc)
            return
        finally:
            wipe(pin)
        s.problem = None
        log.info("citizen authenticated")
        self._go(Step.SERVICES)

    # -- service and form --------------------------------------------------------------------

    def choose_service(self, service_id: str) -> None:
        """Open a service's form, prefilled from the card where it can be."""
        if self.step is not Step.SERVICES or self.session.citizen is None:
            return
        s = self.session
        s.service = self._catalogue().service(service_id)
        s.answers.clear()
        for f in s.service.fields:
            if f.prefill == "citizen.full_name":
                s.answers[f.id] = s.citizen.full_name
            elif f.prefill == "citizen.personal_number":
                s.answers[f.id] = s.citizen.personal_number
        s.field_index = 0
        s.problem = None
        self._go(Step.FORM if s.service.fields else Step.CONFIRM)

    @property
    def current_field(self) -> FormField | None:
        """The question on screen now."""
        s = self.session
        if self.step is not Step.FORM or s.service is None:
            return None
        return s.service.fields[s.field_index]

    def answer(self, value: str) -> None:
        """Check the current answer; keep it and move on, or stay with a message saying how to fix it."""
        field = self.current_field
        if field is None:
            return
        s = self.session
        error = validate(field, value, self._today())
        if error:
            s.problem = Problem(error, {"max": field.max_length})
            s.draft = value
            self._go(Step.FORM)
            return
        s.answers[field.id] = normalize(field, value)
        s.problem = None
        s.draft = ""
        assert s.service is not None
        if s.field_index + 1 < len(s.service.fields):
            s.field_index += 1
            self._go(Step.FORM)
        else:
            self._go(Step.CONFIRM)

    def back(self) -> None:
        """One step back: previous question, or the service list."""
        s = self.session
        s.problem = None
        s.draft = ""
        if self.step is Step.FORM and s.field_index > 0:
            s.field_index -= 1
            self._go(Step.FORM)
        elif self.step is Step.CONFIRM and s.service and s.service.fields:
            s.field_index = len(s.service.fields) - 1
            self._go(Step.FORM)
        elif self.step in (Step.FORM, Step.CONFIRM):
            s.service = None
            s.answers.clear()
            self._go(Step.SERVICES)

    def confirm(self) -> None:
        """Submit: durable enqueue, then the receipt."""
        s = self.session
        if self.step is not Step.CONFIRM or s.citizen is None or s.service is None:
            return
        try:
            s.result = self._submitter.submit(s.citizen, s.service, s.answers)
        except RequestNotQueued as exc:
            self._fail(exc)
            return
        self._go(Step.DONE)

    def another_service(self) -> None:
        """After a receipt, back to the service list in the same session."""
        if self.step is Step.DONE:
            s = self.session
            s.service, s.result, s.problem = None, None, None
            s.answers.clear()
            self._go(Step.SERVICES)

    # -- ending ------------------------------------------------------------------------------

    def end_session(self, reason: str) -> None:
        """Wipe everything and return to the attract screen."""
        was_active = self.step is not Step.ATTRACT
        self.session.wipe()
        if was_active:
            log.info("session ended: %s", reason)
        self._go(Step.ATTRACT)

    def finish(self) -> None:
        """The person is done; if the card is still in, the attract screen asks to take it."""
        self.card_left_in = self.session.card is not None
        self.end_session("finished")

    def touch(self) -> None:
        """Someone touched the screen: the idle clock restarts."""
        self._last_activity = self._clock()

    def idle_remaining(self) -> float | None:
        """Seconds until the idle timeout ends the session (None on the attract screen)."""
        if self.step is Step.ATTRACT:
            return None
        return self._idle.timeout_s - (self._clock() - self._last_activity)

    def countdown(self) -> float | None:
        """Seconds left when the countdown is showing, else None."""
        remaining = self.idle_remaining()
        if remaining is None or remaining > self._idle.countdown_s:
            return None
        return max(0.0, remaining)

    def tick(self) -> None:
        """Called about twice a second: ends the session when the idle time is up."""
        remaining = self.idle_remaining()
        if remaining is not None and remaining <= 0:
            self.card_left_in = self.session.card is not None
            self.end_session("idle")

