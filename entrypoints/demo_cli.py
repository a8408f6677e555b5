"""``kiosk demo``: the kiosk on simulated hardware with its own local hub, in a window or as a headless tour."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import logging
import tempfile
from pathlib import Path
from typing import Any

from entrypoints.bootstrap import build_services
from entrypoints.logs import setup_logging
from kiosk.config import Settings

log = logging.getLogger("kiosk")


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk demo [--tour DIR | --tour-staff DIR]``."""
    if args.tour_staff is not None:
        return _staff_tour(args.tour_staff, (args.lang or "ka,en").split(","), args.report)

    demo_settings = settings.simulated(args.data_dir)
    if args.lang and args.tour is None:
        demo_settings = dataclasses.replace(
            demo_settings, kiosk=dataclasses.replace(demo_settings.kiosk, language=args.lang)
        )
    # The local hub answers at once: sync every few seconds so the demo shows requests arriving.
    demo_settings = dataclasses.replace(demo_settings, hub=dataclasses.replace(demo_settings.hub, sync_interval_s=3.0))
    setup_logging(demo_settings.kiosk.data_dir, quiet=args.tour is not None)
    services = build_services(demo_settings)
    hub = _local_hub(demo_settings, services.demo)
    size = args.size or (demo_settings.display.width, demo_settings.display.height)
    try:
        if hub is not None:
            services.sync.start()
        if args.tour is None:
            from demo.keys import bind_demo_keys
            from screens.runner import run_app

            run_app(services, size=size, on_started=bind_demo_keys)
            return 0
        from screens.runner import prepare_kivy

        prepare_kivy(kivy_home=demo_settings.kiosk.data_dir / "kivy", headless=True, size=size, fullscreen=False)
        from demo.tour import run_citizen_tour  # after Kivy is prepared: the tour's module imports Kivy

        code = run_citizen_tour(services, args.tour, args.lang or "ka")
        return code if hub is None else max(code, _after_the_tour(demo_settings, services, hub, args.tour))
    finally:
        services.close()
        if hub is not None:
            hub.stop()


def _after_the_tour(settings: Settings, services: Any, hub: Any, out: Path) -> int:
    """The hub refuses a thief's request; a second centre lists the tour's requests for the same card; the demo
    clerk closes one in the back office and the kiosk and the villager's page see it."""
    from demo.local_hub import demo_office_password
    from entrypoints.demo_checks import forged_request, office_closes_request, second_kiosk

    receipts = [record.receipt for record in services.demo.printer.receipts]
    made = [receipt.receipt_no for receipt in receipts]
    problems = {"forged-request-refused": forged_request(settings, out / "forged-request.json"),
                "second-kiosk-my-requests": second_kiosk(settings, hub, out / "second-kiosk-my-requests.json", made)}
    if receipts:
        problems["office-closes-request"] = office_closes_request(
            services, hub, demo_office_password(hub), made[0], receipts[0].qr_url, out / "office-closed.json")
    for name, problem in problems.items():
        print(f"ok      {name}" if problem is None else f"FAILED  {name}: {problem}")
    return 1 if any(problems.values()) else 0


def _local_hub(settings: Settings, demo: Any) -> Any:
    """The demo's own hub on 127.0.0.1, the kiosk enrolled with it; None without the hub extra.

    It trusts the demo PKI's CAs, so it checks each request's proof that the demo card was there.
    """
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        log.warning("the hub extra is not installed: the demo queues requests without a hub")
        return None
    from demo.local_hub import DEMO_OFFICE_USERS, demo_office_password, enroll_with_local_hub

    anchors = demo.pki.write_trust_anchors(settings.kiosk.data_dir / "local-hub" / "anchors") if demo else None
    hub = enroll_with_local_hub(settings, anchors)
    password = demo_office_password(hub)
    people = ", ".join(f"{name} ({role})" for name, role in DEMO_OFFICE_USERS)
    print(f"Back office: {hub.url}/office/  sign in as {people}, password {password}", flush=True)
    return hub


def _staff_tour(out: Path, langs: list[str], report_path: Path | None) -> int:
    """The staff and technician tour in a fresh demo kiosk with a hub of its own; ``report_path`` gets its JSON."""
    import json
    import shutil

    from demo.staff_tour import TourClock, print_report, run_tour, staff_tour_settings, start_demo_hub

    work = Path(tempfile.mkdtemp(prefix="staff-tour-"))
    hub = start_demo_hub(work)
    try:
        settings = staff_tour_settings(work / "kiosk", langs)
        clock = TourClock()
        services = build_services(settings, monotonic=clock)
        setup_logging(settings.kiosk.data_dir, quiet=True)
        try:
            report = run_tour(services, hub, clock, out, langs)
        finally:
            services.close()
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    if report_path is not None:
        report_path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return print_report(report, out)
