"""The service list: a big button per service with its fee and time, in pages that fit the screen
between the greeting (with "Finish") and the row of the kiosk's own card flows."""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.utils import escape_markup

from protocol.catalogue import ServiceKind, localized
from screens.base import KioskScreen
from screens.services.pages import paginate, row_heights, service_detail, stretch

ROW_MOST = 1.45  # rows grow to fill the room up to this many touch heights (unless the text needs more)


class ServiceGrid(GridLayout):
    """Service buttons in pages that fit ``room``: each row as tall as its longest text needs (at least
    15 mm), "more services" / "previous services" arrows where the list goes on."""

    room = NumericProperty(0)  # the height the grid may take
    min_row = NumericProperty(57)
    touch = NumericProperty(96)
    pad = NumericProperty(24)
    font_body = NumericProperty(28)
    font_small = NumericProperty(22)
    entries = ListProperty([])  # (service_id, title, detail)
    more_text = StringProperty("")
    previous_text = StringProperty("")
    page = NumericProperty(0)
    page_count = NumericProperty(1)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.on_choose: Callable[[str], None] | None = None
        self._trigger = Clock.create_trigger(lambda _dt: self.rebuild(), -1)  # -1: before the next frame
        self._built_for: tuple | None = None  # what the buttons on show were measured for
        for name in ("room", "width", "font_body", "font_small", "min_row", "entries", "page", "more_text"):
            self.bind(**{name: lambda *_: self._trigger()})

    def rebuild(self) -> None:
        """Measure the texts at the current width and fonts, then show the current page."""
        self._trigger.cancel()
        built_for = (tuple(self.entries), self.width, self.cols, self.font_body, self.font_small, self.min_row,
                     self.room, self.page, self.more_text, self.previous_text, self.touch, self.pad)
        if built_for == self._built_for and self.children:
            return  # shown again with the same services, language and sizes: the buttons are right as they are
        self._built_for = built_for
        self.clear_widgets()
        cols = self.cols or 1
        width = (self.width - self.spacing[0] * (cols - 1)) / cols
        if not self.entries or width <= self.pad:
            return
        gap = self.spacing[1]
        buttons = [self._service_button(*entry) for entry in self.entries]
        previous, more = self._arrow(self.previous_text, "←  {}", -1), self._arrow(self.more_text, "{}  →", 1)
        needs = [self._need(b, width) for b in buttons]
        arrow = max(self.touch, self._need(previous, width), self._need(more, width))  # a big arrow
        pages = paginate(needs, arrow, cols, self.room, gap)
        self.page_count = len(pages)
        self.page = max(0, min(self.page, len(pages) - 1))
        start, end = pages[self.page]
        cells = ([previous] if start else []) + buttons[start:end] + ([more] if end < len(buttons) else [])
        rows = row_heights([arrow if c in (previous, more) else needs[buttons.index(c)] for c in cells], cols)
        rows = stretch(rows, self.room, gap, self.touch * ROW_MOST)
        self.row_force_default = False
        self.rows_minimum = dict(enumerate(rows))
        self.row_default_height = min(rows)
        self.height = sum(rows) + gap * (len(rows) - 1)
        for cell in cells:
            cell.size_hint_y = 1  # fill the row
            self.add_widget(cell)
        self.do_layout()  # placed now, not a frame later: a language switch redraws in one go

    def _service_button(self, service_id: str, title: str, detail: str) -> Button:
        # the size tag opens before the line break, or the small line keeps the title's line height
        button = Factory.ServiceButton(
            text=f"{escape_markup(title)}[size={int(self.font_small)}]\n{escape_markup(detail)}[/size]"
        )
        button.service_id = service_id
        button.bind(on_release=lambda b: self.on_choose and self.on_choose(b.service_id))
        return button

    def _arrow(self, text: str, shape: str, step: int) -> Button:
        button = Factory.KButton(text=shape.format(text))
        button.page_step = step
        button.bind(on_release=lambda b: setattr(self, "page", self.page + b.page_step))
        return button

    def _need(self, button: Button, width: float) -> float:
        """The height ``button``'s text takes at ``width`` (its kv rule wraps the text inside the width)."""
        button.width = width
        button.texture_update()
        return max(self.min_row, button.texture_size[1] + self.pad / 2)


class FlowRow(BoxLayout):
    """The kiosk's own card flows (PIN change, PUK, my requests) in smaller words: as tall as the
    longest wrapped title needs, never under one touch height; no height at all without flows."""

    min_height = NumericProperty(96)
    pad = NumericProperty(24)

    def set_flows(self, buttons: list[Button]) -> None:
        """Show ``buttons``, left to right."""
        self.clear_widgets()
        for button in buttons:
            self.add_widget(button)
            button.bind(texture_size=lambda *_: self._fit())
        self._fit()

    def _fit(self) -> None:
        tallest = max((c.texture_size[1] for c in self.children), default=-1)
        self.height = 0 if tallest < 0 else max(self.min_height, tallest + self.pad / 2)

    def on_min_height(self, *_args: object) -> None:
        """The theme changed size: fit again."""
        self._fit()


class ServicesScreen(KioskScreen):
    """Greets the authenticated citizen and lists what they can ask for."""

    greeting = StringProperty("")

    def refresh(self) -> None:
        s = self.journey.session
        lang = self.tr.lang
        name = escape_markup(s.citizen.given_name) if s.citizen else ""
        self.greeting = self.tr.t("services.hello", name=name) if s.citizen else ""
        services = self.journey.catalogue.services
        grid = self.ids.grid
        grid.on_choose = self.journey.preview_service
        grid.more_text, grid.previous_text = self.tr.t("services.more"), self.tr.t("services.previous")
        grid.entries = [(x.id, localized(x.title, lang), service_detail(x, self.tr.t))
                        for x in services if x.kind is ServiceKind.FORM]
        flows = []
        for service in services:
            if service.kind is not ServiceKind.FORM:
                button = Factory.FlowButton(text=localized(service.title, lang))
                button.service_id = service.id
                button.bind(on_release=lambda b: self.journey.preview_service(b.service_id))
                flows.append(button)
        self.ids.flows.set_flows(flows)
        grid.rebuild()

    def wipe(self) -> None:
        self.greeting = ""
        self.ids.grid.entries = []
        self.ids.grid.page = 0
        self.ids.flows.set_flows([])
