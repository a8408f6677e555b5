"""The scripted demo journey: drives the real app with touches and photographs every step.

``kiosk demo --tour DIR`` runs it headless; each step must reach its expected screen, or
the tour fails (exit status 1). Screens go to ``DIR/NN-step.png``, receipts to ``DIR/receipt-*.png``.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.bootstrap import DemoHardware
from screens.app import KioskApp
from screens.touch import find, tap, walk

log = logging.getLogger(__name__)

SETTLE_S = 0.25
DEMO_PHONE = "599123456"  # time for the event loop to apply a step and draw a frame


@dataclass
class TourStep:
    """An action, the screen it must lead to, and the picture's name."""

    name: str
    expect: str
    action: Callable[[KioskApp], None] | None = None


@dataclass
class TourResult:
    """What the tour saw."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pictures: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step reached its screen."""
        return not self.failed and bool(self.passed)


def _tap_key(app: KioskApp, screen: str, key: str) -> None:
    """Tap one key of the on-screen keyboard or PIN pad on ``screen``."""
    root = app.screen(screen)
    tap(find(root, text=key, disabled=False))


def _type(screen: str, text: str) -> Callable[[KioskApp], None]:
    def action(app: KioskApp) -> None:
        for ch in text:
            _tap_key(app, screen, ch)

    return action


def _tap(screen: str, **attrs: object) -> Callable[[KioskApp], None]:
    def action(app: KioskApp) -> None:
        tap(find(app.screen(screen), **attrs))

    return action


def _tap_id(screen: str, widget_id: str) -> Callable[[KioskApp], None]:
    def action(app: KioskApp) -> None:
        tap(app.screen(screen).ids[widget_id])

    return action


def _switch_language(lang: str) -> Callable[[KioskApp], None]:
    def action(app: KioskApp) -> None:
        tap(find(app.root, lang_code=lang))

    return action


def citizen_journey(demo: DemoHardware, lang: str) -> list[TourStep]:
    """Card in, PIN, a service with three questions, confirm, receipt, card out."""
    steps = [TourStep("attract", "attract")]
    if lang != "ka":
        steps.append(TourStep(f"language-{lang}", "attract", _switch_language(lang)))
    steps += [
        TourStep("card-inserted", "pin", lambda app: demo.reader.insert(demo.new_card())),
        TourStep("pin-typed", "pin", _type("pin", "1234")),
        TourStep("services", "services", _pin_ok),
        TourStep("form-choice", "form", _tap("services", service_id="residence_certificate")),
        TourStep("form-phone", "form", _tap("form", choice_id="employment")),
        TourStep("form-phone-typed", "form", _type("form", DEMO_PHONE)),
        TourStep("form-consent", "form", _tap_id("form", "next_button")),
        TourStep("confirm", "confirm", _tap("form", consent=True)),
        TourStep("done", "done", _tap_id("confirm", "send")),
        TourStep("card-removed", "attract", lambda app: demo.reader.remove()),
    ]
    return steps


def _pin_ok(app: KioskApp) -> None:
    tap(app.screen("pin").ids.pad.ids.ok)


def leftovers(app: KioskApp, secrets: list[str]) -> list[str]:
    """Where any of ``secrets`` still appears in a widget's text, on any screen built so far."""
    found = []
    for name, screen in app.all_screens().items():
        for widget in walk(screen):
            for attr in ("text", "value", "greeting", "title", "body", "label", "receipt_no"):
                text = getattr(widget, attr, None)
                if isinstance(text, str) and any(secret and secret in text for secret in secrets):
                    found.append(f"{name}: {type(widget).__name__}.{attr}")
    return found


class Tour:
    """Runs steps one after another on the Kivy clock and records the outcome."""

    def __init__(self, app: KioskApp, demo: DemoHardware, out_dir: Path, steps: list[TourStep]) -> None:
        self.app = app
        self.demo = demo
        self.out_dir = out_dir
        self.steps = steps
        self.result = TourResult()
        self._index = 0
        self.secrets: list[str] = []  # citizen data that must be gone from every widget at the end

    def start(self) -> None:
        """Begin after the first frames are drawn."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in self.out_dir.glob("*.png"):
            old.unlink()
        Clock.schedule_once(self._act, SETTLE_S * 2)

    def _act(self, _dt: float) -> None:
        if self._index >= len(self.steps):
            self._finish()
            return
        step = self.steps[self._index]
        try:
            if step.action:
                step.action(self.app)
        except LookupError as exc:
            log.error("tour step %s: %s", step.name, exc)
        Clock.schedule_once(self._check, SETTLE_S)

    def _check(self, _dt: float) -> None:
        step = self.steps[self._index]
        picture = self._screenshot(f"{self._index + 1:02d}-{step.name}")
        self.result.pictures.append(picture)
        if self.app.current_screen == step.expect:
            self.result.passed.append(step.name)
        else:
            self.result.failed.append(f"{step.name}: expected {step.expect}, saw {self.app.current_screen}")
        self._index += 1
        Clock.schedule_once(self._act, 0)

    def _screenshot(self, stem: str) -> Path:
        written = Window.screenshot(name=str(self.out_dir / f"{stem}.png"))
        target = self.out_dir / f"{stem}.png"
        shutil.move(written, target)  # Kivy appends a counter to the name
        return target

    def _finish(self) -> None:
        left = leftovers(self.app, self.secrets)
        if left:
            self.result.failed.append("citizen data left on screen after the session: " + "; ".join(left))
        if not self.app.journey.session.is_empty:
            self.result.failed.append("the session object still holds citizen data")
        for record in self.demo.printer.receipts:
            target = self.out_dir / f"receipt-{record.receipt.receipt_no}.png"
            record.image.save(target)
            self.result.pictures.append(target)
        self.app.stop()
