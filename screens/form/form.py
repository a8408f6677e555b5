"""The form, one question per screen: letters or digits on an on-screen keyboard, big choice
buttons, a date with + and – buttons, or a consent box to tick."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.forms import CONSENT_GIVEN, date_bounds, field_keyboard, long_date, parse_date
from protocol.catalogue import FormField, localized
from screens.base import KioskScreen
from screens.widgets.choice import ChoiceButtons
from screens.widgets.consent import ConsentBox
from screens.widgets.date_stepper import DateStepper
from screens.widgets.entry import AnswerField
from screens.widgets.keyboard import OnScreenKeyboard, layout_for_language

WIDGETS = Path(__file__).resolve().parents[1] / "widgets"
WIDGET_RULES = ("choice.kv", "consent.kv", "date_stepper.kv")


def load_widget_rules() -> None:
    """Load the question widgets' kv rules once (before the first one is built)."""
    for name in WIDGET_RULES:
        path = str(WIDGETS / name)
        if path not in Builder.files:
            Builder.load_file(path)


class FormScreen(KioskScreen):
    """Shows ``journey.current_field`` and sends the answer back."""

    progress = StringProperty("")
    label = StringProperty("")
    help = StringProperty("")
    problem = StringProperty("")
    service_title = StringProperty("")
    keyboard_shown = BooleanProperty(False)  # letters or digits on screen: the form's lines make room
    entry_height = NumericProperty(82)  # the answer line's height (from the theme, in form.kv)

    def __init__(self, **kwargs: Any) -> None:
        load_widget_rules()
        super().__init__(**kwargs)
        self.input: Widget | None = None  # the widget holding the answer being given
        self._shown: tuple[str, str] | None = None  # (service, field) the input belongs to

    def refresh(self) -> None:
        field = self.journey.current_field
        s = self.journey.session
        if field is None or s.service is None:
            return
        tr = self.tr.t
        lang = self.tr.lang
        self.service_title = localized(s.service.title, lang)
        self.progress = tr("form.progress", n=s.field_index + 1, total=len(s.service.fields))
        self.label = localized(field.label, lang)
        self.help = localized(field.help, lang)
        self.problem = tr(s.problem.key, **s.problem.params) if s.problem else ""
        shown = (s.service.id, field.id)
        if shown == self._shown and self.input is not None:
            value = self.current_value()  # a language switch keeps what is typed but not yet sent
        else:
            value = s.draft if s.problem else s.answers.get(field.id, "")
        self._shown = shown
        self._build_input(field, value)

    def _build_input(self, field: FormField, value: str) -> None:
        area = self.ids.input_area
        self._wipe_input()
        kind = field_keyboard(field)
        theme = area.theme
        lang = self.tr.lang
        if kind == "choice":
            choices = ChoiceButtons(options=[(c.id, localized(c.label, lang)) for c in field.choices], selected=value)
            choices.on_choose = self.journey.answer
            self.input = choices
            area.add_widget(choices)  # the buttons share the whole area
        elif kind == "consent":
            self._place(area, ConsentBox(text=localized(field.label, lang), ticked=value == CONSENT_GIVEN))
        elif kind == "date":
            self._place(area, self._date_stepper(field, value))
        else:
            self.keyboard_shown = True
            entry = AnswerField(value=value, size_hint_y=None, height=self.entry_height)
            entry.max_length = field.max_length if kind == "text" else 20
            self.input = entry
            numeric = kind == "numeric"
            keyboard = OnScreenKeyboard(layout="numeric" if numeric else layout_for_language(lang), theme=theme)
            keyboard.target = entry
            if numeric:
                # digits: the answer on the left, a phone-style pad on the right
                row = BoxLayout(spacing=theme.pad * 2)
                left = BoxLayout(orientation="vertical")
                left.add_widget(entry)
                left.add_widget(Widget())
                row.add_widget(left)
                keyboard.size_hint_x = 0.9
                row.add_widget(keyboard)
                area.add_widget(row)
            else:
                area.add_widget(entry)
                area.add_widget(keyboard)

    def on_entry_height(self, _screen: object, height: float) -> None:
        """Larger text switched while a keyboard shows: the answer line follows."""
        answer = getattr(self, "input", None)  # the kv rule sets it before __init__ ends
        if isinstance(answer, AnswerField):
            answer.height = height

    def _place(self, area: BoxLayout, widget: Widget) -> None:
        """A question widget at the top of the input area, space below it."""
        self.input = widget
        area.add_widget(widget)
        area.add_widget(Widget())

    def _date_stepper(self, field: FormField, value: str) -> DateStepper:
        tr = self.tr.t
        today = self.journey.today()
        first, last = date_bounds(field, today)
        start = parse_date(value) or min(max(today, first), last)
        return DateStepper(
            first=first,
            last=last,
            value=min(max(start, first), last),
            month_names=[tr(f"date.month.{m}") for m in range(1, 13)],
            describe=lambda day: long_date(day, tr),
            day_caption=tr("form.date.day"),
            month_caption=tr("form.date.month"),
            year_caption=tr("form.date.year"),
        )

    def current_value(self) -> str:
        """The answer as the input widget holds it now, in the form the journey takes."""
        widget = self.input
        if isinstance(widget, AnswerField):
            return widget.value
        if isinstance(widget, ChoiceButtons):
            return widget.selected
        if isinstance(widget, ConsentBox):
            return CONSENT_GIVEN if widget.ticked else ""
        if isinstance(widget, DateStepper):
            return widget.value.isoformat() if isinstance(widget.value, dt.date) else ""
        return ""

    def next(self) -> None:
        """The "Next" button: send the answer the input holds (a choice also answers by its own touch)."""
        if self.journey.current_field is not None:
            self.journey.answer(self.current_value())

    def on_leave(self, *_args: object) -> None:
        """Coming back to this question later starts from the session, not from this widget."""
        self._shown = None

    def _wipe_input(self) -> None:
        widget = self.input
        if isinstance(widget, AnswerField):
            widget.value = ""
        elif widget is not None and hasattr(widget, "wipe"):
            widget.wipe()
        self.input = None
        self.keyboard_shown = False
        self.ids.input_area.clear_widgets()

    def wipe(self) -> None:
        self._wipe_input()
        self._shown = None
        self.progress = self.label = self.help = self.problem = self.service_title = ""
