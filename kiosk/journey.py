"""The citizen journey as a state machine: card in, PIN, service, form, confirm, receipt, card out.

Called on the UI thread only (card events are marshalled there). It knows no widgets:
screens observe ``step`` and ``session`` and call the verbs below. Card removal and the idle
timeout end the session and wipe it. Every card operation (and the hub lookup of "my requests") is
handed to ``kiosk.card_work.CardWork``: it runs on the card thread and its answer is read here, back
on the UI thread, only if the session that asked is still on — the screen keeps drawing meanwhile.
Sending (``kiosk.sending``) and the PIN services (``kiosk.pin_flows``) are collaborators it holds;
they see it as a ``kiosk.flow_host.FlowHost`` and their verbs are delegated below, so the screens
call the journey only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from kiosk.card_work import Answer, CardWork
from kiosk.clock import LocalTime
from kiosk.errors import CardError, CardRemoved, HardwareError, PinIncorrect, PinLocked
from kiosk.forms import normalize, prefill_value, validate
from kiosk.identity import (
    CertificateValidator,
    Citizen,
    IdentityError,
    identify,
    prove_presence,
    wipe,
)
from kiosk.my_requests import MyRequests, MyRequestsResult
from kiosk.pin_flow import FlowMode
from kiosk.pin_flows import PinServices
from kiosk.ports import CardEvent, CardEventKind, CardOpener, IdCard, PinKind, PinState, PinStatus, ReaderInfo
from kiosk.presence import LoginChallenges
from kiosk.problem import Problem
from kiosk.sending import Sending
from kiosk.session import CitizenSession, Step
from kiosk.signing import QualifiedSigner
from kiosk.submission import Submitter
from protocol.catalogue import Catalogue, FormField, Service, ServiceKind
from protocol.presence import PresenceToken

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
        signer: QualifiedSigner,
        my_requests: MyRequests,
        challenges: LoginChallenges,
        record_rating: Callable[[int], None],
        idle: IdlePolicy,
        clock: Callable[[], float],
        local_time: LocalTime,
        personal_number_field: str = "serialNumber",
        card_work: CardWork | None = None,
    ) -> None:
        self._open_card = open_card
        self._validator = validator
        self._catalogue = catalogue
        self._my_requests = my_requests
        self._challenges = challenges
        self._record_rating = record_rating
        self._idle = idle
        self._clock = clock
        self.local_time = local_time  # the kiosk's own zone: form dates, dates shown to the villager
        self._number_field = personal_number_field
        self.card_work = card_work or CardWork()  # without one: card operations run at once, on this thread
        self.step = Step.ATTRACT
        self.session = CitizenSession()
        self.card_left_in = False  # a card is still in the reader after the session ended
        self.assisted_by = ""  # masked id of the staff member helping this visit; sealed into each request
        self._last_activity = clock()
        self._listeners: list[Callable[[Step], None]] = []
        self._sending = Sending(self, submitter, signer)
        self._pin_services = PinServices(self)

    # -- observation -------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Step], None]) -> None:
        """Call ``listener(step)`` after every change worth redrawing."""
        self._listeners.append(listener)

    def move_to(self, step: Step) -> None:
        """Show ``step`` (the same step again redraws it) and restart the idle clock."""
        self.step = step
        self._last_activity = self._clock()
        for listener in list(self._listeners):
            listener(step)

    @property
    def catalogue(self) -> Catalogue:
        """The service catalogue in force now."""
        return self._catalogue()

    @property
    def busy(self) -> str | None:
        """What the screen says while the card (or the hub) is answering — touches wait — else None."""
        return self.card_work.busy

    # -- card presence -----------------------------------------------------------------------

    def on_card_event(self, event: CardEvent) -> None:
        """React to the reader: a card in starts a session, a card out ends it."""
        if event.kind is CardEventKind.CARD_INSERTED:
            self.card_left_in = False
            if self.step in (Step.ATTRACT, Step.RATING):
                self._start(ReaderInfo(event.reader, False, True, event.atr))
        elif event.kind in (CardEventKind.CARD_REMOVED, CardEventKind.READER_REMOVED):
            self.card_left_in = False
            if self.step is not Step.RATING:  # the rating holds nothing personal: it may stay
                self.end_session("card_removed")

    def _start(self, reader: ReaderInfo) -> None:
        self.move_to(Step.READING)
        open_card, validator, number_field = self._open_card, self._validator, self._number_field

        def read() -> tuple[IdCard, x509.Certificate, Citizen, PinStatus]:
            card = open_card(reader)
            certificate, citizen = identify(card, validator, number_field)
            return card, certificate, citizen, card.pin_status(PinKind.AUTH)

        self.card_work.run(read, self._card_read)

    def _card_read(self, answer: Answer[tuple[IdCard, x509.Certificate, Citizen, PinStatus]]) -> None:
        if self.step is not Step.READING:
            return
        try:
            card, certificate, citizen, status = answer.get()
        except CardRemoved:
            self.end_session("card_removed")
            return
        except (HardwareError, IdentityError) as exc:
            log.info("card refused: %s", type(exc).__name__)
            self.fail(exc)
            return
        s = self.session
        s.card, s.certificate, s.citizen, s.pin_status = card, certificate, citizen, status
        if status.state is not PinState.LOCKED:
            self._challenges.prepare()  # the hub's nonce arrives while the PIN is typed
        self.move_to(Step.PIN_BLOCKED if status.state is PinState.LOCKED else Step.PIN)

    def fail(self, exc: BaseException) -> None:
        """Wipe the session and show the failure page, saying ``exc``'s translation key."""
        self.card_work.forget()
        self.session.wipe()
        self.session.problem = Problem(
            getattr(exc, "translation_key", "error.unexpected"), dict(getattr(exc, "params", {}))
        )
        self.move_to(Step.FAILED)

    # -- PIN ---------------------------------------------------------------------------------

    @property
    def pin_on_reader(self) -> bool:
        """True when the PIN is typed on the reader's own keypad."""
        card = self.session.card
        return bool(card and card.protected_auth_path)

    def enter_pin(self, pin: bytearray | None) -> None:
        """Prove the card holder: the card signs a fresh nonce after ``pin``. ``pin`` is wiped."""
        s = self.session
        if self.step is not Step.PIN or s.card is None or s.certificate is None or not self.card_work.idle:
            wipe(pin)
            return
        card, certificate, challenges = s.card, s.certificate, self._challenges
        # The hub's nonce may still be on its way: the card thread waits for it, not the screen.
        # A PIN typed on the reader's own keypad: nothing covers the screen, Cancel still works.
        self.card_work.run(lambda: prove_presence(card, certificate, pin, challenges.challenge()),
                           self._pin_checked, say=None if pin is None else "busy.card", secrets=(pin,))

    def _pin_checked(self, answer: Answer[PresenceToken]) -> None:
        s = self.session
        if self.step is not Step.PIN:
            return
        try:
            s.presence = answer.get()
        except PinIncorrect as exc:
            s.problem = Problem(exc.translation_key, dict(exc.params))
            s.pin_status = PinStatus.from_tries_left(exc.tries_left)
            self._challenges.prepare()  # the next try signs a new challenge, with a new nonce
            self.move_to(Step.PIN)
            return
        except PinLocked:
            s.problem = None
            self.move_to(Step.PIN_BLOCKED)
            return
        except CardRemoved:
            self.end_session("card_removed")
            return
        except (CardError, HardwareError, IdentityError) as exc:
            self.fail(exc)
            return
        s.problem = None
        log.info("citizen authenticated")
        self.move_to(Step.SERVICES)

    # -- service and form --------------------------------------------------------------------

    def preview_service(self, service_id: str) -> None:
        """A service was touched: a form shows its intro (fee, time, documents) first; the kiosk's own flows start."""
        s = self.session
        service = self._catalogue().service(service_id)
        if service.kind is not ServiceKind.FORM:
            self.choose_service(service_id)
        elif self.step is Step.SERVICES and s.citizen is not None:
            s.service, s.problem = service, None
            self.move_to(Step.INTRO)

    def choose_service(self, service_id: str) -> None:
        """Start a service: its form (prefilled from the card), or one of the kiosk's own flows."""
        s = self.session
        if self.step not in (Step.SERVICES, Step.INTRO) or s.citizen is None or s.card is None:
            return
        s.service = service = self._catalogue().service(service_id)
        s.problem = None
        if service.kind is ServiceKind.MY_REQUESTS:
            if s.presence is not None and self.card_work.idle:  # always, once the PIN is through
                presence, my_requests = s.presence, self._my_requests
                self.card_work.run(lambda: my_requests.lookup(presence), self._requests_found,
                                   say="busy.my_requests")
        elif service.kind in (ServiceKind.PIN_CHANGE, ServiceKind.PUK_UNBLOCK):
            mode = FlowMode.UNBLOCK if service.kind is ServiceKind.PUK_UNBLOCK else FlowMode.CHANGE
            self._pin_services.start(mode)
        else:
            self._open_form(service)

    def _requests_found(self, answer: Answer[MyRequestsResult]) -> None:
        if self.step not in (Step.SERVICES, Step.INTRO):
            return
        try:
            found = answer.get()  # offline the lookup answers with this kiosk's own list
        except Exception as exc:  # noqa: BLE001 — that list could not be read: said, not a crash
            log.error("my requests could not be listed: %s", type(exc).__name__)
            self.fail(exc)
            return
        self.session.my_requests = found
        self.move_to(Step.MY_REQUESTS)

    def _open_form(self, service: Service) -> None:
        s = self.session
        assert s.citizen is not None
        s.answers.clear()
        for f in service.fields:
            card_says = prefill_value(f, s.citizen)
            if card_says:
                s.answers[f.id] = card_says
        s.field_index = 0
        self.move_to(Step.FORM if service.fields else Step.CONFIRM)

    def today(self) -> dt.date:
        """Today's date on the kiosk's clock (date questions count their range from it)."""
        return self.local_time.today()

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
        error = validate(field, value, self.today())
        if error:
            s.problem = Problem(error.key, dict(error.params))
            s.draft = value
            self.move_to(Step.FORM)
            return
        s.answers[field.id] = normalize(field, value)
        s.problem = None
        s.draft = ""
        assert s.service is not None
        if s.field_index + 1 < len(s.service.fields):
            s.field_index += 1
            self.move_to(Step.FORM)
        else:
            self.move_to(Step.CONFIRM)

    def back(self) -> None:
        """One step back: previous question, PIN-service stage, or the service list."""
        s = self.session
        s.problem = None
        s.draft = ""
        if self.step is Step.PIN_CHANGE:
            self._pin_services.back()
        elif self.step is Step.FORM and s.field_index > 0:
            s.field_index -= 1
            self.move_to(Step.FORM)
        elif self.step is Step.CONFIRM and s.service and s.service.fields:
            s.field_index = len(s.service.fields) - 1
            self.move_to(Step.FORM)
        elif self.step in (Step.INTRO, Step.FORM, Step.CONFIRM, Step.SIGN, Step.MY_REQUESTS):
            s.service, s.my_requests, s.sign_status = None, None, None
            s.answers.clear()
            self.move_to(Step.SERVICES)

    def another_service(self) -> None:
        """After a receipt, back to the service list in the same session."""
        if self.step is Step.DONE:
            s = self.session
            s.service, s.result, s.problem = None, None, None
            s.answers.clear()
            self.move_to(Step.SERVICES)

    # -- sending and the PIN services: their collaborators' verbs ------------------------------

    def confirm(self) -> None:
        """Send the confirmed request, or ask for the signing PIN first (``Sending.confirm``)."""
        self._sending.confirm()

    def sign(self, pin: bytearray | None) -> None:
        """The signing PIN: sign and send (``Sending.sign``). ``pin`` is wiped."""
        self._sending.sign(pin)

    def unblock_with_puk(self) -> None:
        """From "PIN blocked": the PUK service without a PIN login (``PinServices.unblock_with_puk``)."""
        self._pin_services.unblock_with_puk()

    def pin_service_choose(self, which: PinKind) -> None:
        """Which PIN to change (``PinServices.choose``)."""
        self._pin_services.choose(which)

    def pin_service_enter(self, digits: bytearray) -> None:
        """The code typed for the PIN service's current stage (``PinServices.enter``). ``digits`` is wiped."""
        self._pin_services.enter(digits)

    def leave_pin_service(self) -> None:
        """Out of the PIN service (``PinServices.leave``)."""
        self._pin_services.leave()

    # -- ending ------------------------------------------------------------------------------

    def end_session(self, reason: str) -> None:
        """Wipe everything and return to the attract screen."""
        was_active = self.step is not Step.ATTRACT
        self.card_work.forget()
        self.session.wipe()
        if was_active:
            log.info("session ended: %s", reason)
        self.move_to(Step.ATTRACT)

    def finish(self) -> None:
        """The person is done: after a receipt the rating (session already wiped), else the attract screen.

        If the card is still in, the attract screen asks to take it.
        """
        self.card_left_in = self.session.card is not None
        if self.step is Step.DONE:
            self.card_work.forget()
            self.session.wipe()
            log.info("session ended: finished")
            self.move_to(Step.RATING)
            return
        self.end_session("finished")

    def rate(self, score: int | None) -> None:
        """The one-touch rating, 1 to 5 (None: skipped); then the attract screen."""
        if self.step is not Step.RATING:
            return
        if score is not None:
            self._record_rating(score)
        self.move_to(Step.ATTRACT)

    def touch(self) -> None:
        """Someone touched the screen: the idle clock restarts."""
        self._last_activity = self._clock()

    def idle_remaining(self) -> float | None:
        """Seconds until the idle timeout ends the session (None on the attract screen).

        The rating, which holds nothing personal, leaves quietly after the countdown's length.
        """
        if self.step is Step.ATTRACT:
            return None
        limit = self._idle.countdown_s if self.step is Step.RATING else self._idle.timeout_s
        return limit - (self._clock() - self._last_activity)

    def countdown(self) -> float | None:
        """Seconds left when the countdown is showing, else None."""
        remaining = self.idle_remaining()
        if remaining is None or remaining > self._idle.countdown_s or self.step is Step.RATING:
            return None
        return max(0.0, remaining)

    def tick(self) -> None:
        """Called about twice a second: ends the session when the idle time is up."""
        remaining = self.idle_remaining()
        if remaining is not None and remaining <= 0:
            if self.step is not Step.RATING:
                self.card_left_in = self.session.card is not None
            self.end_session("idle")

