"""The service list: one big button per service, with its fee."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import StringProperty

from kiosk.catalogue import localized
from kiosk.receipts import format_fee
from screens.base import KioskScreen


class ServicesScreen(KioskScreen):
    """Greets the authenticated citizen and lists what they can ask for."""

    greeting = StringProperty("")

    def refresh(self) -> None:
        s = self.journey.session
        lang = self.tr.lang
        self.greeting = self.tr.t("services.hello", name=s.citizen.given_name) if s.citizen else ""
        grid = self.ids.grid
        grid.clear_widgets()
        for service in self.journey.catalogue.services:
            fee = format_fee(service.fee) if service.fee else self.tr.t("services.free")
            button = Factory.KSecondaryButton(
                text=f"{localized(service.title, lang)}\n[size={int(self.ids.grid.font_small)}]{fee}[/size]",
                markup=True,
                halign="left",
            )
            button.height = self.ids.grid.row_height  # after the kv rule's one-line height
            button.service_id = service.id
            button.bind(on_release=lambda b: self.journey.choose_service(b.service_id))
            grid.add_widget(button)

    def wipe(self) -> None:
        self.greeting = ""
        self.ids.grid.clear_widgets()
