"""Translations from gettext ``.po`` catalogues; message ids are stable keys like ``pin.title``.

The ``Translator`` is observable: screens subscribe and redraw every label when the
language changes. Errors carry a ``translation_key``; ``describe_error`` turns one into words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import polib

DOMAIN = "kiosk"


def load_messages(locale_dir: Path, language: str) -> dict[str, str]:
    """The translated, non-fuzzy messages of one language's ``kiosk.po``."""
    po = polib.pofile(str(locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"))
    return {e.msgid: e.msgstr for e in po if e.msgstr and not e.fuzzy and not e.obsolete}


class Translator:
    """Translates keys into the current language and tells listeners when it changes."""

    def __init__(self, locale_dir: Path, languages: tuple[str, ...], language: str) -> None:
        self.languages = languages
        self._messages = {lang: load_messages(locale_dir, lang) for lang in languages}
        self._listeners: list[Callable[[str], None]] = []
        self._language = language
        if language not in languages:
            raise ValueError(f"language {language!r} is not one of {languages}")

    @property
    def language(self) -> str:
        """The language everything is shown in now."""
        return self._language

    def set_language(self, language: str) -> None:
        """Switch language and notify every listener."""
        if language not in self.languages:
            raise ValueError(f"language {language!r} is not one of {self.languages}")
        self._language = language
        for listener in list(self._listeners):
            listener(language)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(language)`` after every switch."""
        self._listeners.append(listener)

    def __call__(self, key: str, language: str | None = None, **params: object) -> str:
        """The message for ``key``; the key itself if no catalogue has it (a test forbids that)."""
        text = self._messages[language or self._language].get(key) or key
        return text.format(**params) if params else text

    def keys(self, language: str) -> set[str]:
        """The keys a language has a translation for."""
        return set(self._messages[language])


def describe_error(tr: Translator, error: BaseException) -> str:
    """Plain words for an error that carries a ``translation_key`` (and maybe ``params``)."""
    key = getattr(error, "translation_key", "error.unexpected")
    params = getattr(error, "params", {}) or {}
    return tr(key, **params)
