"""The staff tour's technician and staff visits: every technician check, then the staff desk.

``demo.staff_tour.StaffTour`` calls them with itself as ``tour`` (a ``TourDriver``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from demo.staff_tour_harness import SETTLE_S, STAFF


def technician_visit(tour: Any) -> Iterator[float]:
    """Every technician check, enrolment, and "sync now" fetching the role list."""
    tech = tour.screen("technician")
    yield from tour.wait_idle("technician")
    tour.check("card check lists the reader", "Simulated Reader" in tech.card_text, tech.card_text)
    tour.demo.reader.insert(tour.demo.new_card())
    yield 0.2
    tour.tap(tech.ids.test_card)
    yield SETTLE_S
    tour.check("the card test reads the card with a masked number", "valid" in tech.card_text.lower()
               and "********" in tech.card_text and "01001015083" not in tech.card_text, tech.card_text)
    tour.check("a card in the reader in technician mode starts no citizen session",
               tour.app.journey.session.is_empty and tour.app.current_screen == "technician")
    yield from tour.shot("tech-card")
    tour.demo.reader.remove()
    tour.tap(tech.ids.tab_printer)
    yield SETTLE_S
    printed = len(tour.demo.printer.receipts)
    tour.tap(tech.ids.test_print)
    yield SETTLE_S
    tour.check("test print printed a receipt", len(tour.demo.printer.receipts) == printed + 1)
    yield from tour.shot("tech-printer")
    tour.tap(tech.ids.tab_touch)
    yield SETTLE_S
    grid = tech.ids.grid
    for index, (x, y) in enumerate(grid.targets()[:5]):
        tour.press(x + 3 * index, y - 2 * index, "begin")
        tour.press(x + 3 * index, y - 2 * index, "end")
    yield SETTLE_S
    tour.check("touch grid reports an offset in mm per touch", len(grid.offsets) == 5
               and grid.offsets[0][1] == 0.0 and grid.offsets[4][1] > 0, grid.offsets)
    yield from tour.shot("tech-touch")
    tour.tap(tech.ids.tab_network)
    yield from tour.wait_idle("technician")
    tour.check("network check says no hub is configured yet", tech.network_text, tech.network_text)
    yield from tour.shot("tech-network")
    tour.tap(tech.ids.tab_system)
    yield SETTLE_S
    tour.check("system shows versions and hides secrets", "kivy" in tech.system_text
               and "(set, hidden)" in tech.system_text and "scrypt$" not in tech.system_text, tech.system_text[:300])
    yield from tour.shot("tech-system")
    tour.tap(tech.ids.tab_bundle)
    yield SETTLE_S
    yield from tour.type_text(tech, tech.ids.folder_keys, str(tour.out / "usb"))
    tour.check("the folder was typed on the keyboard", tech.ids.folder.value == str(tour.out / "usb"),
               tech.ids.folder.value)
    tour.tap(tech.ids.export)
    yield from tour.wait_idle("technician")
    zips = sorted((tour.out / "usb").glob("kiosk-diag-*.zip"))
    tour.check("the bundle is written to the folder typed", len(zips) == 1, tech.bundle_text)
    tour.facts["bundle"] = str(zips[0]) if zips else ""
    yield from tour.shot("tech-bundle")
    tour.tap(tech.ids.tab_enrol)
    yield SETTLE_S
    tour.hub.add_role(STAFF["personal_number"], "staff", "Tamar")
    tour.tap(tech.ids.focus_url)
    yield from tour.type_text(tech, tech.ids.enrol_keys, tour.hub.url)
    tour.tap(tech.ids.focus_code)
    yield from tour.type_text(tech, tech.ids.enrol_keys, tour.hub.enroll_code().lower())
    code_typed = tech.ids.code.value
    yield from tour.shot("tech-enrol-typed")
    tour.tap(tech.ids.enrol_button)
    yield from tour.wait_idle("technician")
    tour.check("enrolment from the screen", tech.enrol_text.startswith(tour.app.tr.t("tech.enrol.done", hub="",
               kiosk="")[:5]) and tour.hub.url in tech.enrol_text, f"{tech.enrol_text} (code {code_typed!r})")
    yield from tour.shot("tech-enrolled")
    tour.tap(tech.ids.tab_network)
    yield from tour.wait_idle("technician")
    tour.tap(tech.ids.sync_now)
    yield from tour.wait_idle("technician")
    roles = tour.app.services.settings.kiosk.data_dir / "roles.signed.json"
    tour.check("sync now fetched the signed role list", roles.exists(), tech.network_text)
    yield from tour.shot("tech-synced")


def staff_visit(tour: Any) -> Iterator[float]:
    """The queue, a cancellation, a reprint, the day's report and its summary."""
    from demo.touch import find
    from screens.widgets.keyboard import OnScreenKeyboard

    desk = tour.screen("staff")
    rows = desk.ids.queue_rows.children
    tour.check("the queue lists the villagers' requests, no personal data",
               {tour.facts["request_before"], tour.facts["request_queued"]} <= {r.request_id for r in rows}
               and all("5083" not in r.receipt_no + r.service_title + r.reason_text for r in rows))
    yield from tour.shot("staff-queue")
    row = next(r for r in rows if r.request_id == tour.facts["request_queued"])
    tour.tap(find(row, text=tour.app.tr.t("staff.cancel")))
    yield SETTLE_S
    tour.tap(find(desk.ids.reasons, reason="duplicate"))
    panel = desk.ids.panels.get_screen("cancel")
    keyboard = find(panel, __class__=OnScreenKeyboard)
    from screens.widgets.keyboard import LETTER_LAYOUTS

    for letter in LETTER_LAYOUTS[keyboard.layout][0][:4]:
        tour.tap(find(keyboard, key=letter))
    tour.tap(find(keyboard, key="space"))
    tour.facts["note"] = desk.ids.note.value
    yield from tour.shot("staff-cancel")
    tour.tap(desk.ids.confirm_cancel)
    yield SETTLE_S
    cancelled = tour.app.services.outbox.get(tour.facts["request_queued"])
    tour.check("cancelled with the reason picked", cancelled.state.value == "cancelled"
               and cancelled.reason == "duplicate", cancelled)
    yield from tour.shot("staff-cancelled")
    rows = desk.ids.queue_rows.children
    row = next(r for r in rows if r.request_id == tour.facts["request_before"])
    printed = len(tour.demo.printer.receipts)
    tour.tap(find(row, text=tour.app.tr.t("staff.reprint")))
    yield SETTLE_S
    tour.check("reprint printed the receipt again", len(tour.demo.printer.receipts) == printed + 1, desk.outcome)
    tour.tap(desk.ids.tab_reprints)
    yield SETTLE_S
    yield from tour.shot("staff-reprints")
    tour.tap(desk.ids.tab_report)
    yield SETTLE_S
    tour.check("the day's report counts today's request", desk.report().total >= 1, desk.report_text)
    yield from tour.shot("staff-report")
    printed = len(tour.demo.printer.receipts)
    tour.tap(desk.ids.print_summary)
    yield SETTLE_S
    tour.check("end-of-day summary printed", len(tour.demo.printer.receipts) == printed + 1, desk.outcome)
    tour.facts["summary_receipt"] = tour.demo.printer.receipts[-1].receipt.receipt_no
    if tour.demo.printer.receipts:
        tour.demo.printer.receipts[-1].image.save(tour.out / "staff-summary-receipt.png")
    tour.tap(desk.ids.tab_assist)
    yield SETTLE_S
    yield from tour.shot("staff-assist")
