"""Which mode the kiosk is in — citizen, role login, staff or technician — and the role login itself.

The citizen journey owns the kiosk until a hidden gesture on the attract screen opens the role
login. There a staff member or technician proves who they are exactly as a villager does
(certificate path to the trust anchors, PIN, the card signing a fresh challenge), and then the
signed role list decides; or a technician types the local passcode. Every decision is audited
by ``AccessGate``. While a privileged mode is open, card events do not reach the journey (the
technician's card test swaps cards freely), the idle timeout still applies, and leaving
returns the kiosk to the attract screen in its own language. The staff card is read and its PIN
checked on the journey's card thread (``Journey.card_work``), as a villager's: the screen keeps
drawing, and an answer for a login already given up is dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from kiosk.audit import Actor
from kiosk.card_work import Answer
from kiosk.errors import CardRemoved, HardwareError, PinIncorrect, PinLocked
from kiosk.i18n import Translator
from kiosk.identity import (
    CertificateValidator,
    Citizen,
    IdentityError,
    identify,
    prove_possession,
    wipe,
)
from kiosk.journey import IdlePolicy, Journey
from kiosk.passcode import PasscodeError
from kiosk.ports import CardEvent, CardEventKind, CardOpener, IdCard, PinKind, PinState, PinStatus, ReaderInfo
from kiosk.problem import Problem
from kiosk.roles import AccessGate, Role, RoleRefused
from kiosk.session import Step
from kiosk.staff import StaffDesk

log = logging.getLogger(__name__)


class Mode(enum.Enum):
    """Who the kiosk serves now."""

    CITIZEN = "citizen"
    LOGIN = "login"
    STAFF = "staff"
    TECHNICIAN = "technician"


class LoginStage(enum.Enum):
    """Where the role login is."""

    WAITING = "waiting"  # insert a staff card, or choose the passcode
    PIN = "pin"  # the staff card's authentication PIN
    PASSCODE = "passcode"  # the technician passcode on the keypad


def refusal_key(reason: str) -> str:
    """The role login's words for a ``RoleRefused`` reason."""
    if reason.startswith("role_list_"):
        return "role_login.refused.no_list"
    return {"unknown_person": "role_login.refused.no_role",
            "no_such_role": "role_login.refused.no_role"}.get(reason, "role_login.refused.no_role")


# Passcode errors, by class name, to the role login's own words (their params carry over).
PASSCODE_KEYS = {"PasscodeRefused": "role_login.passcode_wrong", "PasscodeLocked": "role_login.passcode_locked",
                 "PasscodeNotSet": "role_login.passcode_not_set"}


@dataclass
class LoginState:
    """The role login in progress; ``wipe`` forgets the card and its holder."""

    stage: LoginStage = LoginStage.WAITING
    problem: Problem | None = None
    card: IdCard | None = None
    certificate: x509.Certificate | None = None
    holder: Citizen | None = None
    tries_left: int | None = None

    def wipe(self) -> None:
        """Forget the card, its certificate and its holder."""
        self.stage, self.problem = LoginStage.WAITING, None
        self.card, self.certificate, self.holder, self.tries_left = None, None, None, None


