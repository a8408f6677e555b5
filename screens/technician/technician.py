"""Technician mode: readers and a card test, printer, touch accuracy, network and sync, system, bundle, enrolment.

The same checks as ``kiosk diag`` (``kiosk.diagnostics``, ``kiosk.card_diag``), shown on screen.
Checks that wait on the network or a disk run on a worker thread (``busy`` counts them); the
ones that write the audit log open their own connection to it there.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import requests
from kivy.factory import Factory
from kivy.properties import NumericProperty, StringProperty

from kiosk import card_diag
from kiosk.audit import open_audit_log
from kiosk.diag_bundle import write_bundle
from kiosk.diag_system import system_section
from kiosk.diagnostics import card_section, diagnose, hub_section, printer_section, queue_section
from kiosk.errors import PrinterError
from kiosk.sample_receipt import sample_receipt
from kiosk.technician import enrol, hub_url, pinned_hub_sign_key
from screens.role_login.base import PrivilegedScreen
from screens.technician.tasks import in_background

STATUS_KEYS = {"ok": "tech.status.ok", "warning": "tech.status.warning", "error": "tech.status.error"}
MOUNT_GLOBS = ("/media/*/*", "/run/media/*/*", "/mnt/*")  # where a USB stick shows up


class PrinterMissing(PrinterError):
    """No printer is configured: receipts are shown on screen only."""

    translation_key = "error.printer_missing"


def usb_folders(limit: int = 3) -> list[str]:
    """Mounted removable media a bundle can go to (what the desktop mounts under /media)."""
    found = [p for pattern in MOUNT_GLOBS for p in sorted(glob.glob(pattern)) if Path(p).is_dir()]
    return found[:limit]


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

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._said: dict[str, tuple[str, dict[str, object]]] = {}
        self._card_result: tuple[bool, str] | None = None  # the last card test: read?, findings (number masked)
        self._printed: tuple[str, dict[str, object]] | None = None  # the last test print's outcome

    def refresh(self) -> None:
        for attr, (key, params) in self._said.items():
            setattr(self, attr, self.tr.t(key, **params))
        self.show(self.panel)

    def say(self, attr: str, key: str, **params: object) -> None:
        """Set a one-message text (kept as its key, so a language switch says it again)."""
        self._said[attr] = (key, params)
        setattr(self, attr, self.tr.t(key, **params))

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
        self.card_text = self._card_lines(card_section(self.services.card_reader))
        if self._card_result is not None:
            read, lines = self._card_result
            heading = self.tr.t("tech.card.result_read" if read else "tech.card.result_unread")
            self.card_text += f"\n\n{heading}\n{lines}"

    def _card_lines(self, section: dict[str, Any]) -> str:
        lines = [self._status(section)]
        for reader in section.get("readers", []):
            state = self.tr.t("tech.card.in" if reader["card_present"] else "tech.card.empty")
            pad = ", " + self.tr.t("tech.card.pinpad") if reader["has_pinpad"] else ""
            lines.append(f"• {reader['name']}: {state}{pad}")
        return "\n".join(lines)

    def test_card(self) -> None:
        """Read the card in the reader and check its certificates, as ``kiosk diag card`` (no PIN asked)."""
        s = self.services
        report = card_diag.card_report(s.card_reader, s.open_card, s.validator, s.settings.card.personal_number_field)
        lines = []
        if report.get("error"):
            lines.append(report["error"])
        holder = report.get("holder") or {}
        if holder.get("personal_number"):
            lines.append(f"{holder.get('given_name', '')} {holder.get('surname', '')} ({holder['personal_number']})")
        for cert in report.get("certificates", []):
            lines.append(f"• {cert['role']}: {cert['status'].upper()} — {cert['reason']}")
        self._card_result = (bool(report["card_read"]), "\n".join(lines))
        self._show_card()

    # -- printer ---------------------------------------------------------------------------------

    def _show_printer(self) -> None:
        self.printer_text = self._status(printer_section(self.services.printer, self.services.settings.printer.uri))
        if self._printed is not None:
            key, params = self._printed
            self.printer_text += "\n" + self.tr.t(key, **params)

    def test_print(self) -> None:
        """Print a sample receipt and say how it went."""
        s = self.services
        language = self.tr.lang
        try:
            if s.printer is None:
                raise PrinterMissing()
            s.printer.print_receipt(sample_receipt(s.translator, language, s.settings, s.local_time.now()))
        except PrinterError as exc:
            self._printed = ("tech.printer.failed", {"reason": self.tr.t(exc.translation_key)})
        else:
            self._printed = ("tech.printer.printed", {})
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
        queue = queue_section(self.services.outbox.stats)
        self.network_text = self.tr.t("tech.network.checking") + "\n" + self._status(queue)
        url = hub_url(self.services.settings)
        self._background(lambda: hub_section(url, timeout_s=3.0),
                         lambda hub: self._network_done(hub, queue))

    def _network_done(self, hub: Any, queue: dict[str, Any]) -> None:
        words = self._status(hub) if isinstance(hub, dict) else f"{type(hub).__name__}: {hub}"
        self.network_text = f"{self.tr.t('tech.network.hub')}: {words}\n{self.tr.t('tech.network.queue')}: " \
                            f"{self._status(queue)}"

    def sync_now(self) -> None:
        """One sync cycle with the hub now: send the queue, fetch statuses, documents and the role list."""
        self._background(self.services.sync.sync_once, self._sync_done)

    def _sync_done(self, report: Any) -> None:
        if isinstance(report, Exception):
            words = self.tr.t("tech.sync.failed", reason=f"{type(report).__name__}: {report}")
        elif report.error is not None:
            words = self.tr.t("tech.sync.failed", reason=type(report.error).__name__)
        else:
            sent = sum(report.results.values())
            words = self.tr.t("tech.sync.done", sent=sent, left=report.remaining_queued)
        self.network_text = words + "\n" + self._status(queue_section(self.services.outbox.stats))

    # -- system ----------------------------------------------------------------------------------

    def _show_system(self) -> None:
        settings = self.services.settings
        part = system_section(settings, log_path=settings.kiosk.data_dir / "logs" / "kiosk.log")
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
        for folder in usb_folders():
            button = Factory.SmallButton(text=folder)
            button.bind(on_release=lambda b: setattr(self.ids.folder, "value", b.text))
            self.ids.mounts.add_widget(button)
        if not self.bundle_text:
            self.say("bundle_text", "tech.bundle.help")

    def export_bundle(self) -> None:
        """Write the redacted diagnostic zip into the folder typed or picked (audited)."""
        folder = self.ids.folder.value.strip()
        if not folder.startswith("/"):
            self.say("bundle_text", "tech.bundle.need_folder")
            return
        s, actor, wall = self.services, self.modes.actor, self.modes.wall
        self.say("bundle_text", "tech.bundle.writing")

        def work() -> Path:
            report = diagnose(s.settings, services=s, hub_timeout_s=3.0)
            audit = open_audit_log(s.settings.kiosk.data_dir, wall)  # this thread's own connection
            try:
                return write_bundle(s.settings, Path(folder), report, outbox=s.outbox, audit=audit, actor=actor,
                                    clock=wall)
            finally:
                audit.close()

        self._background(work, self._bundle_done)

    def _bundle_done(self, result: Any) -> None:
        if isinstance(result, Exception):
            self.say("bundle_text", "tech.bundle.failed", reason=f"{type(result).__name__}: {result}")
        else:
            self.say("bundle_text", "tech.bundle.written", path=str(result))

    # -- enrolment -------------------------------------------------------------------------------

    def _show_enrol(self) -> None:
        if not self.enrol_text:
            self.say("enrol_text", "tech.enrol.help")

    def focus(self, field: str) -> None:
        """Type into the hub address or the code."""
        self.active_field = field

    def enrol(self) -> None:
        """Enrol this kiosk with the hub using the one-time code (audited, never the code)."""
        url, code = self.ids.hub_url.value.strip(), self.ids.code.value.strip()
        if not url or not code:
            self.say("enrol_text", "tech.enrol.need_both")
            return
        s, actor, wall = self.services, self.modes.actor, self.modes.wall
        self.say("enrol_text", "tech.enrol.working")
        self.ids.code.value = ""

        def work() -> Any:
            audit = open_audit_log(s.settings.kiosk.data_dir, wall)
            try:
                with requests.Session() as session:
                    return enrol(actor, audit, session=session, hub_url=url, code=code,
                                 data_dir=s.settings.kiosk.data_dir, name=s.settings.kiosk.kiosk_id, clock=wall)
            finally:
                audit.close()

        self._background(work, self._enrol_done)

    def _enrol_done(self, result: Any) -> None:
        if isinstance(result, Exception):
            self.say("enrol_text", "tech.enrol.failed", reason=f"{type(result).__name__}: {result}")
            return
        # role lists from this hub are checked against the key just pinned, without a restart
        self.services.privileged.access.pin_hub_key(pinned_hub_sign_key(self.services.settings.kiosk.data_dir))
        # new requests are sealed to this hub at once (CurrentHubSealer); background sync follows it too
        self.services.sync.restart()
        self.say("enrol_text", "tech.enrol.done", hub=result.hub_url, kiosk=result.kiosk_id)

    def wipe(self) -> None:
        for name in ("card_text", "printer_text", "touch_text", "network_text", "system_text", "bundle_text",
                     "enrol_text"):
            setattr(self, name, "")
        self._said.clear()
        self._card_result, self._printed = None, None
        for field in ("hub_url", "code", "folder"):
            if field in self.ids:
                self.ids[field].value = ""
        if "grid" in self.ids:
            self.ids.grid.clear()
        self.panel = "card"
