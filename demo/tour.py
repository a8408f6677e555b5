"""The scripted demo journey: drives the real app with touches and photographs every step.

``kiosk demo --tour DIR`` runs it headless; each step must reach its expected screen, or
the tour fails (exit status 1). Screens go to ``DIR/NN-step.png``, receipts to ``DIR/receipt-*.png``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window

from demo.status_page_shot import save_status_page
from demo.touch import find, tap, walk
from hardware.demo_pki import DEMO_CITIZEN
from hardware.espeak_speaker import EspeakSpeaker
from kiosk.ports import DemoDevices
from kiosk.services import Services
from screens.app import KioskApp

log = logging.getLogger(__name__)

SETTLE_S = 0.25  # time for the event loop to apply a step and draw a frame
DEMO_PHONE = "577104522"  # not the catalogue's example number, so the leftovers check means something
SIGN_PIN = "123456"  # the demo card's signing PIN
NEW_PIN = "2468"  # the PIN the tour changes to, and sets with the PUK
PUK = "12345678"
SIGNED_SERVICE = "social_assistance_application"  # needs the citizen's qualified signature


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


def citizen_journey(demo: DemoDevices, lang: str) -> list[TourStep]:
    """Card in, a wrong PIN then the right one, a request with a receipt, "my requests", a PIN change,
    a request with a qualified signature (its signing PIN), the rating, card out; then a card whose
    PIN gets blocked and is unblocked with the PUK."""
    steps = [TourStep("attract", "attract")]
    if lang != "ka":
        steps.append(TourStep(f"language-{lang}", "attract", _switch_language(lang)))
    steps += [
        TourStep("card-inserted", "pin", lambda app: demo.reader.insert(demo.new_card())),
        TourStep("pin-wrong", "pin", _type_and_ok("pin", "0000", _pin_ok)),
        TourStep("pin-typed", "pin", _type("pin", "1234")),
        TourStep("services", "services", _pin_ok),
        TourStep("intro", "intro", _tap("services", service_id="residence_certificate")),
        TourStep("form-choice", "form", _tap_id("intro", "start")),
        TourStep("form-phone", "form", _tap("form", choice_id="employment")),
        TourStep("form-phone-typed", "form", _type("form", DEMO_PHONE)),
        TourStep("form-consent", "form", _tap_id("form", "next_button")),
        TourStep("confirm", "confirm", _tick_consent_then_next),
        TourStep("done", "done", _tap_id("confirm", "send")),
        TourStep("services-again", "services", _tap_text("done", "done.another")),
        TourStep("my-requests", "my_requests", _tap("services", service_id="my_requests")),
        TourStep("services-after-requests", "services", _tap_id("my_requests", "back")),
        TourStep("pin-change", "pin_change", _tap("services", service_id="pin_change")),
        TourStep("pin-change-old", "pin_change", _tap_id("pin_change", "choose_auth")),
        TourStep("pin-change-new", "pin_change", _type_and_ok("pin_change", "1234", _pin_change_ok)),
        TourStep("pin-change-repeat", "pin_change", _type_and_ok("pin_change", NEW_PIN, _pin_change_ok)),
        TourStep("pin-change-done", "pin_change", _type_and_ok("pin_change", NEW_PIN, _pin_change_ok)),
        TourStep("services-after-pin-change", "services", _tap_id("pin_change", "continue_button")),
        TourStep("signed-intro", "intro", _tap("services", service_id=SIGNED_SERVICE)),
        TourStep("signed-form", "form", _tap_id("intro", "start")),
        TourStep("signed-form-number", "form", _type("form", "4")),
        TourStep("signed-form-choice", "form", _tap_id("form", "next_button")),
        TourStep("signed-form-phone", "form", _tap("form", choice_id="pensioner_alone")),
        TourStep("signed-form-phone-typed", "form", _type("form", DEMO_PHONE)),
        TourStep("signed-form-consent", "form", _tap_id("form", "next_button")),
        TourStep("signed-confirm", "confirm", _tick_consent_then_next),
        TourStep("sign", "sign", _tap_id("confirm", "send")),
        TourStep("sign-typed", "sign", _type("sign", SIGN_PIN)),
        TourStep("signed-done", "done", _sign_ok),
        TourStep("rating", "rating", _tap_id("done", "finish")),
        TourStep("rated", "attract", _tap("rating", score=5)),
        TourStep("card-removed", "attract", lambda app: demo.reader.remove()),
    ]
    if lang != "ka":
        # each session starts in the kiosk's language: the next card's pictures need the tour's own again
        steps.append(TourStep(f"language-{lang}-again", "attract", _switch_language(lang)))
    steps += [
        TourStep("blocked-card-inserted", "pin", lambda app: demo.reader.insert(demo.new_card())),
        # one wrong PIN per step: after OK the pad waits a frame ("checking…") before the card is asked
        TourStep("pin-wrong-2-left", "pin", _type_and_ok("pin", "0000", _pin_ok)),
        TourStep("pin-wrong-final-try", "pin", _type_and_ok("pin", "1111", _pin_ok)),
        TourStep("pin-blocked", "message", _type_and_ok("pin", "2222", _pin_ok)),
        TourStep("puk", "pin_change", _tap_id("message", "unblock_puk")),
        TourStep("puk-new", "pin_change", _type_and_ok("pin_change", PUK, _pin_change_ok)),
        TourStep("puk-repeat", "pin_change", _type_and_ok("pin_change", NEW_PIN, _pin_change_ok)),
        TourStep("puk-done", "pin_change", _type_and_ok("pin_change", NEW_PIN, _pin_change_ok)),
        TourStep("pin-after-puk", "pin", _tap_id("pin_change", "continue_button")),
        TourStep("blocked-card-removed", "attract", lambda app: demo.reader.remove()),
    ]
    return steps


def _tick_consent_then_next(app: KioskApp) -> None:
    tap(find(app.screen("form"), consent=True))
    tap(app.screen("form").ids.next_button)


def _tap_text(screen: str, key: str) -> Callable[[KioskApp], None]:
    def action(app: KioskApp) -> None:
        tap(find(app.screen(screen), text=app.tr.t(key)))

    return action


def _type_and_ok(screen: str, digits: str, ok: Callable[[KioskApp], None]) -> Callable[[KioskApp], None]:
    def action(app: KioskApp) -> None:
        _type(screen, digits)(app)
        ok(app)

    return action


def _pin_change_ok(app: KioskApp) -> None:
    tap(app.screen("pin_change").ids.pad.ids.ok)


def _sign_ok(app: KioskApp) -> None:
    tap(app.screen("sign").ids.pad.ids.ok)


def _pin_ok(app: KioskApp) -> None:
    tap(app.screen("pin").ids.pad.ids.ok)


def leftovers(app: KioskApp, secrets: list[str]) -> list[str]:
    """Where any of ``secrets`` still appears in a widget's text, on any screen built so far."""
    found = []
    for name, screen in app.all_screens().items():
        for widget in walk(screen):
            for attr in ("text", "value", "greeting", "title", "body", "label", "receipt_no", "service_title",
                         "warning", "outcome", "source_text", "prompt"):
                text = getattr(widget, attr, None)
                if isinstance(text, str) and any(secret and secret in text for secret in secrets):
                    found.append(f"{name}: {type(widget).__name__}.{attr}")
    return found


