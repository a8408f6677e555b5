"""The form's question widgets in the real Kivy app, offscreen, driven by touches.

One Kivy window per process: the scenarios below run in one child process (this file run as a
script), each from card in to card out, and report what they saw as JSON; the tests read it.
Screenshots of every question type in Georgian and English go to the report's folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.kivy_child import child_report

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 21)  # a Saturday
PHONE = "599123456"
SCENARIOS: dict[str, Callable] = {}


def scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


# -- the child process: drives the app ------------------------------------------------------------


class Driver:
    """The running app, its demo hardware, and touch helpers that let the frame settle."""

    def __init__(self, app, services, shots: Path) -> None:  # noqa: ANN001
        self.app, self.services, self.shots = app, services, shots
        self.journey, self.demo = services.journey, services.demo

    def settle(self, frames: int = 3) -> None:
        """A few frames, and as many more as the card takes to answer (it answers on its own thread)."""
        import time

        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()
        deadline = time.monotonic() + 10
        while not self.journey.card_work.idle and time.monotonic() < deadline:
            EventLoop.idle()
        EventLoop.idle()

    def tap(self, widget) -> None:  # noqa: ANN001
        from demo.touch import tap

        tap(widget)
        self.settle()

    def find(self, screen: str, **attrs: object):  # noqa: ANN201
        from demo.touch import find

        return find(self.app.screen(screen), **attrs)

    @property
    def form(self):  # noqa: ANN201
        return self.app.screen("form")

    def language(self, lang: str) -> None:
        from demo.touch import find

        self.tap(find(self.app.root, lang_code=lang))

    def start(self, service_id: str, lang: str = "ka") -> None:
        self.language(lang)
        self.demo.reader.insert(self.demo.new_card())
        self.settle()
        for digit in "1234":
            self.tap(self.find("pin", text=digit, disabled=False))
        self.tap(self.app.screen("pin").ids.pad.ids.ok)
        assert self.app.current_screen == "services", self.app.current_screen
        self.tap(self.find("services", service_id=service_id))
        assert self.app.current_screen == "intro", self.app.current_screen  # fee, time, documents first
        self.tap(self.app.screen("intro").ids.start)
        assert self.app.current_screen == "form", self.app.current_screen

    def type(self, text: str) -> None:
        for ch in text:
            self.tap(self.find("form", text=ch, disabled=False))

    def next(self) -> None:
        self.tap(self.form.ids.next_button)

    def shot(self, name: str) -> None:
        import shutil

        from kivy.core.window import Window

        self.settle()
        written = Window.screenshot(name=str(self.shots / f"{name}.png"))
        shutil.move(written, self.shots / f"{name}.png")

    def end(self) -> None:
        self.demo.reader.remove()
        self.settle()


@scenario
def date_stepper(d: Driver) -> dict:
    """Death record: the date question starts today, cannot go past today, and steps by touch."""
    out = {}
    for lang in ("ka", "en"):
        d.start("death_record_extract", lang)
        d.tap(d.find("form", choice_id="parent"))
        d.next()  # the personal number is optional
        stepper = d.form.input
        out[f"{lang}_start"] = stepper.value.isoformat()
        out[f"{lang}_disabled"] = sorted(k for k, w in stepper.ids.items() if k.endswith(("_up", "_down")) and w.disabled)
        for button in ("day_down", "day_down", "day_down", "month_down"):
            d.tap(stepper.ids[button])
        out[f"{lang}_summary"] = stepper.summary
        out[f"{lang}_captions"] = [stepper.day_caption, stepper.month_caption, stepper.year_caption]
        d.shot(f"{lang}-date")
        d.next()
        out[f"{lang}_answer"] = d.journey.session.answers.get("date_of_death")
        d.end()
    return out


@scenario
def appointment(d: Driver) -> dict:
    """Appointment: seven halls in two columns of big buttons; the date starts tomorrow and stops at +30 days."""
    from kivy.core.window import Window

    d.start("psh_appointment", "en")
    grid = d.form.input
    buttons = [w for w in grid.children if hasattr(w, "choice_id")]
    out = {
        "cols": grid.cols,
        "buttons": len(buttons),
        "smallest": min(min(b.width, b.height) for b in buttons),
        "min_touch": d.app.theme.min_touch,
        "inside": all(b.y >= 0 and b.top <= Window.height for b in buttons),
        "below_help": all(b.top <= d.form.ids.problem.y + 1 for b in buttons),
    }
    d.shot("en-choice")
    d.tap(d.find("form", choice_id="marneuli"))
    d.tap(d.find("form", choice_id="civil"))
    stepper = d.form.input
    out["start"] = stepper.value.isoformat()
    out["day_down_disabled"] = stepper.ids.day_down.disabled
    d.tap(stepper.ids.year_up)
    out["after_year_up"] = stepper.value.isoformat()
    out["year_up_disabled"] = stepper.ids.year_up.disabled
    d.shot("en-date-range")
    d.next()
    out["answer"] = d.journey.session.answers.get("date")
    d.end()
    return out


@scenario
def consent(d: Driver) -> dict:
    """Consent: Next without the tick says how to fix it; the box ticks and unticks; ticked, Next goes on."""
    out = {}
    for lang in ("ka", "en"):
        d.start("residence_certificate", lang)
        d.tap(d.find("form", choice_id="bank"))
        d.type(PHONE)
        d.next()
        d.next()
        out[f"{lang}_problem"] = d.form.problem
        out[f"{lang}_still_form"] = d.app.current_screen
        box = d.find("form", consent=True)
        d.tap(box)
        out[f"{lang}_after_one"] = box.ticked
        d.shot(f"{lang}-consent")
        d.tap(box)
        out[f"{lang}_after_two"] = box.ticked
        d.tap(box)
        d.next()
        out[f"{lang}_then"] = d.app.current_screen
        out[f"{lang}_answer"] = d.journey.session.answers.get("consent")
        d.end()
    return out


@scenario
def number(d: Driver) -> dict:
    """Household size on the numeric pad: 25 is refused with the range; corrected to 3 it goes on."""
    out = {}
    for lang in ("ka", "en"):
        d.start("social_assistance_application", lang)
        d.type("25")
        d.next()
        out[f"{lang}_problem"] = d.form.problem
        out[f"{lang}_kept"] = d.form.input.value
        d.shot(f"{lang}-number")
        d.tap(d.find("form", text="⌫", disabled=False))
        d.tap(d.find("form", text="⌫", disabled=False))
        d.type("3")
        d.next()
        out[f"{lang}_answer"] = d.journey.session.answers.get("household_size")
        out[f"{lang}_next_is_choice"] = type(d.form.input).__name__
        d.shot(f"{lang}-choice")
        d.end()
    return out


@scenario
def prefilled(d: Driver) -> dict:
    """Birth record: the personal number comes filled in from the card; Next takes it."""
    from hardware.demo_pki import DEMO_CITIZEN

    out = {}
    for lang in ("ka", "en"):
        d.start("birth_record_extract", lang)
        d.tap(d.find("form", choice_id="self"))
        out[f"{lang}_shown"] = d.form.input.value == DEMO_CITIZEN["personal_number"]
        d.shot(f"{lang}-personal-number")
        d.next()
        out[f"{lang}_taken"] = d.journey.session.answers.get("record_personal_number") == DEMO_CITIZEN["personal_number"]
        out[f"{lang}_now"] = d.journey.current_field.id
        d.end()
    return out


@scenario
def text_and_language_switch(d: Driver) -> dict:
    """Marriage record: letters typed on the keyboard survive a language switch; the question follows it."""
    d.start("marriage_record_extract", "en")
    d.shot("en-text")
    d.type("nino")
    before = d.form.label
    d.language("ka")
    out = {"kept": d.form.input.value, "label_before": before, "label_after": d.form.label}
    d.shot("ka-text")
    d.end()
    return out


@scenario
def summary_and_wipe(d: Driver) -> dict:
    """A whole death-record form, then the summary; then the card is pulled and nothing is left anywhere."""
    from demo.touch import walk
    from demo.tour import leftovers
    from hardware.demo_pki import DEMO_CITIZEN

    d.start("death_record_extract", "en")
    d.tap(d.find("form", choice_id="parent"))
    d.type("12345678901")
    d.next()
    stepper = d.form.input
    d.tap(stepper.ids.day_down)
    d.next()
    d.type(PHONE)
    d.next()
    d.tap(d.find("form", consent=True))
    d.next()
    confirm = d.app.screen("confirm")
    out = {"screen": d.app.current_screen, "rows": [w.text for w in reversed(confirm.ids.table.children)]}
    d.shot("en-summary")
    d.journey.back()  # back on a question, with answers held, when the card is pulled
    d.settle()
    d.end()
    secrets = [DEMO_CITIZEN["personal_number"], DEMO_CITIZEN["surname"], "12345678901", PHONE, "599 12 34 56"]
    out["leftovers"] = leftovers(d.app, secrets)
    out["session_empty"] = d.journey.session.is_empty
    out["question_widgets_left"] = [
        type(w).__name__ for w in walk(d.form) if type(w).__name__ in ("DateStepper", "ConsentBox", "ChoiceButtons")
    ]
    out["screen_after"] = d.app.current_screen
    return out


def run_child(report: Path, shots: Path) -> None:
    """Start the app offscreen, run every scenario, write the report."""
    shots.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="form-widgets-"))
    from screens.runner import prepare_kivy

    prepare_kivy(kivy_home=data / "kivy", headless=True, size=(1280, 800), fullscreen=False)
    from entrypoints.bootstrap import build_services
    from kiosk.config import load_settings
    from screens.app import KioskApp

    now = dt.datetime.combine(TODAY, dt.time(10), tzinfo=dt.timezone.utc)
    services = build_services(load_settings(None, env={}).simulated(data / "data"), clock=lambda: now)
    app = KioskApp(services)
    app._run_prepare()  # build the app and its window, as App.run() would, without its blocking loop
    driver = Driver(app, services, shots)
    driver.settle(5)
    results: dict[str, dict] = {}
    for name, fn in SCENARIOS.items():
        try:
            results[name] = {"ok": True, **fn(driver)}
        except Exception:  # noqa: BLE001 - the report carries the traceback to the test that reads it
            results[name] = {"ok": False, "error": traceback.format_exc()}
            if services.journey.session.card is not None:
                driver.end()
    report.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    app.stop()
    services.close()


# -- the tests: read the child's report ----------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("form-widgets")
    return child_report(__file__, out / "report.json", shots=Path(os.environ.get("KIOSK_FORM_SHOTS", out / "shots")))


def result(report: dict, name: str) -> dict:
    got = report[name]
    assert got["ok"], got.get("error")
    return got


@pytest.mark.ui
def test_date_is_set_with_buttons_and_cannot_pass_its_range(report: dict) -> None:
    """GIVEN the date of death (up to today) WHEN shown THEN it starts today with + on day and year disabled;
    WHEN – is touched 3× on the day and 1× on the month THEN the date reads in words and is stored as ISO."""
    got = result(report, "date_stepper")
    for lang in ("ka", "en"):
        assert got[f"{lang}_start"] == "2026-11-21"
        assert {"day_up", "year_up"} <= set(got[f"{lang}_disabled"]) and "day_down" not in got[f"{lang}_disabled"]
        assert got[f"{lang}_answer"] == "2026-10-18"
    assert got["en_summary"] == "Sunday, 18 October 2026"
    assert got["ka_summary"] == "კვირა, 18 ოქტომბერი, 2026"
    assert got["ka_captions"] == ["დღე", "თვე", "წელი"] and got["en_captions"] == ["Day", "Month", "Year"]


@pytest.mark.ui
def test_appointment_choice_and_date_range(report: dict) -> None:
    """GIVEN the appointment WHEN its seven halls show THEN two columns of buttons at least 15 mm, all on screen
    under the question; the date starts tomorrow, – is disabled there, and +1 year stops at 30 days ahead."""
    got = result(report, "appointment")
    assert got["cols"] == 2 and got["buttons"] == 7
    assert got["smallest"] >= got["min_touch"] and got["inside"] and got["below_help"]
    assert got["start"] == "2026-11-22" and got["day_down_disabled"]
    assert got["after_year_up"] == "2026-12-21" and got["year_up_disabled"]
    assert got["answer"] == "2026-12-21"


@pytest.mark.ui
def test_consent_box_must_be_ticked(report: dict) -> None:
    """GIVEN the consent question WHEN Next is touched unticked THEN it stays, saying to tick the box;
    the box ticks and unticks by touch; ticked, Next leads to the summary with consent "yes"."""
    got = result(report, "consent")
    assert got["en_problem"].startswith("Touch the box to tick it.")
    assert got["ka_problem"].startswith("შეეხეთ ველს")
    for lang in ("ka", "en"):
        assert got[f"{lang}_still_form"] == "form"
        assert (got[f"{lang}_after_one"], got[f"{lang}_after_two"]) == (True, False)
        assert got[f"{lang}_then"] == "confirm" and got[f"{lang}_answer"] == "yes"


@pytest.mark.ui
def test_number_out_of_range_says_the_range(report: dict) -> None:
    """GIVEN the household size (1–20) WHEN 25 is typed on the pad THEN the message gives the range and 25 stays
    to correct; WHEN corrected to 3 THEN it is taken and the next question is a choice."""
    got = result(report, "number")
    assert got["en_problem"] == "Type a number from 1 to 20."
    assert got["ka_problem"] == "ჩაწერეთ რიცხვი 1-დან 20-მდე."
    for lang in ("ka", "en"):
        assert got[f"{lang}_kept"] == "25" and got[f"{lang}_answer"] == "3"
        assert got[f"{lang}_next_is_choice"] == "ChoiceButtons"


@pytest.mark.ui
def test_personal_number_is_prefilled_from_the_card(report: dict) -> None:
    """GIVEN the birth record's "whose number" question WHEN it shows THEN the card's number is in the field, and Next takes it."""
    got = result(report, "prefilled")
    for lang in ("ka", "en"):
        assert got[f"{lang}_shown"] and got[f"{lang}_taken"] and got[f"{lang}_now"] == "phone"


@pytest.mark.ui
def test_typed_text_survives_a_language_switch(report: dict) -> None:
    """GIVEN letters typed but not yet sent WHEN the language is switched THEN they stay and the question is re-said."""
    got = result(report, "text_and_language_switch")
    assert got["kept"] == "nino"
    assert got["label_before"] == "Your spouse's first name and surname"
    assert got["label_after"] == "მეუღლის სახელი და გვარი"


@pytest.mark.ui
def test_summary_is_readable_and_card_pull_leaves_nothing(report: dict) -> None:
    """GIVEN a whole form WHEN the summary shows THEN answers read as words (choice label, date, grouped phone);
    WHEN the card is pulled THEN no widget and no session object holds any of it."""
    got = result(report, "summary_and_wipe")
    assert got["screen"] == "confirm"
    rows = got["rows"]
    for expected in ("Mother or father", "12345678901", "Friday, 20 November 2026", "599 12 34 56", "Yes",
                     "5.00 ₾", "You will need"):
        assert any(expected in row for row in rows), (expected, rows)
    assert got["leftovers"] == [] and got["session_empty"] and got["question_widgets_left"] == []
    assert got["screen_after"] == "attract"


@pytest.mark.ui
def test_every_question_type_is_photographed_in_georgian_and_english(report: dict) -> None:
    """GIVEN the scenarios WHEN they finish THEN a picture of each question type exists in ka and en."""
    for lang in ("ka", "en"):
        for kind in ("date", "choice", "consent", "number", "personal-number", "text"):
            assert f"{lang}-{kind}.png" in report["_shots"]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    run_child(Path(sys.argv[1]), Path(sys.argv[2]))
