"""Role login: a staff or technician ID card and its PIN, or the technician passcode on a keypad."""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty

from kiosk.staff_session import LoginStage
from screens.role_login.base import PrivilegedScreen

PIN_DIGITS = 4
PASSCODE_MAX_DIGITS = 12


class RoleLoginScreen(PrivilegedScreen):
    """Shows what the login waits for, the PIN or passcode pad, and why a card was refused."""

    stage = StringProperty(LoginStage.WAITING.value)
    warning = StringProperty("")
    pad_digits = NumericProperty(PIN_DIGITS)

    def refresh(self) -> None:
        login = self.modes.login
        self.stage = login.stage.value
        problem = login.problem
        self.warning = self.problem_text(problem.key, problem.params) if problem else ""
        self.pad_digits = PASSCODE_MAX_DIGITS if login.stage is LoginStage.PASSCODE else PIN_DIGITS
        self.ids.pad.clear()

    def submit(self, digits: bytearray) -> None:
        """The pad's OK: the PIN to the card, or the passcode to the gate; both wipe the digits."""
        if self.stage == LoginStage.PASSCODE.value:
            self.modes.enter_passcode(digits)
        else:
            self.modes.enter_pin(digits)

    def wipe(self) -> None:
        self.warning = ""
        self.stage = LoginStage.WAITING.value
        self.ids.pad.clear()
