"""A slow card in the real Kivy app, offscreen: the screen keeps drawing, says it is checking with the card,
refuses touches visibly, keeps counting down the idle time, and a card pulled mid-operation ends the session.

One Kivy window per process: the child (this file run as a script) drives the app frame by frame and
writes what it saw as JSON; the tests read it. Pictures of the veil go to the report's folder
(``KIOSK_BUSY_SHOTS=DIR`` keeps them).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.fixtures.kivy_child import child_report

CARD_DELAY_S = 0.6  # per card operation: a slow real card signs in 0.5-1 s


class FakeMonotonic:
    """The journey's idle clock, moved by the child to bring the countdown during a card operation."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def child(report: Path, shots: Path) -> None:
    from screens.runner import prepare_kivy

    data = Path(tempfile.mkdtemp(prefix="card-busy-"))
    shots.mkdir(parents=True, exist_ok=True)
    prepare_kivy(kivy_home=data / "kivy", headless=True, size=(1280, 800), fullscreen=False)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from demo.touch import find, tap
    from entrypoints.bootstrap import build_services
    from kiosk.config import load_settings
    from screens.app import KioskApp

    idle_clock = FakeMonotonic()
    services = build_services(load_settings(None, env={}).simulated(data / "data"), monotonic=idle_clock)
    app = KioskApp(services)
    app._run_prepare()  # build the app and its window, as App.run() would, without its blocking loop
    journey, demo, root = services.journey, services.demo, app.root
    veil = root.ids.busy
    out: dict[str, object] = {}
    drawn = [0]  # frames run so far

    def frame() -> None:
        EventLoop.idle()
        drawn[0] += 1

    def frames(until, timeout_s: float = 15.0) -> int:  # noqa: ANN001
        count, deadline = 0, time.monotonic() + timeout_s
        while not until():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited in vain; at {journey.step}, busy {journey.busy}")
            frame()
            count += 1
        for _ in range(8):  # what it led to laid out (a finger is slower than this)
            frame()
        return count

    def touch(widget) -> None:  # noqa: ANN001
        tap(widget)
        for _ in range(3):  # the touch is dispatched, the screen laid out
            frame()

    def shot(name: str) -> None:
        written = Window.screenshot(name=str(shots / f"{name}.png"))
        os.replace(written, shots / f"{name}.png")

    frames(lambda: app.current_screen == "attract")
    card = demo.new_card(delay_s=CARD_DELAY_S)
    demo.reader.insert(card)
    out["reading_frames"] = frames(lambda: app.current_screen == "pin" and journey.card_work.idle)
    for digit in "1234":
        touch(find(app.screen("pin"), text=digit, disabled=False))
    frames(lambda: app.screen("pin").ids.pad.length == 4, timeout_s=2)
    card._delay_s = 2.5  # the login takes long enough to photograph the veil in two languages
    touch(app.screen("pin").ids.pad.ids.ok)
    at_ok = drawn[0]
    frames(lambda: journey.busy is not None)
    out["busy_after_ok"] = journey.busy
    angle = veil.angle
    started = time.monotonic()
    frames(lambda: time.monotonic() - started > 0.3)
    out["veil_shown"], out["veil_says"] = veil.shown, veil.ids.what.text
    out["ring_turned"] = veil.angle != angle
    out["screen_during"] = app.current_screen
    touch(find(app.screen("pin"), text="7"))  # under the veil: refused, and said
    frames(lambda: veil.nudged and veil.ids.wait.text != "", timeout_s=2)
    out["pad_after_touch"] = app.screen("pin").ids.pad.length
    out["wait_says"] = veil.ids.wait.text
    shot("ka-checking-with-card")
    app.tr.switch("en")
    frames(lambda: veil.ids.what.text == app.tr.t("busy.card"), timeout_s=2)
    shot("en-checking-with-card")
    out["en_shot_during_card"] = [veil.shown, journey.busy, app.current_screen]
    app.tr.switch("ka")
    frames(lambda: app.current_screen == "services" and journey.busy is None)
    out["frames_during_login"] = drawn[0] - at_ok
    card._delay_s = CARD_DELAY_S
    out["veil_after"] = [veil.say, veil.shown, veil.nudged]

    # the idle countdown runs while the card answers: the services' "my requests" has none to wait for,
    # so the PIN change's first touch is the operation (the card reads the signing PIN's tries)
    touch(find(app.screen("services"), service_id="pin_change"))
    frames(lambda: app.current_screen == "pin_change")
    card._delay_s = 3.0  # a card this slow gives the countdown time to show while it answers
    touch(app.screen("pin_change").ids.choose_sign)
    frames(lambda: journey.busy is not None)
    idle_clock.now += services.settings.kiosk.idle_timeout_s - 5  # into the countdown, the card still answering
    frames(lambda: root.countdown >= 0, timeout_s=2)
    out["countdown_during_card"] = [root.countdown, journey.busy]
    shot("ka-countdown-over-veil")
    touch(root.ids.more_time)  # the countdown box lies over the veil: it still takes a touch
    frames(lambda: root.countdown < 0, timeout_s=2)
    out["more_time_during_card"] = [journey.step.value, journey.busy]
    frames(lambda: journey.busy is None)
    card._delay_s = CARD_DELAY_S

    # the card pulled while it changes a PIN: the session ends at once, the late answer is dropped
    touch(app.screen("pin_change").ids.back)
    frames(lambda: app.current_screen == "pin_change" and app.screen("pin_change").stage == "choose")
    touch(app.screen("pin_change").ids.choose_auth)
    frames(lambda: journey.busy is not None)
    demo.reader.remove()
    out["pulled_frames"] = frames(lambda: app.current_screen == "attract")
    out["pulled"] = [journey.busy, journey.session.is_empty, veil.say]
    later = time.monotonic()
    frames(lambda: time.monotonic() - later > CARD_DELAY_S * 2)
    out["after_late_answer"] = [app.current_screen, journey.session.is_empty]
    report.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    app.stop()
    services.close()


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("card-busy")
    return child_report(__file__, out / "report.json", shots=Path(os.environ.get("KIOSK_BUSY_SHOTS", out / "shots")))


