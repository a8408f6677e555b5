"""A chosen service before its first question: what it is, what it costs, how long it takes, what to bring."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import NumericProperty, StringProperty

from protocol.catalogue import localized
from screens.base import KioskScreen
from screens.services.pages import fee_text, time_text

FIT_FLOOR = 0.75  # at larger text this lands near the normal size; at normal size only a runaway text gets here


class IntroScreen(KioskScreen):
    """The service's help, fee, processing time and documents, with "Start" and "Back".

    The catalogue's texts come from the hub and may be long: when the help or the facts do not fit
    (larger text, a long language, many documents) their type steps down, never below ``FIT_FLOOR``
    of the theme's size; the title and the buttons keep theirs.
    """

    agency = StringProperty("")
    title = StringProperty("")
    help = StringProperty("")
    fee = StringProperty("")
    time = StringProperty("")
    documents = StringProperty("")
    fit = NumericProperty(1.0)  # the body texts' share of their theme size
    body_size = NumericProperty(28)  # the theme's body size (set in intro.kv): a change starts the fit again

    def on_kv_post(self, _base_widget: object) -> None:
        """Fit again whenever the texts or the room change size."""
        self._fit_trigger = Clock.create_trigger(lambda _dt: self._fit(), -1)
        for widget in (self.ids.facts, self.ids.help, self.ids.cost):
            widget.bind(height=self._fit_trigger)
        for widget in (self.ids.facts.parent, self.ids.help.parent):
            widget.bind(size=self._refit)
        for widget in (self.ids.help, self.ids.documents):
            widget.bind(width=self._refit)  # laid out anew: what wrapped at the old width may fit now

    def on_body_size(self, *_args: object) -> None:
        """Larger text switched: start again from the theme's size."""
        self._refit()

    def _refit(self, *_args: object) -> None:
        self.fit = 1.0
        if hasattr(self, "_fit_trigger"):
            self._fit_trigger()

    def _fit(self) -> None:
        # from the labels' own heights: the layouts' minimum heights lag a frame behind them
        facts, cost, column = self.ids.facts, self.ids.cost, self.ids.help.parent
        cells = list(reversed(cost.children))  # two captions, then the two values
        cost_height = sum(max(c.height for c in cells[i:i + 2]) for i in (0, 2)) + cost.spacing[1]
        facts_height = sum(c.height for c in facts.children) + facts.spacing + facts.padding[1] + facts.padding[3]
        words = self.ids.help.height + cost_height + column.spacing
        need = max(facts_height / max(facts.parent.height, 1), words / max(column.height, 1))
        if need > 1.005 and self.fit > FIT_FLOOR:
            # heights grow a little faster than the type (more lines wrap): step by more than the ratio
            self.fit = max(FIT_FLOOR, self.fit * max(0.8, min(0.97, 1 / need ** 1.2)))

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
        self._refit()

    def start(self) -> None:
        """ "Start": the service's first question."""
        service = self.journey.session.service
        if service is not None:
            self.journey.choose_service(service.id)

    def wipe(self) -> None:
        self.agency = self.title = self.help = self.fee = self.time = self.documents = ""
