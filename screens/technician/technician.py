"""Technician mode: readers and a card test, printer, touch accuracy, network and sync, system, bundle, enrolment.

The technician's desk (``kiosk.technician_desk``, ``services.technician``) does the checks and the
actions; this screen draws what it returns. Those that wait on the network or a disk run on a worker
thread (``busy`` counts them) and are drawn back on the UI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.factory import Factory
from kivy.properties import NumericProperty, StringProperty

from kiosk.technician_desk import Outcome, failure
from screens.role_login.base import PrivilegedScreen
from screens.technician.tasks import in_background

if TYPE_CHECKING:
    from kiosk.services import Services

STATUS_KEYS = {"ok": "tech.status.ok", "warning": "tech.status.warning", "error": "tech.status.error"}


class TechnicianScreen(PrivilegedScreen):
    """The technician's checks; ``panel`` names the one on show."""

    panel = StringProperty("card")
    busy = NumericProperty(0)
    card_text = StringProperty("")
    printer_text = StringProperty("")
    touch_text = StringProperty("")
    network_text = StringProperty("")
    system_text = StringProperty("")
    bundle_text = StringProperty("")
    enrol_text = StringProperty("")
    active_field = StringProperty("hub_url")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._said: dict[str, Outcome] = {}
        self._card_report: dict[str, Any] | None = None  # the last card test (the number masked)
        self._printed: Outcome | None = None  # the last test print's outcome

    def attach(self, services: Services) -> None:
        """Called once by the wiring; the technician's desk comes with the services."""
        super().attach(services)
        self.desk = services.technician

    def refresh(self) -> None:
        for attr, outcome in self._said.items():
            setattr(self, attr, outcome.words(self.tr.t))
        self.show(self.panel)

    def say(self, attr: str, outcome: Outcome) -> None:
        """Set a one-message text (kept as its outcome, so a language switch says it again)."""
        self._said[attr] = outcome
        setattr(self, attr, outcome.words(self.tr.t))

    def show(self, panel: str) -> None:
        """Switch to one check and run its quick part."""
        self.panel = panel
        self.ids.panels.current = panel
        getattr(self, f"_show_{panel}")()

    def _status(self, part: dict[str, Any]) -> str:
        return f"{self.tr.t(STATUS_KEYS[part['status']])}: {part['reason']}"

    def _background(self, work: Any, done: Any) -> None:
        self.busy += 1

        def finished(result: Any) -> None:
            self.busy -= 1
            done(result)

        in_background(work, finished)

    # -- card ------------------------------------------------------------------------------------

    def _show_card(self) -> None:
        self.card_text = self._card_lines(self.desk.card())
        report = self._card_report
        if report is not None:
            heading = self.tr.t("tech.card.result_read" if report["card_read"] else "tech.card.result_unread")
            self.card_text += f"\n\n{heading}\n{self._findings(report)}"

    def _card_lines(self, section: dict[str, Any]) -> str:
        lines = [self._status(section)]
        for reader in section.get("readers", []):
            state = self.tr.t("tech.card.in" if reader["card_present"] else "tech.card.empty")
            pad = ", " + self.tr.t("tech.card.pinpad") if reader["has_pinpad"] else ""
            lines.append(f"• {reader['name']}: {state}{pad}")
        return "\n".join(lines)

    @staticmethod
    def _findings(report: dict[str, Any]) -> str:
        lines = []
        if report.get("error"):
            lines.append(report["error"])
        holder = report.get("holder") or {}
        if holder.get("personal_number"):
            lines.append(f"{holder.get('given_name', '')} {holder.get('surname', '')} ({holder['personal_number']})")
        for cert in report.get("certificates", []):
            lines.append(f"• {cert['role']}: {cert['status'].upper()} — {cert['reason']}")
        return "\n".join(lines)

    def test_card(self) -> None:
        """Read the card in the reader and check its certificates, as ``kiosk diag card`` (no PIN asked)."""
        self._card_report = self.desk.test_card()
        self._show_card()

    # -- printer ---------------------------------------------------------------------------------

    def _show_printer(self) -> None:
        self.printer_text = self._status(self.desk.printer())
        if self._printed is not None:
            self.printer_text += "\n" + self._printed.words(self.tr.t)

    def test_print(self) -> None:
        """Print a sample receipt in the language on screen and say how it went."""
        self._printed = self.desk.test_print(self.tr.lang)
        self._show_printer()

    # -- touch -----------------------------------------------------------------------------------

    def _show_touch(self) -> None:
        grid = self.ids.grid
        grid.dpi = self.services.settings.display.dpi
        self.on_grid_touch(grid, grid.offsets)

    def on_grid_touch(self, _grid: object, offsets: list) -> None:
        """Summarise the touches on the grid: each target's offset, the mean and the worst."""
        if not offsets:
            self.touch_text = self.tr.t("tech.touch.help")
            return
        values = [mm for _, mm in offsets]
        each = "  ".join(f"{index + 1}: {mm:.1f}" for index, mm in offsets[-9:])
        self.touch_text = self.tr.t("tech.touch.result", count=len(values), mean=f"{sum(values) / len(values):.1f}",
                                    worst=f"{max(values):.1f}") + "\n" + each

    # -- network and sync ------------------------------------------------------------------------

    def _show_network(self) -> None:
        queue = self.desk.queue()
        self.network_text = self.tr.t("tech.network.checking") + "\n" + self._status(queue)
        self._background(self.desk.hub, lambda hub: self._network_done(hub, queue))

    def _network_done(self, hub: Any, queue: dict[str, Any]) -> None:
        words = self._status(hub) if isinstance(hub, dict) else f"{type(hub).__name__}: {hub}"
        self.network_text = f"{self.tr.t('tech.network.hub')}: {words}\n{self.tr.t('tech.network.queue')}: " \
                            f"{self._status(queue)}"

    def sync_now(self) -> None:
        """One sync cycle with the hub now: send the queue, fetch statuses, documents and the role list."""
        self._background(self.desk.sync_now, self._sync_done)

    def _sync_done(self, result: Outcome | Exception) -> None:
        outcome = failure("tech.sync.failed", result) if isinstance(result, Exception) else result
        self.network_text = outcome.words(self.tr.t) + "\n" + self._status(self.desk.queue())

    # -- system ----------------------------------------------------------------------------------

    def _show_system(self) -> None:
        part = self.desk.system()
        lines = [self._status(part), "", self.tr.t("tech.system.versions")]
        lines += [f"  {name}: {version}" for name, version in part["versions"].items() if version]
        lines += ["", self.tr.t("tech.system.temperature") + ": " +
                  (", ".join(f"{t:.0f} °C" for t in part["cpu_temperature_c"].values())
                   if part["cpu_temperature_c"] else self.tr.t("tech.system.unreadable"))]
        lines += ["", self.tr.t("tech.system.config")]
        for group, items in part["config"].items():
            if isinstance(items, dict):
                lines += [f"  [{group}] " + ", ".join(f"{k}={v}" for k, v in items.items() if v not in ("", None))]
        lines += ["", self.tr.t("tech.system.errors")] + (part["last_errors"] or [self.tr.t("tech.system.no_errors")])
        self.system_text = "\n".join(lines)

    # -- bundle ----------------------------------------------------------------------------------

    def _show_bundle(self) -> None:
        self.ids.mounts.clear_widgets()
        for folder in self.desk.usb_folders():
            button = Factory.SmallButton(text=folder)
            button.bind(on_release=lambda b: setattr(self.ids.folder, "value", b.text))
            self.ids.mounts.add_widget(button)
        if not self.bundle_text:
            self.say("bundle_text", Outcome("tech.bundle.help"))

    def export_bundle(self) -> None:
        """Write the redacted diagnostic zip into the folder typed or picked (audited by the desk)."""
        folder = self.desk.bundle_folder(self.ids.folder.value)
        if folder is None:
            self.say("bundle_text", Outcome("tech.bundle.need_folder"))
            return
        actor = self.modes.actor
        self.say("bundle_text", Outcome("tech.bundle.writing"))
        self._background(lambda: self.desk.write_bundle(actor, folder), self._bundle_done)

    def _bundle_done(self, result: Outcome | Exception) -> None:
        self.say("bundle_text", failure("tech.bundle.failed", result) if isinstance(result, Exception) else result)

    # -- enrolment -------------------------------------------------------------------------------

    def _show_enrol(self) -> None:
        if not self.enrol_text:
            self.say("enrol_text", Outcome("tech.enrol.help"))

    def focus(self, field: str) -> None:
        """Type into the hub address or the code."""
        self.active_field = field

    def enrol(self) -> None:
        """Enrol this kiosk with the hub using the one-time code (audited by the desk, never the code)."""
        url, code = self.ids.hub_url.value.strip(), self.ids.code.value.strip()
        if not url or not code:
            self.say("enrol_text", Outcome("tech.enrol.need_both"))
            return
        actor = self.modes.actor
        self.say("enrol_text", Outcome("tech.enrol.working"))
        self.ids.code.value = ""  # the one-time code leaves the screen as soon as it is used
        self._background(lambda: self.desk.enrol(actor, url, code), self._enrol_done)

    def _enrol_done(self, result: Outcome | Exception) -> None:
        self.say("enrol_text", failure("tech.enrol.failed", result) if isinstance(result, Exception) else result)

    def wipe(self) -> None:
        for name in ("card_text", "printer_text", "touch_text", "network_text", "system_text", "bundle_text",
                     "enrol_text"):
            setattr(self, name, "")
        self._said.clear()
        self._card_report, self._printed = None, None
        for field in ("hub_url", "code", "folder"):
            if field in self.ids:
                self.ids[field].value = ""
        if "grid" in self.ids:
            self.ids.grid.clear()
        self.panel = "card"
