"""The PIN services' screen: which PIN, then old / PUK, new, repeat — and the card's answer in words."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.pin_flow import Stage
from kiosk.ports import PinKind, PinState
from protocol.catalogue import localized
from screens.base import KioskScreen


class PinChangeScreen(KioskScreen):
    """One stage at a time; the pad takes exactly as many digits as the code has."""

    stage = StringProperty("")
    title = StringProperty("")
    prompt = StringProperty("")
    rule = StringProperty("")
    warning = StringProperty("")
    outcome = StringProperty("")
    succeeded = BooleanProperty(False)
    length = NumericProperty(4)

    def refresh(self) -> None:
        s = self.journey.session
        flow = s.pin_flow
        if flow is None:
            return
        tr = self.tr.t
        self.title = localized(s.service.title, self.tr.lang) if s.service else tr("puk.title")
        self.stage = flow.stage.value
        self.length = flow.length
        self.ids.pad.max_length = flow.length
        self.ids.pad.clear()
        if flow.stage is Stage.DONE:
            problem = flow.problem
            self.outcome = tr(flow.outcome_key, **(problem.params if problem else {}))
            self.succeeded = flow.succeeded
            self.prompt = self.rule = self.warning = ""
            return
        self.outcome = ""
        self.prompt = tr(flow.prompt_key, length=flow.length)
        rules = {Stage.NEW: "pin_change.rule", Stage.PUK: "puk.where", Stage.OLD: "pin_change.old_help"}
        self.rule = tr(rules[flow.stage], length=flow.length) if flow.stage in rules else ""
        parts = [tr(flow.problem.key, **flow.problem.params)] if flow.problem else []
        status = flow.status
        if flow.stage is flow.first_stage and status is not None and status.state is PinState.FINAL_TRY:
            parts.append(tr("pin.final_try"))
        self.warning = "\n".join(parts)

    def choose(self, which: str) -> None:
        """A "which PIN" button: ``auth`` or ``sign``."""
        self.journey.pin_service_choose(PinKind(which))

    def submit(self, digits: bytearray) -> None:
        """The pad's OK: the journey takes the digits and wipes them."""
        self.journey.pin_service_enter(digits)

    def wipe(self) -> None:
        self.title = self.prompt = self.rule = self.warning = self.outcome = ""
        self.stage = ""
        self.ids.pad.clear()