@pytest.mark.ui
def test_the_screen_keeps_drawing_and_says_it_is_checking_with_the_card(seen: dict) -> None:
    """GIVEN a card taking 0.6 s per operation WHEN the PIN's OK is touched THEN the screen stays on the PIN with
    the veil saying "checking with your card" (Georgian), its ring turning, frames drawn all along, and the
    services once the card has answered, the veil gone."""
    assert seen["busy_after_ok"] == "busy.card"
    assert seen["veil_shown"] and seen["veil_says"] == "ბარათთან ვამოწმებთ… გთხოვთ, ბარათი არ ამოიღოთ."
    assert seen["ring_turned"] and seen["screen_during"] == "pin"
    assert seen["reading_frames"] > 5 and seen["frames_during_login"] > 5
    assert seen["veil_after"] == ["", False, False]


@pytest.mark.ui
def test_a_touch_during_the_card_operation_is_refused_visibly(seen: dict) -> None:
    """GIVEN the veil up WHEN a PIN-pad key under it is touched THEN no digit is typed and "please wait" shows."""
    assert seen["pad_after_touch"] == 0
    assert seen["wait_says"] == "გთხოვთ, მოიცადოთ: ეკრანი მალე ისევ იმუშავებს."
    assert {"ka-checking-with-card.png", "en-checking-with-card.png"} <= set(seen["_shots"])
    assert seen["en_shot_during_card"] == [True, "busy.card", "pin"]


@pytest.mark.ui
def test_the_idle_countdown_keeps_running_while_the_card_answers(seen: dict) -> None:
    """GIVEN a card operation out WHEN the idle time runs into its countdown THEN the countdown shows over the veil,
    and its "more time" takes a touch while the card is still answering."""
    countdown, busy = seen["countdown_during_card"]
    assert 0 <= countdown <= 6 and busy == "busy.card"
    assert seen["more_time_during_card"] == ["pin_change", "busy.card"]


@pytest.mark.ui
def test_a_card_pulled_mid_operation_ends_the_session_at_once(seen: dict) -> None:
    """GIVEN the card changing a PIN WHEN it is pulled THEN the attract screen shows without waiting for the card,
    the veil is gone, nothing is held, and the card's late answer changes nothing."""
    assert seen["pulled"] == [None, True, ""]
    assert seen["after_late_answer"] == ["attract", True]


if __name__ == "__main__":
    child(Path(sys.argv[1]), Path(sys.argv[2]))
