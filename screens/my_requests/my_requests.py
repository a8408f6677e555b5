""""My requests": receipt number, service, date and state in words — and whether the hub answered."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.utils import escape_markup

from kiosk.forms import short_date
from kiosk.my_requests import Source
from protocol.catalogue import localized
from screens.base import KioskScreen


class MyRequestsScreen(KioskScreen):
    """A table of the citizen's earlier requests, newest first."""

    source_text = StringProperty("")
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        result = self.journey.session.my_requests
        table = self.ids.table
        table.clear_widgets()
        if result is None:
            return
        tr, lang = self.tr.t, self.tr.lang
        self.source_text = tr("requests.from_hub" if result.source is Source.HUB else "requests.from_kiosk")
        self.empty = not result.requests
        catalogue, local = self.journey.catalogue, self.journey.local_time
        for request in result.requests:
            try:
                title = localized(catalogue.service(request.service).title, lang)
            except KeyError:  # a service this kiosk's catalogue no longer lists
                title = request.service
            made = short_date(local.day_of(request.created_at))
            where = f" · {escape_markup(request.centre)}" if request.centre else ""
            cells = (
                (request.receipt_no, {"bold": True}),
                (f"{escape_markup(title)}\n[size={int(table.small)}]{made}{where}[/size]", {"markup": True}),
                (tr(request.state_key), {"bold": True}),
            )
            for text, style in cells:
                table.add_widget(Factory.KLabel(text=text, **style))

    def wipe(self) -> None:
        self.source_text = ""
        self.empty = False
        self.ids.table.clear_widgets()
