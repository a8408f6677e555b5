"""The staff and technician tour: drives the real app with touches through every privileged screen.

``kiosk demo --tour-staff DIR [--report R.json]`` starts a reference hub on 127.0.0.1, then: the
hidden gesture, a wrong then right technician passcode,
every technician check (the bundle goes to DIR/usb), enrolment from the screen, "sync now"
(which fetches the signed role list), a villager's card refused, the staff card and its PIN,
the queue, a cancellation with a reason and a note, a reprint, the day's report and its printed
summary, and an assisted session whose request carries "assisted by". Each screen is saved as
``DIR/<lang>-NN-<name>.png`` in every language asked for. Exit 0 only when every check passed.
"""


from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from demo.staff_tour_harness import (
    PASSCODE,
    SERVICE,
    SETTLE_S,
    STAFF,
    VILLAGER_PHONE,
    DemoHub,
    TourClock,
    TourDriver,
    answer_for,
    publish_pictures,
    staff_card,
    start_demo_hub,
)
from demo.staff_tour_visits import staff_visit, technician_visit
from kiosk.config import Settings
from kiosk.services import Services

__all__ = ["PASSCODE", "SERVICE", "SETTLE_S", "STAFF", "VILLAGER_PHONE", "DemoHub", "StaffTour", "TourClock",
           "TourDriver", "answer_for", "print_report", "run_tour", "staff_card", "staff_tour_settings",
           "start_demo_hub"]


class StaffTour(TourDriver):
    """The scripted staff member and technician; ``checks`` collects (name, ok, detail)."""

    def script(self) -> Iterator[float]:  # noqa: C901 — one scripted visit, read top to bottom
        from kivy.core.window import Window

        from demo.touch import tap

        app, demo, modes = self.app, self.demo, self.app.services.modes
        audit = app.services.privileged.audit
        # a villager's request made before, so the queue has something in it
        yield from self.villager_request()
        self.facts["request_before"] = app.services.outbox.list(limit=1)[0].id

        tap(app.root.ids.larger_text)  # an ordinary tap on the top bar: no way into the modes
        tap(app.root.ids.larger_text)
        self.press(8, Window.height - 8, "begin")
        self.press(8, Window.height - 8, "end")
        self.press(Window.width - 8, 8, "begin")
        self.press(Window.width - 8, 8, "end")
        yield SETTLE_S
        self.check("a short tap in the corners does not open the login", app.current_screen == "attract",
                   app.current_screen)
        self.gesture(second_tap=False)
        yield SETTLE_S
        self.check("a long press alone does not open the login", app.current_screen == "attract", app.current_screen)
        self.clock.advance(4)
        self.press(Window.width - 8, 8, "begin")
        self.press(Window.width - 8, 8, "end")
        yield SETTLE_S
        self.check("a tap too late does not open the login", app.current_screen == "attract", app.current_screen)
        self.gesture()
        yield SETTLE_S
        self.check("the gesture opens the role login", app.current_screen == "role_login", app.current_screen)
        yield from self.shot("role-login")

        login = self.screen("role_login")
        self.tap(login.ids.use_passcode)
        yield SETTLE_S
        self.digits("role_login", "111111")
        yield SETTLE_S
        self.check("a wrong passcode says the tries left", app.current_screen == "role_login"
                   and login.warning == app.tr.t("role_login.passcode_wrong", tries=2), login.warning)
        yield from self.shot("passcode-wrong")
        self.digits("role_login", PASSCODE)
        yield SETTLE_S
        self.check("the passcode opens the technician mode (no hub, no role list)",
                   app.current_screen == "technician", app.current_screen)
        yield from technician_visit(self)

        self.tap(self.screen("technician").ids.exit)
        yield SETTLE_S
        self.check("exit returns to the attract screen", app.current_screen == "attract" and not modes.privileged)
        yield from self.villager_request()  # a request still waiting: staff will cancel it
        self.facts["request_queued"] = app.services.outbox.list(limit=1)[0].id
        self.gesture()
        yield SETTLE_S
        demo.reader.insert(demo.new_card())
        yield 0.3
        self.check("a villager's card is refused: no staff role", app.current_screen == "role_login"
                   and login.warning == app.tr.t("role_login.refused.no_role") and login.stage == "waiting",
                   login.warning)
        yield from self.shot("citizen-card-refused")
        demo.reader.remove()
        yield SETTLE_S
        self.check("the villager's card never started a citizen session", app.journey.session.is_empty)
        demo.reader.insert(staff_card(demo, STAFF))
        yield 0.3
        self.check("the staff card asks its PIN", login.stage == "pin", login.stage)
        self.digits("role_login", "1234")
        yield 0.3
        self.check("card + PIN + role list open the staff mode", app.current_screen == "staff", app.current_screen)
        demo.reader.remove()
        yield SETTLE_S
        yield from staff_visit(self)

        requests_before = len(app.services.outbox.list(limit=100))
        self.tap(self.screen("staff").ids.start_assisted)
        yield SETTLE_S
        self.check("assisted session: back to attract with the note", app.current_screen == "attract"
                   and app.services.privileged.staff.assisted_by is not None)
        yield from self.shot("assisted-waiting")
        yield from self.villager_request()
        self.check("the assisted request was queued", len(app.services.outbox.list(limit=100)) == requests_before + 1)
        actions = [e.action for e in audit.entries()]
        self.check("assisted start, request and end are audited",
                   {"assisted.start", "assisted.request", "assisted.end"} <= set(actions), actions[-6:])
        self.facts["audit_actions"] = actions
        self.facts["assisted_request"] = app.services.outbox.list(limit=1)[0].id
        self.check("after the visit nobody is marked as assisting", app.journey.assisted_by == ""
                   and app.services.privileged.staff.assisted_by is None)

        self.gesture()
        yield SETTLE_S
        self.tap(login.ids.use_passcode)
        yield SETTLE_S
        for _ in range(3):
            self.digits("role_login", "000000")
            yield SETTLE_S
        self.check("the passcode locks after the tries and says how long",
                   login.warning == app.tr.t("role_login.passcode_locked", minutes=5), login.warning)
        yield from self.shot("passcode-locked")
        self.clock.advance(app.services.settings.kiosk.idle_timeout_s + 1)
        yield 0.6
        self.check("the idle timeout closes the login", app.current_screen == "attract" and not modes.privileged)

    def villager_request(self) -> Iterator[float]:
        """A villager: card, PIN, the residence certificate, receipt, card out."""
        from demo.touch import find

        app, demo = self.app, self.demo
        demo.reader.insert(demo.new_card())
        yield 0.4
        self.digits("pin", "1234")
        yield 0.3
        try:
            self.tap(find(self.screen("services"), service_id=SERVICE))
        except LookupError:
            pass
        yield SETTLE_S
        if app.journey.step.value != "form":  # an intro page, or the button is off this page: not what we show
            app.journey.choose_service(SERVICE)
            yield SETTLE_S
        while app.journey.step.value == "form" and app.journey.current_field is not None:
            app.journey.answer(answer_for(app.journey.current_field, app.journey))
            yield 0.05
        yield SETTLE_S
        self.tap(self.screen("confirm").ids.send)
        yield 0.3
        self.check("the villager's request reached its receipt", app.current_screen == "done",
                   f"{app.current_screen} {app.journey.step} {app.journey.session.problem} {app.journey.current_field}")
        demo.reader.remove()
        yield 0.3


