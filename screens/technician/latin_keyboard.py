"""A keyboard for URLs, codes and folder paths: Latin letters whatever the language on screen, or digits."""

from __future__ import annotations

from screens.widgets.keyboard import OnScreenKeyboard


class LatinKeyboard(OnScreenKeyboard):
    """Latin letters (``layout = "numeric"`` for digits); the script key stays on Latin."""

    def _follow_language(self) -> None:
        if self.layout != "numeric":
            self.layout = "en"

    @property
    def next_script(self) -> str:
        """Always Latin: hub addresses, codes and paths are written in it."""
        return "en"
