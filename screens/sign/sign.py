"""The signing PIN: the villager's qualified signature on the request they just checked."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.ports import PinState
from protocol.catalogue import localized
from screens.base import KioskScreen


class SignScreen(KioskScreen):
    """Asks for the 6-digit signing PIN (or the reader's keypad); tries left; plain words when it is blocked."""

    service_title = StringProperty("")
    warning = StringProperty("")
    locked = BooleanProperty(False)
    on_reader = BooleanProperty(False)
    checking = BooleanProperty(False)  # the card is signing: a real card takes up to a second

    def refresh(self) -> None:
        s = self.journey.session
        self.service_title = localized(s.service.title, self.tr.lang) if s.service else ""
        self.on_reader = self.journey.pin_on_reader
        status = s.sign_status
        self.locked = bool(status and status.state is PinState.LOCKED)
        parts = [self.tr.t(s.problem.key, **s.problem.params)] if s.problem else []
        if status and not self.locked:
            if status.state is PinState.FINAL_TRY:
                parts.append(self.tr.t("pin.final_try"))
            elif status.state is PinState.COUNT_LOW and not s.problem:
                parts.append(self.tr.t("pin.tries_left", tries=status.tries_left))
        self.warning = "\n".join(parts)
        self.checking = False
        self.ids.pad.clear()

    def submit(self, pin: bytearray) -> None:
        """The pad's OK: the digits go to the journey (which wipes them); the card answers on its own thread."""
        self.journey.sign(pin)
        self.checking = bool(self.journey.busy)  # the pad waits for the answer (the journey redraws then)

    def sign_on_reader(self) -> None:
        """With a PIN-pad reader the card asks for the PIN itself: one touch starts it (never a retry loop)."""
        self.journey.sign(None)

    def wipe(self) -> None:
        self.service_title = self.warning = ""
        self.checking = False
        self.ids.pad.clear()
