"""One screen for moments with only words: reading the card, PIN blocked, something went wrong."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.session import Step
from screens.base import KioskScreen

_TITLES = {
    Step.READING: ("reading.title", "reading.body"),
    Step.PIN_BLOCKED: ("blocked.title", "blocked.body"),
}


class MessageScreen(KioskScreen):
    """Title, explanation, and "ask a staff member" where that is the way out."""

    title = StringProperty("")
    body = StringProperty("")
    ask_staff = BooleanProperty(False)
    can_cancel = BooleanProperty(False)

    def refresh(self) -> None:
        tr = self.tr.t
        step = self.journey.step
        problem = self.journey.session.problem
        if step in _TITLES:
            title_key, body_key = _TITLES[step]
            self.title, self.body = tr(title_key), tr(body_key)
        else:
            self.title = tr("failed.title")
            self.body = tr(problem.key, **problem.params) if problem else tr("error.unexpected")
        self.ask_staff = step is not Step.READING
        self.can_cancel = step is Step.PIN_BLOCKED

    def wipe(self) -> None:
        self.title = self.body = ""