class Tour:
    """Runs steps one after another on the Kivy clock and records the outcome."""

    def __init__(self, app: KioskApp, demo: DemoDevices, out_dir: Path, steps: list[TourStep]) -> None:
        self.app = app
        self.demo = demo
        self.out_dir = out_dir
        self.steps = steps
        self.result = TourResult()
        self._index = 0
        self._waited = 0
        self.secrets: list[str] = []  # citizen data that must be gone from every widget at the end

    def start(self) -> None:
        """Begin after the first frames are drawn."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in self.out_dir.glob("*.png"):
            old.unlink()
        audio = self.app.services.audio
        if audio is not None and audio.available:
            # Headless there is no sound card: the spoken prompts are kept as WAV files instead.
            shutil.rmtree(self.out_dir / "audio", ignore_errors=True)
            audio.use_speaker(EspeakSpeaker(wav_dir=self.out_dir / "audio"))
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
        if (len(self.app.manager.children) > 1 or self.app.journey.busy) and self._waited < 40:
            # a screen change or a card answer still in flight (a busy machine): photograph the finished screen
            self._waited += 1
            Clock.schedule_once(self._check, SETTLE_S / 2)
            return
        self._waited = 0
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
        self._status_pages()
        self.app.stop()

    def _status_pages(self) -> None:
        """Open the page behind each receipt's QR code, as the villager's phone would, and keep it."""
        for number, record in enumerate(self.demo.printer.receipts, start=len(self.steps) + 1):
            url = record.receipt.qr_url
            if "/r/" not in url:
                self.result.failed.append(f"receipt {record.receipt.receipt_no}: its QR does not open the hub's page")
                continue
            kept = save_status_page(url, self.out_dir, f"{number:02d}-status-page", self.app.services.sync.sync_once)
            self.result.pictures.extend(p for p in kept if p.suffix == ".png")
            page = kept[0].read_text(encoding="utf-8")
            if record.receipt.receipt_no not in page:
                self.result.failed.append(f"status page for {record.receipt.receipt_no} does not show the request")
            else:
                self.result.passed.append("status-page")


def run_citizen_tour(services: Services, out_dir: Path, lang: str) -> int:
    """Run the villager's scripted journey on ``services``; 0 when every step reached its screen.

    Kivy must already be prepared (``screens.runner.prepare_kivy``, headless, at the tour's size):
    it reads its window settings once, when first imported."""
    from screens.app import KioskApp

    demo = services.demo
    if demo is None:
        raise ValueError("the citizen tour needs simulated devices (Settings.simulated())")
    holder: dict[str, Tour] = {}

    def start(app: KioskApp) -> None:
        tour = Tour(app, demo, out_dir, citizen_journey(demo, lang))
        tour.secrets = [*DEMO_CITIZEN.values(), DEMO_PHONE]
        holder["tour"] = tour
        tour.start()

    KioskApp(services, on_started=start).run()
    result = holder["tour"].result
    for name in result.passed:
        print(f"ok      {name}")
    for problem in result.failed:
        print(f"FAILED  {problem}")
    print(f"{len(result.pictures)} pictures in {out_dir}")
    return 0 if result.ok else 1
