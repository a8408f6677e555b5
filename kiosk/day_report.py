"""The day's figures for centre staff: requests per service and per state, and the satisfaction ratings.

Built from the outbox's clear fields and the rating counts only, so nothing personal can show.
``summary_receipt`` lays the same figures out for the receipt printer (the end-of-day summary);
``print_day_summary`` prints it and writes the audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from kiosk.audit import Actor, AuditAction, AuditLog
from kiosk.errors import PrinterError, PrinterOffline
from kiosk.ports import LineStyle, Receipt, ReceiptLine, ReceiptPrinter
from offline.outbox import Outbox
from offline.ratings import SCORES, Ratings
from offline.sync_types import SubmissionState
from protocol.catalogue import Catalogue, localized

SCAN_LIMIT = 5000  # a rural centre sends tens of requests a day; this bounds a bad day's scan


@dataclass(frozen=True)
class DayReport:
    """One day's figures at this kiosk."""

    day: dt.date
    per_service: tuple[tuple[str, int], ...]  # (service id, requests), most first
    per_state: dict[str, int]  # every SubmissionState value, zero included
    ratings: dict[str, int]  # "1".."5" -> count

    @property
    def total(self) -> int:
        """Requests made that day."""
        return sum(n for _, n in self.per_service)

    @property
    def rated(self) -> int:
        """Ratings given that day."""
        return sum(self.ratings.values())

    @property
    def average_rating(self) -> float | None:
        """The mean rating, 1 to 5 (None when nobody rated)."""
        return sum(int(s) * n for s, n in self.ratings.items()) / self.rated if self.rated else None


def day_report(outbox: Outbox, ratings: Ratings | None, day: dt.date, zone: dt.tzinfo) -> DayReport:
    """The figures for ``day`` (the kiosk's local date in ``zone``), from the outbox and the rating counts."""
    per_service: dict[str, int] = {}
    per_state = {state.value: 0 for state in SubmissionState}
    for submission in outbox.list(limit=SCAN_LIMIT):  # newest first
        made = submission.created_at.astimezone(zone).date()
        if made > day:
            continue
        if made < day:
            break
        per_service[submission.service] = per_service.get(submission.service, 0) + 1
        per_state[submission.state.value] += 1
    counts = ratings.counts(since=day).get(day.isoformat(), {}) if ratings else {}
    return DayReport(day, tuple(sorted(per_service.items(), key=lambda item: (-item[1], item[0]))), per_state,
                     {str(s): int(counts.get(str(s), 0)) for s in SCORES})


def service_title(catalogue: Catalogue, service_id: str, language: str) -> str:
    """A service's title in ``language``; its id when the catalogue no longer lists it."""
    try:
        return localized(catalogue.service(service_id).title, language)
    except KeyError:
        return service_id


def summary_receipt(report: DayReport, *, tr: Callable[..., str], language: str, catalogue: Catalogue,
                    kiosk_id: str, centre_name: str, printed_at: dt.datetime) -> Receipt:
    """The end-of-day summary as a receipt for the printer; ``tr(key, **params)`` translates."""
    lines = [
        ReceiptLine(tr("staff.summary.title"), LineStyle.TITLE, centered=True),
        ReceiptLine(centre_name, LineStyle.SMALL, centered=True),
        ReceiptLine(f"{kiosk_id}  {report.day:%d.%m.%Y}", LineStyle.SMALL, centered=True),
        ReceiptLine("", LineStyle.RULE),
        ReceiptLine(tr("staff.report.per_service"), LineStyle.HEADING),
    ]
    lines += [ReceiptLine(f"{service_title(catalogue, sid, language)}: {n}") for sid, n in report.per_service]
    lines += [ReceiptLine(f"{tr('staff.report.total')}: {report.total}", LineStyle.HEADING),
              ReceiptLine("", LineStyle.RULE), ReceiptLine(tr("staff.report.per_state"), LineStyle.HEADING)]
    lines += [ReceiptLine(f"{tr(f'staff.state.{state}')}: {n}") for state, n in report.per_state.items() if n]
    lines += [ReceiptLine("", LineStyle.RULE), ReceiptLine(tr("staff.report.ratings"), LineStyle.HEADING)]
    lines += [ReceiptLine(f"{'*' * int(score)}  {n}") for score, n in sorted(report.ratings.items(), reverse=True)]
    average = report.average_rating
    if average is not None:
        lines.append(ReceiptLine(tr("staff.report.average", average=f"{average:.1f}")))
    lines.append(ReceiptLine(f"{tr('staff.summary.printed')}: {printed_at:%d.%m.%Y %H:%M}", LineStyle.SMALL))
    summary_id = f"{kiosk_id}-{report.day:%Y%m%d}-summary"
    return Receipt(request_id=summary_id, receipt_no=summary_id, language=language, agency="",
                   service=tr("staff.summary.title"), created_at=printed_at, citizen_name="",
                   masked_personal_number="", fee=Decimal("0.00"), delivered=True, state_text="", next_steps="",
                   qr_url=f"{summary_id}:total={report.total}", lines=tuple(lines))


def print_day_summary(actor: Actor, audit: AuditLog, printer: ReceiptPrinter | None, receipt: Receipt,
                      report: DayReport) -> None:
    """Print the summary; audited whether it printed or not (the ``PrinterError`` is raised after)."""
    details = {"day": report.day.isoformat(), "requests": report.total}
    try:
        if printer is None:
            raise PrinterOffline()
        printer.print_receipt(receipt)
    except PrinterError as exc:
        audit.append(actor, AuditAction.DAY_SUMMARY, {**details, "outcome": exc.translation_key})
        raise
    audit.append(actor, AuditAction.DAY_SUMMARY, {**details, "outcome": "printed"})
