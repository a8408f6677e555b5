"""The summary to check before sending: service, fee, and every answer."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import StringProperty

from kiosk.forms import display_answer
from kiosk.receipts import format_fee
from protocol.catalogue import localized
from screens.base import KioskScreen


class ConfirmScreen(KioskScreen):
    """"Is this right?" with Send and Back."""

    title = StringProperty("")

    def refresh(self) -> None:
        s = self.journey.session
        if s.service is None:
            return
        lang = self.tr.lang
        catalogue = self.journey.catalogue
        self.title = localized(s.service.title, lang)
        rows = [
            (self.tr.t("confirm.agency"), localized(catalogue.agencies[s.service.agency], lang)),
            (self.tr.t("confirm.citizen"), s.citizen.full_name if s.citizen else ""),
            (self.tr.t("confirm.fee"), format_fee(s.service.fee) if s.service.fee else self.tr.t("services.free")),
        ]
        for field in s.service.fields:
            value = display_answer(field, s.answers.get(field.id, ""), lang, self.tr.t)
            rows.append((localized(field.label, lang), value))
        if s.service.documents:
            rows.append((self.tr.t("confirm.documents"), "\n".join(localized(d, lang) for d in s.service.documents)))
        table = self.ids.table
        table.clear_widgets()
        for label, value in rows:
            table.add_widget(Factory.KLabel(text=label, color=self.ids.table.muted, font_size=self.ids.table.small))
            table.add_widget(Factory.KLabel(text=value, bold=True))

    def wipe(self) -> None:
        self.title = ""
        self.ids.table.clear_widgets()
