"""Audio guidance: each screen's prompt spoken in the villager's language while audio is on.

Only prompts are spoken — what the screen asks, and what went wrong — never a name, a number
or an answer. The ``Speaker`` port is tiny; ``hardware.espeak_speaker`` speaks through espeak-ng
and ``NullSpeaker`` stands in where no speech engine is installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.i18n import Translator
from kiosk.ports import Speaker
from kiosk.session import Step
from protocol.catalogue import localized

if TYPE_CHECKING:
    from kiosk.journey import Journey

log = logging.getLogger(__name__)


class NullSpeaker:
    """Says nothing: the speaker when no speech engine is installed."""

    def say(self, text: str, language: str) -> None:
        """Do nothing."""

    def stop(self) -> None:
        """Do nothing."""


# Prompt keys per step; steps whose prompt depends on the state are handled in ``prompt_for``.
_STEP_PROMPTS: dict[Step, tuple[str, ...]] = {
    Step.READING: ("reading.title", "reading.body"),
    Step.PIN: ("pin.title", "pin.help"),
    Step.PIN_BLOCKED: ("blocked.title", "blocked.body"),
    Step.SERVICES: ("services.choose",),
    Step.CONFIRM: ("confirm.check",),
    Step.SIGN: ("sign.title", "sign.help"),
    Step.MY_REQUESTS: ("requests.title",),
    Step.DONE: ("done.title", "done.take_receipt"),
    Step.RATING: ("rating.title",),
    Step.FAILED: ("failed.title",),
}


def prompt_for(journey: Journey, tr: Translator) -> str:
    """What to say on the journey's current screen, in the current language."""
    step, s = journey.step, journey.session
    parts: list[str] = []
    if s.problem is not None:
        parts.append(tr(s.problem.key, **s.problem.params))
    if step is Step.ATTRACT:
        parts.append(tr("attract.take_card" if journey.card_left_in else "attract.insert_card"))
    elif step is Step.INTRO and s.service is not None:
        parts += [localized(s.service.title, tr.language), localized(s.service.help, tr.language)]
    elif step is Step.FORM and journey.current_field is not None:
        field = journey.current_field
        parts += [localized(field.label, tr.language), localized(field.help, tr.language)]
    elif step is Step.PIN_CHANGE and s.pin_flow is not None:
        flow = s.pin_flow
        if flow.problem is not None and flow.problem is not s.problem:
            parts.append(tr(flow.problem.key, **flow.problem.params))
        if not (flow.problem is not None and flow.prompt_key == flow.problem.key):
            parts.append(tr(flow.prompt_key, length=flow.length))
    else:
        parts += [tr(key) for key in _STEP_PROMPTS.get(step, ())]
    return " ".join(p for p in parts if p)


class AudioGuide:
    """Speaks each new screen's prompt while enabled; the villager switches it on or off at any time."""

    def __init__(self, speaker: Speaker, translator: Translator, *, available: bool, enabled: bool) -> None:
        self._speaker = speaker
        self._tr = translator
        self.available = available  # a speech engine is installed (the toggle is shown)
        self._default = enabled and available
        self._enabled = self._default
        self._journey: Journey | None = None
        self._listeners: list[Callable[[bool], None]] = []

    @property
    def enabled(self) -> bool:
        """True while prompts are spoken."""
        return self._enabled

    def subscribe(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(enabled)`` whenever audio is switched on or off."""
        self._listeners.append(listener)

    def set_enabled(self, enabled: bool) -> None:
        """Switch audio on (and say the current prompt) or off (and fall silent)."""
        enabled = enabled and self.available
        if enabled == self._enabled:
            return
        self._enabled = enabled
        for listener in list(self._listeners):
            listener(enabled)
        if enabled:
            self.speak_current()
        else:
            self._speaker.stop()

    def attach(self, journey: Journey) -> None:
        """Speak on every step of ``journey`` and after every language switch."""
        self._journey = journey
        journey.subscribe(self._on_step)
        self._tr.subscribe(lambda _lang: self.speak_current())

    def _on_step(self, step: Step) -> None:
        if step is Step.ATTRACT and self._enabled != self._default:
            self.set_enabled(self._default)  # the next villager starts with the kiosk's setting
        self.speak_current()

    def speak_current(self) -> None:
        """Say the current screen's prompt, if audio is on."""
        if not self._enabled or self._journey is None:
            return
        text = prompt_for(self._journey, self._tr)
        if text:
            self._speaker.say(text, self._tr.language)

    def use_speaker(self, speaker: Speaker) -> None:
        """Speak through ``speaker`` from now on (the headless tour records prompts to WAV files)."""
        self._speaker.stop()
        self._speaker = speaker

    def close(self) -> None:
        """Fall silent for good (the kiosk stops)."""
        self._speaker.stop()
