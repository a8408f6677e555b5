"""``kiosk diag [card] [--json] [--bundle DIR]``: what each part of this kiosk reports.

Exit status: 0 when no section is ``error``, 1 otherwise; ``kiosk diag card`` exits 0 when a
card was read, whatever its status. ``--bundle DIR`` also writes the redacted diagnostic zip.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.audit import Actor, open_audit_log
from kiosk.config import Settings
from kiosk.diagnostics import SECTIONS, diagnose, exit_code

SHELL_TECHNICIAN = Actor("technician", "shell")
"""Whoever runs the CLI has a shell on the kiosk: a technician by definition."""


def add_parser(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Register ``diag [card] [--json] [--bundle DIR]``."""
    parser = subparsers.add_parser(
        "diag", parents=[common_parent], help="check each part of this kiosk (card, printer, hub, queue, system)",
        description="Check the card readers, the printer, the hub, the request queue and the system (disk, "
        "memory, temperature, versions, configuration with secrets hidden, last errors). Each section says "
        "ok, warning or error and why. Exit 1 when any section is an error. `kiosk diag card` checks the "
        "card in the reader (exit 0 when a card was read). No PIN is asked and no personal data is shown.",
    )
    parser.add_argument("part", nargs="?", choices=["card"], help="only the card: readers and the card in them")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--bundle", type=Path, metavar="DIR",
                        help="also write a diagnostic zip (personal data redacted) into DIR, e.g. a USB stick")
    parser.set_defaults(handler=run)


def _print_report(report: dict[str, Any], names: tuple[str, ...]) -> None:
    print(f"kiosk {report.get('kiosk_id', '?')}  version {report.get('version', '?')}  "
          f"overall: {report.get('status', '?').upper()}")
    for key in ("config_error", "start_error"):
        if key in report:
            print(f"  {key.replace('_', ' ')}: {report[key]}")
    for name in names:
        part = report[name]
        print(f"{name:<8} {part['status'].upper():<8} {part['reason']}")
        if name == "card":
            for reader in part.get("readers", []):
                pad = ", PIN pad" if reader["has_pinpad"] else ""
                print(f"           reader {reader['name']!r}{pad}: {'card in' if reader['card_present'] else 'empty'}")
            holder = part.get("holder") or {}
            if holder.get("personal_number"):
                print(f"           holder {holder.get('given_name', '')} {holder.get('surname', '')} "
                      f"({holder['personal_number']})")
            for cert in part.get("certificates", []):
                print(f"           {cert['role']} certificate: {cert['status'].upper()}, {cert['reason']}")
        if name == "system":
            for line in part.get("last_errors", [])[-5:]:
                print(f"           {line}")


def _card_report(settings: Settings) -> tuple[dict[str, Any], bool]:
    """The card section, with the holder and certificates when ``kiosk.card_diag`` is there."""
    from entrypoints.bootstrap import build_card_parts
    from kiosk import card_diag

    card = build_card_parts(settings)  # no queue, printer or hub key needed to look at a card
    try:
        report = card_diag.card_report(card.reader, card.open_card, card.validator,
                                       settings.card.personal_number_field)
        status = "ok" if report.get("card_read") and not report.get("error") else "error"
        report = {"status": status, "reason": report.get("error") or "card read", **report}
        return report, bool(report.get("card_read"))
    finally:
        card.reader.stop()


def run(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk diag``."""
    if args.part == "card":
        part, read = _card_report(settings)
        if args.json:
            print(json.dumps(part, ensure_ascii=False, indent=2, default=str))
        else:
            from protocol import __version__

            _print_report({"card": part, "status": part.get("status", "?"), "kiosk_id": settings.kiosk.kiosk_id,
                           "version": __version__}, ("card",))
        return 0 if read else 1
    report = diagnose_wired(settings)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(report, SECTIONS)
    if args.bundle is not None:
        path = write_bundle_now(settings, args.bundle, report)
        print(f"diagnostic bundle: {path}", file=sys.stderr if args.json else sys.stdout)
    return exit_code(report)


def write_bundle_now(settings: Settings, out_dir: Path, report: dict[str, Any]) -> Path:
    """Open the queue and the audit log on their own (the kiosk may be running) and write the zip."""
    from kiosk.clock import utc_now
    from kiosk.diag_bundle import write_bundle
    from offline.outbox import Outbox

    data = settings.kiosk.data_dir
    audit = open_audit_log(data, utc_now)
    try:
        outbox = Outbox(data / "outbox.sqlite", settings.kiosk.kiosk_id, utc_now, zone=settings.kiosk.zone)
    except Exception:  # noqa: BLE001 — a damaged queue must not stop the bundle that would explain it
        outbox = None
    try:
        return write_bundle(settings, out_dir, report, outbox=outbox, audit=audit, actor=SHELL_TECHNICIAN,
                            clock=utc_now)
    finally:
        audit.close()
        if outbox is not None:
            outbox.close()


def diagnose_wired(settings: Settings, **kwargs: Any) -> dict[str, Any]:
    """``diagnose`` on services wired here (closed after); a kiosk that cannot be wired is reported, not raised."""
    from entrypoints.bootstrap import build_services

    try:
        services = build_services(settings)
    except Exception as exc:  # noqa: BLE001 — a bad setting or a damaged queue file: the report says which
        return diagnose(settings, None, start_problem=exc, **kwargs)
    try:
        return diagnose(settings, services, **kwargs)
    finally:
        services.close()
