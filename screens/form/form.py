"""The form, one question per screen: text with a keyboard, numbers with a pad, choices, consent."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue import FormField, localized
from kiosk.forms import field_keyboard
from screens.base import KioskScreen
from screens.widgets.entry import AnswerField
from screens.widgets.keyboard import OnScreenKeyboard


class FormScreen(KioskScreen):
    """Shows ``journey.current_field`` and sends the answer back."""

    progress = StringProperty("")
    label = StringProperty("")
    help = StringProperty("")
    problem = StringProperty("")
    service_title = StringProperty("")

    def refresh(self) -> None:
        field = self.journey.current_field
        s = self.journey.session
        if field is None or s.service is None:
            return
        lang = self.tr.lang
        self.service_title = localized(s.service.title, lang)
        self.progress = self.tr.t("form.progress", n=s.field_index + 1, total=len(s.service.fields))
        self.label = localized(field.label, lang)
        self.help = localized(field.help, lang)
        self.problem = self.tr.t(s.problem.key, **s.problem.params) if s.problem else ""
        self._build_input(field, s.draft if s.problem else s.answers.get(field.id, ""))

    def _build_input(self, field: FormField, value: str) -> None:
        area = self.ids.input_area
        area.clear_widgets()
        kind = field_keyboard(field)
        theme = self.ids.input_area.theme
        if kind == "choice":
            area.add_widget(Widget(size_hint_y=0.2))
            for choice in field.choices:
                button = Factory.KButton if choice.id == value else Factory.KSecondaryButton
                widget = button(text=localized(choice.label, self.tr.lang))
                widget.choice_id = choice.id
                widget.bind(on_release=lambda b: self.journey.answer(b.choice_id))
                area.add_widget(widget)
            area.add_widget(Widget())
            return
        if kind == "consent":
            widget = Factory.KButton(text="✓  " + self.tr.t("form.agree"))
            widget.background_color = theme.ok  # after the kv rule, which sets the primary colour
            widget.consent = True
            widget.bind(on_release=lambda _b: self.journey.answer("yes"))
            area.add_widget(Widget(size_hint_y=0.3))
            area.add_widget(widget)
            area.add_widget(Widget())
            return
        entry = AnswerField(value=value, max_length=field.max_length, size_hint_y=None, height=theme.touch * 0.85)
        self.entry = entry
        numeric = kind == "numeric"
        keyboard = OnScreenKeyboard(
            layout="numeric" if numeric else ("en" if self.tr.lang == "en" else "ka"),
            theme=theme,
        )
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

    def next(self) -> None:
        """The "Next" button: submit the typed answer (choices and consent answer by touch)."""
        field = self.journey.current_field
        if field is None:
            return
        entry = getattr(self, "entry", None)
        if field_keyboard(field) in ("text", "numeric") and entry is not None:
            self.journey.answer(entry.value)
        else:
            self.journey.answer(self.journey.session.answers.get(field.id, ""))

    def wipe(self) -> None:
        entry = getattr(self, "entry", None)
        if entry is not None:
            entry.value = ""
        self.entry = None
        self.ids.input_area.clear_widgets()
        self.progress = self.label = self.help = self.problem = self.service_title = ""
