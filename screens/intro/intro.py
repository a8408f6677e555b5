"""A chosen service before its first question: what it is, what it costs, how long it takes, what to bring."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.catalogue import localized
from screens.base import KioskScreen
from screens.services.pages import fee_text, time_text


class IntroScreen(KioskScreen):
    """The service's help, fee, processing time and documents, with "Start" and "Back"."""

    agency = StringProperty("")
    title = StringProperty("")
    help = StringProperty("")
    fee = StringProperty("")
    time = StringProperty("")
    documents = StringProperty("")

    def refresh(self) -> None:
        service = self.journey.session.service
        if service is None:
            return
        lang, t = self.tr.lang, self.tr.t
        agencies = self.journey.catalogue.agencies
        self.agency = localized(agencies[service.agency], lang) if service.agency in agencies else ""
        self.title = localized(service.title, lang)
        self.help = localized(service.help, lang)
        self.fee, self.time = fee_text(service, t), time_text(service, t)
        self.documents = "\n".join(f"•  {localized(d, lang)}" for d in service.documents)

    def start(self) -> None:
        """ "Start": the service's first question."""
        service = self.journey.session.service
        if service is not None:
            self.journey.choose_service(service.id)

    def wipe(self) -> None:
        self.agency = self.title = self.help = self.fee = self.time = self.documents = ""