class RoleModes:
    """The kiosk's mode, the role login, and the way back to the citizen journey."""

    def __init__(self, *, journey: Journey, access: AccessGate, staff: StaffDesk, open_card: CardOpener,
                 validator: CertificateValidator, translator: Translator, language: str, idle: IdlePolicy,
                 clock: Callable[[], float], wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                 personal_number_field: str = "serialNumber") -> None:
        self.journey = journey
        self.access = access
        self.staff = staff
        self._open_card = open_card
        self._validator = validator
        self._translator = translator
        self._language = language
        self._idle = idle
        self.clock = clock
        self.wall = wall  # the wall clock, for the ages in the queue and the day's report
        self._number_field = personal_number_field
        self.mode = Mode.CITIZEN
        self.actor: Actor | None = None
        self.login = LoginState()
        self._last_activity = clock()
        self._listeners: list[Callable[[Mode], None]] = []
        journey.subscribe(self._on_step)

    # -- observation ---------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Mode], None]) -> None:
        """Call ``listener(mode)`` after every change worth redrawing (mode, login stage, problem)."""
        self._listeners.append(listener)

    def _changed(self, mode: Mode | None = None) -> None:
        if mode is not None:
            self.mode = mode
        self._last_activity = self.clock()
        for listener in list(self._listeners):
            listener(self.mode)

    @property
    def privileged(self) -> bool:
        """True while the role login, staff or technician mode holds the screen."""
        return self.mode is not Mode.CITIZEN

    # -- entering ------------------------------------------------------------------------------

    def open_login(self) -> bool:
        """The hidden gesture: open the role login, only from an idle attract screen."""
        if self.mode is not Mode.CITIZEN or self.journey.step is not Step.ATTRACT:
            return False
        self.login.wipe()
        log.info("role login opened")
        self._changed(Mode.LOGIN)
        return True

    def on_card_event(self, event: CardEvent) -> None:
        """Card events: to the journey in citizen mode, to the login while it waits for a card."""
        if self.mode is Mode.CITIZEN:
            self.journey.on_card_event(event)
        elif self.mode is Mode.LOGIN:
            if event.kind is CardEventKind.CARD_INSERTED and self.login.stage is LoginStage.WAITING:
                self._read_card(ReaderInfo(event.reader, False, True, event.atr))
            elif event.kind in (CardEventKind.CARD_REMOVED, CardEventKind.READER_REMOVED):
                self.journey.card_work.forget()  # a read or a PIN check still out is answered to nobody
                if self.login.stage is LoginStage.PIN:
                    self.login.wipe()
                    self._changed()

    def _read_card(self, reader: ReaderInfo) -> None:
        open_card, validator, number_field = self._open_card, self._validator, self._number_field

        def read() -> tuple[IdCard, x509.Certificate, Citizen, PinStatus]:
            card = open_card(reader)
            certificate, holder = identify(card, validator, number_field)
            return card, certificate, holder, card.pin_status(PinKind.AUTH)

        self.journey.card_work.run(read, self._card_read)

    def _card_read(self, answer: Answer[tuple[IdCard, x509.Certificate, Citizen, PinStatus]]) -> None:
        state = self.login
        if self.mode is not Mode.LOGIN or state.stage is not LoginStage.WAITING:
            return
        try:
            card, certificate, holder, status = answer.get()
        except CardRemoved:
            return
        except (HardwareError, IdentityError) as exc:
            log.info("role login: card refused: %s", type(exc).__name__)
            state.problem = Problem(getattr(exc, "translation_key", "error.unexpected"),
                                    dict(getattr(exc, "params", {})))
            self._changed()
            return
        if self.access.role_for(holder) is None:
            # No role: refuse before asking a PIN. login_with_card writes the refusal and why.
            try:
                self.access.login_with_card(holder)
            except RoleRefused as exc:
                state.problem = Problem(refusal_key(exc.reason))
            self._changed()
            return
        if status.state is PinState.LOCKED:
            state.problem = Problem("error.pin_locked")
            self._changed()
            return
        state.card, state.certificate, state.holder = card, certificate, holder
        state.stage, state.problem, state.tries_left = LoginStage.PIN, None, status.tries_left
        self._changed()

    def enter_pin(self, pin: bytearray | None) -> None:
        """The staff card's PIN: the card signs a fresh challenge, then the role list admits. ``pin`` is wiped."""
        state = self.login
        if self.mode is not Mode.LOGIN or state.stage is not LoginStage.PIN or state.card is None \
                or state.certificate is None or state.holder is None or not self.journey.card_work.idle:
            wipe(pin)
            return
        card, certificate = state.card, state.certificate
        self.journey.card_work.run(lambda: prove_possession(card, certificate, pin), self._pin_checked,
                                   say=None if pin is None else "busy.card", secrets=(pin,))

    def _pin_checked(self, answer: Answer[None]) -> None:
        state = self.login
        if self.mode is not Mode.LOGIN or state.stage is not LoginStage.PIN or state.holder is None:
            return
        try:
            answer.get()
        except PinIncorrect as exc:
            state.problem, state.tries_left = Problem(exc.translation_key, dict(exc.params)), exc.tries_left
            self._changed()
            return
        except PinLocked as exc:
            state.wipe()
            state.problem = Problem(exc.translation_key)
            self._changed()
            return
        except CardRemoved:
            state.wipe()
            self._changed()
            return
        except (HardwareError, IdentityError) as exc:
            state.wipe()
            state.problem = Problem(getattr(exc, "translation_key", "error.unexpected"))
            self._changed()
            return
        holder = state.holder
        try:
            actor = self.access.login_with_card(holder)
        except RoleRefused as exc:  # the list changed between the card and the PIN
            state.wipe()
            state.problem = Problem(refusal_key(exc.reason))
            self._changed()
            return
        self._admit(actor)

    def use_passcode(self) -> None:
        """Switch the login to the technician passcode keypad."""
        if self.mode is Mode.LOGIN:
            self.login.wipe()
            self.login.stage = LoginStage.PASSCODE
            self._changed()

    def enter_passcode(self, digits: bytearray) -> None:
        """Check the technician passcode (typed on the keypad); ``digits`` is wiped."""
        try:
            if self.mode is not Mode.LOGIN or self.login.stage is not LoginStage.PASSCODE:
                return
            try:
                actor = self.access.login_with_passcode(digits.decode("ascii"))
            except PasscodeError as exc:
                key = PASSCODE_KEYS.get(type(exc).__name__, "role_login.passcode_wrong")
                self.login.problem = Problem(key, dict(exc.params))
                self._changed()
                return
            self._admit(actor)
        finally:
            wipe(digits)

    def back_to_card(self) -> None:
        """From the passcode keypad back to "insert your card"."""
        if self.mode is Mode.LOGIN:
            self.login.wipe()
            self._changed()

    def _admit(self, actor: Actor) -> None:
        self.login.wipe()
        self.actor = actor
        log.info("%s mode opened", actor.role)
        self._changed(Mode.TECHNICIAN if actor.role == Role.TECHNICIAN.value else Mode.STAFF)

    # -- leaving -------------------------------------------------------------------------------

    def leave(self, reason: str = "exit") -> None:
        """Back to the attract screen: log the staff member or technician out, forget the login."""
        if self.mode is Mode.CITIZEN:
            return
        if self.actor is not None:
            self.access.logout(self.actor)
            log.info("%s mode closed: %s", self.actor.role, reason)
        self.actor = None
        self.journey.card_work.forget()
        self.login.wipe()
        if self._translator.language != self._language:
            self._translator.set_language(self._language)
        self._changed(Mode.CITIZEN)

    def start_assisted(self) -> None:
        """Staff will help the next villager: back to the attract screen, requests marked "assisted by"."""
        if self.mode is not Mode.STAFF or self.actor is None:
            return
        actor = self.actor
        self.staff.start_assisted(actor)
        self.journey.assisted_by = actor.masked_id
        self.leave("assisted_session")

    @property
    def assisted_by(self) -> Actor | None:
        """The staff member helping the current (or next) villager."""
        return self.staff.assisted_by

    def _on_step(self, step: Step) -> None:
        # The staff desk (subscribed first) ends the assisted session with the visit; the journey follows.
        if self.staff.assisted_by is None and self.journey.assisted_by:
            self.journey.assisted_by = ""

    # -- idle ----------------------------------------------------------------------------------

    def touch(self) -> None:
        """Someone touched the screen: the privileged mode's idle clock restarts."""
        self._last_activity = self.clock()

    def idle_remaining(self) -> float | None:
        """Seconds until a silent privileged mode closes (None in citizen mode)."""
        if self.mode is Mode.CITIZEN:
            return None
        return self._idle.timeout_s - (self.clock() - self._last_activity)

    def countdown(self) -> float | None:
        """Seconds left once the closing countdown shows, else None."""
        remaining = self.idle_remaining()
        if remaining is None or remaining > self._idle.countdown_s:
            return None
        return max(0.0, remaining)

    def tick(self) -> None:
        """Called about twice a second: a silent privileged mode closes."""
        remaining = self.idle_remaining()
        if remaining is not None and remaining <= 0:
            self.leave("idle")
