"""Translations from gettext ``.po`` catalogues; message ids are stable keys like ``pin.title``.

Each catalogue is compiled in memory (polib) and read by the standard library's
``gettext.GNUTranslations``, so plural forms follow the catalogue's own ``Plural-Forms`` header.
A message that counts something is a plural entry whose ``msgid_plural`` names the parameter
that counts::

    msgid "receipt.next_steps"
    msgid_plural "{days}"
    msgstr[0] "Ответ придёт по SMS в течение примерно {days} рабочего дня."
    msgstr[1] "Ответ придёт по SMS в течение примерно {days} рабочих дней."
    msgstr[2] "Ответ придёт по SMS в течение примерно {days} рабочих дней."

Callers never pick a form: ``tr("receipt.next_steps", days=5)`` does it from ``days``, so an
error's ``params`` (``{"tries": 2}``) go through the same one call as everything else.

The ``Translator`` is observable: screens subscribe and redraw every label when the
language changes.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import polib

DOMAIN = "kiosk"
COUNTED_BY = re.compile(r"\{(\w+)\}")  # a plural entry's msgid_plural: the counting parameter, in braces
UNKNOWN_COUNT = 5  # a count that is not a whole number ("?" tries) is worded like several


def read_po(locale_dir: Path, language: str) -> polib.POFile:
    """One language's ``kiosk.po``."""
    return polib.pofile(str(locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"))


def load_messages(locale_dir: Path, language: str) -> dict[str, str]:
    """The translated, non-fuzzy messages of one language's ``kiosk.po``.

    A plural entry gives all its forms, one per line, so checks over characters and
    placeholders see every form.
    """
    return {e.msgid: "\n".join(e.msgstr_plural[i] for i in sorted(e.msgstr_plural)) if e.msgid_plural else e.msgstr
            for e in read_po(locale_dir, language).translated_entries()}


class Catalogue:
    """One language's messages, with the standard library choosing plural forms."""

    def __init__(self, po: polib.POFile) -> None:
        entries = po.translated_entries()
        self.counted_by: dict[str, str] = {}
        for entry in entries:
            if entry.msgid_plural:
                match = COUNTED_BY.fullmatch(entry.msgid_plural)
                if match is None:
                    raise ValueError(f"{entry.msgid}: msgid_plural must name the counting parameter, "
                                     f"like \"{{days}}\", not {entry.msgid_plural!r}")
                self.counted_by[entry.msgid] = match.group(1)
        if self.counted_by and "Plural-Forms" not in po.metadata:
            raise ValueError("a catalogue with plural entries needs a Plural-Forms header")
        self.keys = frozenset(e.msgid for e in entries)
        self._gnu = gettext.GNUTranslations(io.BytesIO(po.to_binary()))

    def text(self, key: str, params: Mapping[str, object]) -> str:
        """The unformatted message for ``key`` (the key itself if missing), in the form its count needs."""
        name = self.counted_by.get(key)
        if name is None:
            return self._gnu.gettext(key)
        count = params.get(name)
        return self._gnu.ngettext(key, key, count if isinstance(count, int) else UNKNOWN_COUNT)


class Translator:
    """Translates keys into the current language and tells listeners when it changes."""

    def __init__(self, locale_dir: Path, languages: tuple[str, ...], language: str) -> None:
        self.languages = languages
        self._locale_dir = locale_dir
        self._catalogues: dict[str, Catalogue] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._language = language
        if language not in languages:
            raise ValueError(f"language {language!r} is not one of {languages}")
        # The kiosk's own language is read now (a missing or broken file stops the start); each
        # other one when first asked for (~8 ms each): four fewer catalogues before the first frame.
        self._catalogue(language)

    def _catalogue(self, language: str) -> Catalogue:
        catalogue = self._catalogues.get(language)
        if catalogue is None:
            if language not in self.languages:
                raise KeyError(language)
            catalogue = self._catalogues[language] = Catalogue(read_po(self._locale_dir, language))
        return catalogue

    @property
    def language(self) -> str:
        """The language everything is shown in now."""
        return self._language

    def set_language(self, language: str) -> None:
        """Switch language and notify every listener."""
        if language not in self.languages:
            raise ValueError(f"language {language!r} is not one of {self.languages}")
        self._catalogue(language)  # read before the switch: a broken file leaves the language as it was
        self._language = language
        for listener in list(self._listeners):
            listener(language)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(language)`` after every switch."""
        self._listeners.append(listener)

    def __call__(self, key: str, language: str | None = None, /, **params: object) -> str:
        """The message for ``key`` filled with ``params``; the key itself if no catalogue has it (a test forbids that).

        A plural entry takes the form its counting parameter needs: ``tr("staff.age_days", days=1)``.
        """
        text = self._catalogue(language or self._language).text(key, params)
        return text.format(**params) if params else text

    def keys(self, language: str) -> set[str]:
        """The keys a language has a translation for."""
        return set(self._catalogue(language).keys)
