"""The staff and technician tour: drives the real app with touches through every privileged screen.

``kiosk demo --tour-staff DIR`` (or ``python -m screens.staff_tour DIR [--report R.json]``) starts a
reference hub on 127.0.0.1, then: the hidden gesture, a wrong then right technician passcode,
every technician check (the bundle goes to DIR/usb), enrolment from the screen, "sync now"
(which fetches the signed role list), a villager's card refused, the staff card and its PIN,
the queue, a cancellation with a reason and a note, a reprint, the day's report and its printed
summary, and an assisted session whose request carries "assisted by". Each screen is saved as
``DIR/<lang>-NN-<name>.png`` in every language asked for. Exit 0 only when every check passed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

PASSCODE = "482916"  # the demo technician passcode (digits: it is typed on the keypad)
STAFF = {"personal_number": "01001012345", "given_name": "თამარ", "surname": "კაპანაძე"}
SETTLE_S = 0.2
SERVICE = "residence_certificate"
VILLAGER_PHONE = "577104522"


def answer_for(field: Any, journey: Any) -> str:
    """A valid answer to one question (the villager's part of the tour is not what it shows)."""
    from kiosk.catalogue import FieldType
    from kiosk.forms import CONSENT_GIVEN, date_bounds

    kind = field.type
    if kind is FieldType.CHOICE:
        return field.choices[0].id
    if kind is FieldType.PHONE:
        return VILLAGER_PHONE
    if kind is FieldType.CONSENT:
        return CONSENT_GIVEN
    if kind is FieldType.NUMBER:
        return str(field.minimum if field.minimum is not None else 1)
    if kind is FieldType.DATE:
        return date_bounds(field, journey.today)[0].isoformat()
    if kind is FieldType.PERSONAL_NUMBER:
        return journey.session.citizen.personal_number
    return journey.session.answers.get(field.id) or "bank"


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
    import uvicorn

    from hub.app import create_app
    from hub.keys import ensure_keys
    from hub.store import HubDatabase

    db_path = folder / "hub.db"
    keys = ensure_keys(db_path)
    store = HubDatabase(db_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(store, keys), log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-hub", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the demo hub did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()
        store.close()

    return DemoHub(f"http://127.0.0.1:{sock.getsockname()[1]}", store, stop)


def staff_card(demo: Any, person: dict[str, str]) -> Any:
    """A demo ID card for ``person``, issued by the demo PKI (same trust anchors as the villagers')."""
    from hardware.simulated_card import SimulatedIdCard

    pki = demo.pki
    pki = dataclasses.replace(pki, citizen_auth=pki.issue_citizen("authentication", citizen=person),
                              citizen_sign=pki.issue_citizen("signing", citizen=person))
    return SimulatedIdCard(pki)


class StaffTour:
    """The scripted staff member and technician; ``checks`` collects (name, ok, detail)."""

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
        from kivy.clock import Clock

        self._script = self.script()
        Clock.schedule_once(self._next, 0.4)

    def _next(self, _dt: float) -> None:
        from kivy.clock import Clock

        try:
            delay = next(self._script)
        except StopIteration:
            self.app.stop()
            return
        except Exception as exc:  # noqa: BLE001 — carried to the report; the tour fails on it
            import traceback

            self.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}"
            self.app.stop()
            return
        Clock.schedule_once(self._next, delay)

    # -- touches ---------------------------------------------------------------------------------
    def press(self, x: float, y: float, phase: str) -> None:
        """One finger event at window point (x, y): ``begin`` or ``end``."""
        from kivy.base import EventLoop

        from screens.touch import FingerTouch

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
        from screens.touch import tap

        tap(widget)

    def screen(self, name: str) -> Any:
        return self.app.screen(name)

    def digits(self, screen: str, text: str) -> None:
        from screens.touch import find

        for digit in text:
            self.tap(find(self.screen(screen).ids.pad, text=digit))
        self.tap(self.screen(screen).ids.pad.ids.ok)

    def type_text(self, panel: Any, keyboard: Any, text: str) -> Iterator[float]:
        """Type ``text`` with touches: the extra keys (``/ : _ http://``), digits and Latin letters.

        After switching between letters and digits the new keys are laid out on the next frame.
        """
        from screens.touch import find

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
                if keyboard.layout != wanted and not (ch == "." and keyboard.layout == "numeric"):
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

        from screens.touch import find

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
    def script(self) -> Iterator[float]:  # noqa: C901 — one scripted visit, read top to bottom
        from kivy.core.window import Window

        from screens.touch import find, tap

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
        yield from self.technician()

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
        yield from self.staff()

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
        from screens.touch import find

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

    def technician(self) -> Iterator[float]:
        """Every technician check, enrolment, and "sync now" fetching the role list."""
        from screens.touch import find

        tech = self.screen("technician")
        yield from self.wait_idle("technician")
        self.check("card check lists the reader", "Simulated Reader" in tech.card_text, tech.card_text)
        self.demo.reader.insert(self.demo.new_card())
        yield 0.2
        self.tap(tech.ids.test_card)
        yield SETTLE_S
        self.check("the card test reads the card with a masked number", "valid" in tech.card_text.lower()
                   and "********" in tech.card_text and "01001015083" not in tech.card_text, tech.card_text)
        self.check("a card in the reader in technician mode starts no citizen session",
                   self.app.journey.session.is_empty and self.app.current_screen == "technician")
        yield from self.shot("tech-card")
        self.demo.reader.remove()
        self.tap(tech.ids.tab_printer)
        yield SETTLE_S
        printed = len(self.demo.printer.receipts)
        self.tap(tech.ids.test_print)
        yield SETTLE_S
        self.check("test print printed a receipt", len(self.demo.printer.receipts) == printed + 1)
        yield from self.shot("tech-printer")
        self.tap(tech.ids.tab_touch)
        yield SETTLE_S
        grid = tech.ids.grid
        for index, (x, y) in enumerate(grid.targets()[:5]):
            self.press(x + 3 * index, y - 2 * index, "begin")
            self.press(x + 3 * index, y - 2 * index, "end")
        yield SETTLE_S
        self.check("touch grid reports an offset in mm per touch", len(grid.offsets) == 5
                   and grid.offsets[0][1] == 0.0 and grid.offsets[4][1] > 0, grid.offsets)
        yield from self.shot("tech-touch")
        self.tap(tech.ids.tab_network)
        yield from self.wait_idle("technician")
        self.check("network check says no hub is configured yet", tech.network_text, tech.network_text)
        yield from self.shot("tech-network")
        self.tap(tech.ids.tab_system)
        yield SETTLE_S
        self.check("system shows versions and hides secrets", "kivy" in tech.system_text
                   and "(set, hidden)" in tech.system_text and "scrypt$" not in tech.system_text, tech.system_text[:300])
        yield from self.shot("tech-system")
        self.tap(tech.ids.tab_bundle)
        yield SETTLE_S
        yield from self.type_text(tech, tech.ids.folder_keys, str(self.out / "usb"))
        self.check("the folder was typed on the keyboard", tech.ids.folder.value == str(self.out / "usb"),
                   tech.ids.folder.value)
        self.tap(tech.ids.export)
        yield from self.wait_idle("technician")
        zips = sorted((self.out / "usb").glob("kiosk-diag-*.zip"))
        self.check("the bundle is written to the folder typed", len(zips) == 1, tech.bundle_text)
        self.facts["bundle"] = str(zips[0]) if zips else ""
        yield from self.shot("tech-bundle")
        self.tap(tech.ids.tab_enrol)
        yield SETTLE_S
        self.hub.add_role(STAFF["personal_number"], "staff", "Tamar")
        self.tap(tech.ids.focus_url)
        yield from self.type_text(tech, tech.ids.enrol_keys, self.hub.url)
        self.tap(tech.ids.focus_code)
        yield from self.type_text(tech, tech.ids.enrol_keys, self.hub.enroll_code().lower())
        code_typed = tech.ids.code.value
        yield from self.shot("tech-enrol-typed")
        self.tap(tech.ids.enrol_button)
        yield from self.wait_idle("technician")
        self.check("enrolment from the screen", tech.enrol_text.startswith(self.app.tr.t("tech.enrol.done", hub="",
                   kiosk="")[:5]) and self.hub.url in tech.enrol_text, f"{tech.enrol_text} (code {code_typed!r})")
        yield from self.shot("tech-enrolled")
        self.tap(tech.ids.tab_network)
        yield from self.wait_idle("technician")
        self.tap(tech.ids.sync_now)
        yield from self.wait_idle("technician")
        roles = self.app.services.settings.kiosk.data_dir / "roles.signed.json"
        self.check("sync now fetched the signed role list", roles.exists(), tech.network_text)
        yield from self.shot("tech-synced")

    def staff(self) -> Iterator[float]:
        """The queue, a cancellation, a reprint, the day's report and its summary."""
        from screens.touch import find
        from screens.widgets.keyboard import OnScreenKeyboard

        desk = self.screen("staff")
        rows = desk.ids.queue_rows.children
        self.check("the queue lists the villagers' requests, no personal data",
                   {self.facts["request_before"], self.facts["request_queued"]} <= {r.request_id for r in rows}
                   and all("5083" not in r.receipt_no + r.service_title + r.reason_text for r in rows))
        yield from self.shot("staff-queue")
        row = next(r for r in rows if r.request_id == self.facts["request_queued"])
        self.tap(find(row, text=self.app.tr.t("staff.cancel")))
        yield SETTLE_S
        self.tap(find(desk.ids.reasons, reason="duplicate"))
        panel = desk.ids.panels.get_screen("cancel")
        keyboard = find(panel, __class__=OnScreenKeyboard)
        from screens.widgets.keyboard import LETTER_LAYOUTS

        for letter in LETTER_LAYOUTS[keyboard.layout][0][:4]:
            self.tap(find(keyboard, key=letter))
        self.tap(find(keyboard, key="space"))
        self.facts["note"] = desk.ids.note.value
        yield from self.shot("staff-cancel")
        self.tap(desk.ids.confirm_cancel)
        yield SETTLE_S
        cancelled = self.app.services.outbox.get(self.facts["request_queued"])
        self.check("cancelled with the reason picked", cancelled.state.value == "cancelled"
                   and cancelled.reason == "duplicate", cancelled)
        yield from self.shot("staff-cancelled")
        rows = desk.ids.queue_rows.children
        row = next(r for r in rows if r.request_id == self.facts["request_before"])
        printed = len(self.demo.printer.receipts)
        self.tap(find(row, text=self.app.tr.t("staff.reprint")))
        yield SETTLE_S
        self.check("reprint printed the receipt again", len(self.demo.printer.receipts) == printed + 1, desk.outcome)
        self.tap(desk.ids.tab_reprints)
        yield SETTLE_S
        yield from self.shot("staff-reprints")
        self.tap(desk.ids.tab_report)
        yield SETTLE_S
        self.check("the day's report counts today's request", desk.report().total >= 1, desk.report_text)
        yield from self.shot("staff-report")
        printed = len(self.demo.printer.receipts)
        self.tap(desk.ids.print_summary)
        yield SETTLE_S
        self.check("end-of-day summary printed", len(self.demo.printer.receipts) == printed + 1, desk.outcome)
        self.facts["summary_receipt"] = self.demo.printer.receipts[-1].receipt.receipt_no
        if self.demo.printer.receipts:
            self.demo.printer.receipts[-1].image.save(self.out / "staff-summary-receipt.png")
        self.tap(desk.ids.tab_assist)
        yield SETTLE_S
        yield from self.shot("staff-assist")


def run_tour(out: Path, langs: list[str], data: Path | None = None) -> dict[str, Any]:
    """Run the tour in a fresh demo data directory; returns the report (``ok``, checks, pictures)."""
    from kiosk.bootstrap import build_services
    from kiosk.cli import _setup_logging
    from kiosk.config import load_settings
    from kiosk.passcode import hash_passcode
    from screens.runner import run_app

    final, out = out, Path(tempfile.mkdtemp(prefix="staff-tour-shots-"))  # pictures replace the old set only on success
    work = Path(tempfile.mkdtemp(prefix="staff-tour-"))
    data = data or work / "kiosk"
    hub = start_demo_hub(work)
    try:
        env = {"KIOSK_ACCESS_TECHNICIAN_PASSCODE_HASH": hash_passcode(PASSCODE, n=2**14),
               "KIOSK_ACCESS_PASSCODE_MAX_TRIES": "3", "KIOSK_KIOSK_LANGUAGE": langs[0]}
        settings = load_settings(None, env=env).simulated(data)
        clock = TourClock()
        services = build_services(settings, monotonic=clock)
        _setup_logging(data, quiet=True)
        tours: list[StaffTour] = []

        def started(app: Any) -> None:
            tour = StaffTour(app, hub, clock, out, langs)
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
        services.close()
        _publish(out, final, report)
        return report
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)


def _publish(shots: Path, final: Path, report: dict[str, Any]) -> None:
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


def main(argv: list[str] | None = None) -> int:
    """``python -m screens.staff_tour DIR [--langs ka,en] [--report R.json]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--langs", default="ka,en", type=lambda s: s.split(","))
    parser.add_argument("--report", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    report = run_tour(args.out, args.langs)
    if args.report:
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    for name, ok, detail in report["checks"]:
        print(f"{'ok    ' if ok else 'FAILED'}  {name}" + ("" if ok else f"  ({detail})"))
    if report["error"]:
        print(report["error"])
    print(f"{len(report['pictures'])} pictures in {args.out}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
