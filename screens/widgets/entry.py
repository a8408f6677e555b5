"""The answer field the on-screen keyboards type into: a label that looks like an input box.

Not a TextInput on purpose: no system keyboard, no clipboard or selection, no focus juggling;
only our keys can change it, and wiping it is setting ``text`` to "".
"""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty
from kivy.uix.label import Label


class AnswerField(Label):
    """Shows the typed answer with a caret; ``insert_text`` and ``do_backspace`` edit it."""

    value = StringProperty("")
    max_length = NumericProperty(200)

    def insert_text(self, text: str) -> None:
        """Append ``text`` up to ``max_length`` characters."""
        room = int(self.max_length) - len(self.value)
        if room > 0:
            self.value += text[:room]

    def do_backspace(self) -> None:
        """Delete the last character."""
        self.value = self.value[:-1]
