"""Big buttons, one per option of a choice question; one touch answers it."""

from __future__ import annotations

from collections.abc import Callable

from kivy.factory import Factory
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.gridlayout import GridLayout

ONE_COLUMN_UP_TO = 4  # more options than this go in two columns so all fit without scrolling


class ChoiceButtons(GridLayout):
    """A button per ``(id, label)`` in ``options``; the chosen one (``selected``) is filled in."""

    options = ListProperty([])
    selected = StringProperty("")
    on_choose = ObjectProperty(None, allownone=True)  # called with the option's id
    row_count = NumericProperty(1)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(options=lambda *_: self.build_buttons(), selected=lambda *_: self.build_buttons())
        self.build_buttons()

    def build_buttons(self) -> None:
        """(Re)create one button per option."""
        self.clear_widgets()
        self.cols = 1 if len(self.options) <= ONE_COLUMN_UP_TO else 2
        self.row_count = max(1, -(-len(self.options) // self.cols))
        for option_id, label in self.options:
            kind = Factory.KButton if option_id == self.selected else Factory.KSecondaryButton
            button = kind(text=label)
            button.size_hint_y = 1  # the row height comes from the grid (see choice.kv)
            button.choice_id = option_id
            button.bind(on_release=self._chosen)
            self.add_widget(button)

    def _chosen(self, button: object) -> None:
        choose: Callable[[str], None] | None = self.on_choose
        if choose is not None:
            choose(button.choice_id)  # type: ignore[attr-defined]

    def wipe(self) -> None:
        """Forget the options and the choice."""
        self.on_choose = None
        self.options = []
        self.selected = ""