def staff_tour_settings(data: Path, langs: list[str]) -> Settings:
    """A demo kiosk for the tour: the tour's technician passcode, three tries, the first language."""
    from kiosk.config import load_settings
    from kiosk.passcode import hash_passcode

    env = {"KIOSK_ACCESS_TECHNICIAN_PASSCODE_HASH": hash_passcode(PASSCODE, n=2**14),
           "KIOSK_ACCESS_PASSCODE_MAX_TRIES": "3", "KIOSK_KIOSK_LANGUAGE": langs[0]}
    return load_settings(None, env=env).simulated(data)


def run_tour(services: Services, hub: DemoHub, clock: TourClock, out: Path, langs: list[str]) -> dict[str, Any]:
    """Run the tour on ``services`` (built by the entry point on ``staff_tour_settings`` with ``clock``);
    returns the report (``ok``, checks, pictures). Pictures replace those in ``out`` only on success."""
    from screens.runner import run_app

    final, shots = out, Path(tempfile.mkdtemp(prefix="staff-tour-shots-"))
    data = services.settings.kiosk.data_dir
    tours: list[StaffTour] = []

    def started(app: Any) -> None:
        tour = StaffTour(app, hub, clock, shots, langs)
        tours.append(tour)
        tour.start()

    run_app(services, headless=True, size=(1280, 800), on_started=started)
    tour = tours[0]
    log = b"".join(p.read_bytes() for p in (data / "logs").glob("kiosk.log*"))
    report = {"ok": not tour.error and all(ok for _, ok, _ in tour.checks), "error": tour.error,
              "checks": tour.checks, "pictures": tour.pictures, "facts": tour.facts,
              "audit": [e.as_dict() for e in services.privileged.audit.entries()],
              "audit_verified": services.privileged.audit.verify().ok,
              "log_has_secret": any(s.encode() in log for s in (PASSCODE, STAFF["personal_number"]))}
    publish_pictures(shots, final, report)
    return report


def print_report(report: dict[str, Any], out: Path) -> int:
    """Say each check's outcome; 0 when every check passed."""
    for name, ok, detail in report["checks"]:
        print(f"{'ok    ' if ok else 'FAILED'}  {name}" + ("" if ok else f"  ({detail})"))
    if report["error"]:
        print(report["error"])
    print(f"{len(report['pictures'])} pictures in {out}")
    return 0 if report["ok"] else 1
