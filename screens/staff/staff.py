"""Staff mode: the queue (cancel with a reason, reprint), receipts to reprint, the day's report, assisted sessions.

Everything shown comes from the outbox's clear fields and the rating counts: no name, personal
number or answer can appear here. Every action goes through ``StaffDesk`` (or the day report's
printer) and is written to the audit log there.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.day_report import DayReport, day_report, print_day_summary, service_title, summary_receipt
from kiosk.errors import PrinterError
from kiosk.staff import CancelReason, NotCancellable, StaffError, refusal_key
from offline.sync_types import Submission, SubmissionState
from screens.observable import ObservableTranslator
from screens.role_login.base import PrivilegedScreen
from screens.staff.bar_chart import BarChart

QUEUE_ROWS = 50


class QueueRow(BoxLayout):
    """One request in the queue: number, service, state, age, reason; reprint and (if queued) cancel."""

    screen = ObjectProperty(None)
    request_id = StringProperty("")
    receipt_no = StringProperty("")
    service_title = StringProperty("")
    state_text = StringProperty("")
    age_text = StringProperty("")
    reason_text = StringProperty("")
    can_cancel = BooleanProperty(False)


def age_words(tr: ObservableTranslator, seconds: float) -> str:
    """How old something is, in the staff member's language: minutes, hours or days."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return tr.t("staff.age_minutes", minutes=max(0, minutes))
    if minutes < 48 * 60:
        return tr.t("staff.age_hours", hours=minutes // 60)
    return tr.t("staff.age_days", days=minutes // (24 * 60))


class StaffScreen(PrivilegedScreen):
    """The staff member's desk; ``panel`` names the part on show."""

    panel = StringProperty("queue")
    staff_name = StringProperty("")
    outcome = StringProperty("")  # what the last action did, in words
    queue_summary = StringProperty("")
    cancel_receipt = StringProperty("")
    cancel_reason = StringProperty("")
    reasons = ListProperty([r.value for r in CancelReason])
    report_text = StringProperty("")
    _cancel_id = ""

    def attach(self, services) -> None:  # noqa: ANN001
        super().attach(services)
        self.desk = services.privileged.staff

    def refresh(self) -> None:
        actor = self.modes.actor
        if actor is not None:
            self.staff_name = f"{actor.display_name} ({actor.masked_id})".strip() if actor.display_name \
                else actor.masked_id
        self.show(self.panel)  # a language switch redraws the part on show, the cancel panel too

    def show(self, panel: str) -> None:
        """Switch to one part of the desk and fill it."""
        self.panel = panel
        self.ids.panels.current = panel
        if panel == "queue":
            self._fill_queue()
        elif panel == "reprints":
            self._fill_reprints()
        elif panel == "report":
            self._fill_report()

    # -- the queue -------------------------------------------------------------------------------

    def _row(self, submission: Submission, reason: str) -> QueueRow:
        age = (self.modes.wall() - submission.created_at).total_seconds()
        return QueueRow(screen=self, request_id=submission.id, receipt_no=submission.receipt_no,
                        service_title=service_title(self.services.catalogue(), submission.service, self.tr.lang),
                        state_text=self.tr.t(f"staff.state.{submission.state.value}"),
                        age_text=age_words(self.tr, age), reason_text=reason,
                        can_cancel=submission.state is SubmissionState.QUEUED)

    def _reason(self, submission: Submission) -> str:
        if submission.state is SubmissionState.CANCELLED and submission.reason in self.reasons:
            return self.tr.t(f"staff.cancel_reason.{submission.reason}")
        key = refusal_key(submission.reason) if submission.state is SubmissionState.REJECTED else None
        if key is not None:
            return f"{self.tr.t(key)} ({submission.reason})"
        return submission.reason or submission.hub_reason or ""

    def _fill_queue(self) -> None:
        stats = self.services.outbox.stats()
        shown = [s.value for s in SubmissionState if stats.get(s.value)]
        self.queue_summary = "  ·  ".join(f"{self.tr.t(f'staff.state.{v}')}: {stats[v]}" for v in shown) \
            or self.tr.t("staff.queue_empty")
        rows = self.ids.queue_rows
        rows.clear_widgets()
        for submission in self.desk.queue(limit=QUEUE_ROWS):
            rows.add_widget(self._row(submission, self._reason(submission)))

    def _fill_reprints(self) -> None:
        rows = self.ids.reprint_rows
        rows.clear_widgets()
        for submission, why in self.desk.pending_reprints():
            row = self._row(submission, self.tr.t(why))
            row.can_cancel = False
            rows.add_widget(row)
        self.ids.no_reprints.opacity = 0 if rows.children else 1

    def reprint(self, request_id: str) -> None:
        """Print a request's receipt again (audited by the desk)."""
        try:
            receipt = self.desk.reprint(self.modes.actor, request_id)
        except PrinterError as exc:
            self.outcome = self.tr.t("staff.reprint_failed", reason=self.tr.t(exc.translation_key))
        else:
            self.outcome = self.tr.t("staff.reprinted", receipt=receipt.receipt_no)
        self.show(self.panel)

    # -- cancelling ------------------------------------------------------------------------------

    def ask_cancel(self, request_id: str) -> None:
        """Open the cancel panel for one queued request."""
        self._cancel_id = request_id
        self.cancel_receipt = self.services.outbox.get(request_id).receipt_no
        self.cancel_reason = ""
        self.ids.note.value = ""
        self.show("cancel")

    def confirm_cancel(self) -> None:
        """Cancel with the reason picked (and the optional note); back to the queue."""
        if not self.cancel_reason:
            self.outcome = self.tr.t("staff.pick_reason")
            return
        note = self.ids.note.value
        self.ids.note.value = ""
        try:
            self.desk.cancel(self.modes.actor, self._cancel_id, CancelReason(self.cancel_reason), note)
        except StaffError as exc:
            key = "staff.not_cancellable" if isinstance(exc, NotCancellable) else "staff.not_allowed"
            self.outcome = self.tr.t(key)
        else:
            self.outcome = self.tr.t("staff.cancelled", receipt=self.cancel_receipt)
        self.show("queue")

    # -- the day's report ------------------------------------------------------------------------

    def report(self) -> DayReport:
        """Today's figures (the kiosk's local day)."""
        local = self.services.local_time
        return day_report(self.services.outbox, self.services.ratings, local.today(), local.tz)

    def _fill_report(self) -> None:
        report = self.report()
        catalogue = self.services.catalogue()
        services: BarChart = self.ids.service_chart
        services.bars = [(service_title(catalogue, sid, self.tr.lang), n) for sid, n in report.per_service] \
            or [(self.tr.t("staff.report.none"), 0)]
        self.ids.state_chart.bars = [(self.tr.t(f"staff.state.{s}"), n) for s, n in report.per_state.items()]
        self.ids.rating_chart.bars = [(self.tr.t(f"rating.score_{s}"), n)
                                      for s, n in sorted(report.ratings.items(), reverse=True)]
        average = report.average_rating
        self.report_text = self.tr.t("staff.report.heading", day=f"{report.day:%d.%m.%Y}", total=report.total) + \
            ("  ·  " + self.tr.t("staff.report.average", average=f"{average:.1f}") if average is not None else "")

    def print_summary(self) -> None:
        """Print the end-of-day summary on the receipt printer (audited)."""
        report = self.report()
        settings = self.services.settings.kiosk
        language = self.tr.lang
        receipt = summary_receipt(report, tr=lambda key, **p: self.services.translator(key, language, **p),
                                  language=language, catalogue=self.services.catalogue(), kiosk_id=settings.kiosk_id,
                                  centre_name=settings.centre_name, printed_at=self.services.local_time.now())
        try:
            print_day_summary(self.modes.actor, self.services.privileged.audit, self.services.printer, receipt, report)
        except PrinterError as exc:
            self.outcome = self.tr.t("staff.reprint_failed", reason=self.tr.t(exc.translation_key))
        else:
            self.outcome = self.tr.t("staff.summary.done")

    def wipe(self) -> None:
        self.outcome = self.staff_name = self.cancel_receipt = self.cancel_reason = ""
        self._cancel_id = ""
        self.panel = "queue"
        if "note" in self.ids:
            self.ids.note.value = ""
