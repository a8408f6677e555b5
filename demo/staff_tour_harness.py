"""What the staff tour drives the app with: a loopback hub, staff cards, a clock it moves on, fingers, a camera.

The script itself (which screens, in which order, what is checked) is in ``demo.staff_tour``
and ``demo.staff_tour_visits``; this module holds what the script stands on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PASSCODE = "482916"  # the demo technician passcode (digits: it is typed on the keypad)
STAFF = {"personal_number": "01001012345", "given_name": "თამარ", "surname": "კაპანაძე"}
SETTLE_S = 0.2
SERVICE = "residence_certificate"
VILLAGER_PHONE = "577104522"


def answer_for(field: Any, journey: Any) -> str:
    """A valid answer to one question (the villager's part of the tour is not what it shows)."""
    from kiosk.forms import sample_answer

    return sample_answer(field, journey.session.citizen, journey.today(), phone=VILLAGER_PHONE, text="bank")


class TourClock:
    """Monotonic time that the tour can move on (the 3 s hold of the gesture, the idle timeout)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        """Jump ahead."""
        self.offset += seconds


@dataclasses.dataclass
class DemoHub:
    """The reference hub serving on loopback for the tour."""

    url: str
    store: Any
    stop: Any

    def enroll_code(self) -> str:
        """A one-time enrolment code."""
        from hub import enrolment

        return enrolment.make_code(self.store, dt.timedelta(hours=1))

    def add_role(self, number: str, role: str, name: str) -> None:
        """Grant a role on every kiosk."""
        from hub import documents

        documents.add_role(self.store, number, role, name)


def start_demo_hub(folder: Path) -> DemoHub:
    """Initialise a hub in ``folder`` and serve it on a free loopback port, in a thread."""
    from demo.local_hub import serve_in_thread

    local = serve_in_thread(folder / "hub.db")
    return DemoHub(local.url, local.store, local.stop)


def staff_card(demo: Any, person: dict[str, str]) -> Any:
    """A demo ID card for ``person``, issued by the demo PKI (same trust anchors as the villagers')."""
    from hardware.simulated_card import SimulatedIdCard

    pki = demo.pki
    pki = dataclasses.replace(pki, citizen_auth=pki.issue_citizen("authentication", citizen=person),
                              citizen_sign=pki.issue_citizen("signing", citizen=person))
    return SimulatedIdCard(pki)


class TourDriver:
    """Runs a scripted visit frame by frame and gives it fingers, a keyboard hand, checks and a camera.

    A subclass writes ``script()``, a generator yielding how long to wait before its next step;
    ``checks`` collects (name, ok, detail).
    """

    def __init__(self, app: Any, hub: DemoHub, clock: TourClock, out: Path, langs: list[str]) -> None:
        self.app, self.hub, self.clock, self.out, self.langs = app, hub, clock, out, langs
        self.demo = app.services.demo
        self.checks: list[tuple[str, bool, str]] = []
        self.pictures: list[str] = []
        self.error = ""
        self.facts: dict[str, Any] = {}

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin after the first frames."""
        from demo.touch import run_script

        run_script(self.app, self.script(), self._failed, first_delay=0.4)

    def _failed(self, exc: Exception) -> None:
        import traceback

        self.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}"

    # -- touches ---------------------------------------------------------------------------------
    def press(self, x: float, y: float, phase: str) -> None:
        """One finger event at window point (x, y): ``begin`` or ``end``."""
        from kivy.base import EventLoop

        from demo.touch import FingerTouch

        if phase == "begin":
            self._finger = FingerTouch(x, y)
        EventLoop.post_dispatch_input(phase, self._finger)

    def gesture(self, hold_s: float = 3.2, second_tap: bool = True) -> None:
        """Hold the top-left corner ``hold_s`` (on the tour's clock), then tap the bottom-right."""
        from kivy.core.window import Window

        self.press(8, Window.height - 8, "begin")
        self.clock.advance(hold_s)
        self.press(8, Window.height - 8, "end")
        if second_tap:
            self.press(Window.width - 8, 8, "begin")
            self.press(Window.width - 8, 8, "end")

    def tap(self, widget: Any) -> None:
        from demo.touch import tap

        tap(widget)

    def screen(self, name: str) -> Any:
        return self.app.screen(name)

    def digits(self, screen: str, text: str) -> None:
        from demo.touch import find

        for digit in text:
            self.tap(find(self.screen(screen).ids.pad, text=digit))
        self.tap(self.screen(screen).ids.pad.ids.ok)

    def type_text(self, panel: Any, keyboard: Any, text: str) -> Iterator[float]:
        """Type ``text`` with touches: the extra keys (``/ : _ http://``), digits and Latin letters.

        After switching between letters and digits the new keys are laid out on the next frame.
        """
        from demo.touch import find

        i = 0
        while i < len(text):
            if text.startswith("http://", i):
                self.tap(find(panel, text="http://"))
                i += len("http://")
                continue
            ch = text[i]
            if ch in "/:_":
                self.tap(find(panel, text=ch))
            else:
                wanted = "numeric" if ch.isdigit() else "en"
                if keyboard.layout != wanted:  # "." is on the letters' punctuation row, not the digit pad
                    self.tap(find(panel, text="123" if wanted == "numeric" else "abc"))
                    yield 0.05
                self.tap(find(keyboard, key=ch))
            i += 1

    def check(self, name: str, ok: object, detail: object = "") -> None:
        self.checks.append((name, bool(ok), str(detail)[:500]))

    def wait_idle(self, screen: str) -> Iterator[float]:
        """Let the technician screen's worker threads finish."""
        for _ in range(100):
            if self.screen(screen).busy == 0:
                break
            yield 0.1
        yield SETTLE_S

    def shot(self, name: str) -> Iterator[float]:
        """Photograph the screen in every language asked for, switching with the top bar's buttons."""
        from kivy.core.window import Window

        from demo.touch import find

        first = self.app.tr.lang
        for lang in self.langs:
            if self.app.tr.lang != lang:
                self.tap(find(self.app.root.ids.languages, lang_code=lang))
                yield SETTLE_S
            target = self.out / f"{lang}-{len(self.pictures) // len(self.langs) + 1:02d}-{name}.png"
            written = Window.screenshot(name=str(target))
            shutil.move(written, target)
            self.pictures.append(str(target))
        if self.app.tr.lang != first:
            self.tap(find(self.app.root.ids.languages, lang_code=first))
            yield SETTLE_S

    # -- the script ------------------------------------------------------------------------------
    def script(self) -> Iterator[float]:
        """The visit: yields the seconds to wait before each next step."""
        raise NotImplementedError


def publish_pictures(shots: Path, final: Path, report: dict[str, Any]) -> None:
    """Move the new pictures (and the bundle folder) into ``final``; a failed run goes to ``final/failed-run``."""
    target = final if report["ok"] else final / "failed-run"
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.png"):
        old.unlink()
    shutil.rmtree(target / "usb", ignore_errors=True)
    moved = {}
    for path in shots.iterdir():
        moved[str(path)] = str(shutil.move(str(path), target / path.name))
    report["pictures"] = [moved.get(p, p).replace(str(shots), str(target)) for p in report["pictures"]]
    report["facts"] = {k: v.replace(str(shots), str(target)) if isinstance(v, str) else v
                       for k, v in report["facts"].items()}
    shutil.rmtree(shots, ignore_errors=True)
