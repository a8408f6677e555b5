"""Every message that counts something has the plural forms its language needs, and callers reach them.

A plural entry's ``msgid_plural`` names the parameter that counts (``msgid_plural "{days}"``);
``Translator`` picks the form from that parameter with the standard library's gettext.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest

from assets import ASSETS_DIR
from kiosk.config import LANGUAGES as UI_LANGUAGES
from kiosk.i18n import Translator, read_po

REPO = Path(__file__).resolve().parents[2]
LOCALE = ASSETS_DIR / "locale"
PLACEHOLDER = re.compile(r"{(\w+)}")

# How many forms a noun takes after a number. Georgian, Azerbaijani and Armenian keep the noun
# singular after any numeral ("5 დღე", "5 gün", "5 օր"), so one form is the honest count.
NPLURALS = {"ka": 1, "en": 2, "ru": 3, "az": 1, "hy": 1}

# Every placeholder is one or the other, so a new one has to be thought about.
COUNTS = {"count", "n", "total", "days", "hours", "minutes", "seconds", "tries", "length", "min", "max", "sent", "left"}
NOT_COUNTS = {"name", "reason", "first", "last", "weekday", "day", "month", "year", "hub", "kiosk", "receipt", "path",
              "staff", "mean", "worst", "average"}

# Messages with a number that no word has to agree with; anything else with a count needs plural forms.
NO_NOUN = {
    "form.progress": "'Question {n} of {total}': the numbers stand alone",
    "form.error.number_range": "'a number from {min} to {max}': bounds, nothing counted",
    "tech.sync.done": "'Sent: {sent}, still waiting: {left}': numbers after a colon or a verb, in every language",
}


def catalogues() -> dict[str, polib.POFile]:
    return {lang: read_po(LOCALE, lang) for lang in UI_LANGUAGES}


def forms(entry: polib.POEntry) -> list[str]:
    """The texts of an entry: its one msgstr, or every plural form in order."""
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(entry: polib.POEntry) -> set[str]:
    return {name for text in forms(entry) for name in PLACEHOLDER.findall(text)}


def nplurals(po: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    assert match, "no Plural-Forms header"
    return int(match.group(1))


def counted_by(entry: polib.POEntry) -> str | None:
    """The parameter a plural entry counts with, or None for a plain entry."""
    if not entry.msgid_plural:
        return None
    match = PLACEHOLDER.fullmatch(entry.msgid_plural)
    return match.group(1) if match else entry.msgid_plural


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_every_catalogue_says_how_many_plural_forms_it_has(language: str) -> None:
    """GIVEN a language WHEN its header is read THEN Plural-Forms gives the forms its nouns take after a number,
    and Python's gettext understands the expression."""
    import gettext

    po = read_po(LOCALE, language)
    assert nplurals(po) == NPLURALS[language]
    plural = gettext.c2py(po.metadata["Plural-Forms"].split("plural=")[1].rstrip(";"))
    assert {plural(n) for n in range(200)} == set(range(NPLURALS[language]))


def test_every_placeholder_is_declared_a_count_or_not() -> None:
    """GIVEN every message in every language WHEN its placeholders are listed THEN each one is known to count or not."""
    used = {name for po in catalogues().values() for entry in po.translated_entries() for name in placeholders(entry)}
    assert sorted(used - COUNTS - NOT_COUNTS) == []
    assert not COUNTS & NOT_COUNTS


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_every_message_with_a_count_has_all_its_plural_forms(language: str) -> None:
    """GIVEN a language WHEN a message counts something (a count placeholder, in any language) THEN it is a plural
    entry counted by one of those placeholders, the same one as in English, with exactly nplurals non-empty forms,
    each naming the same placeholders as English."""
    pos = catalogues()
    english, po = pos["en"], pos[language]
    counted = {e.msgid for p in pos.values() for e in p.translated_entries() if placeholders(e) & COUNTS} - set(NO_NOUN)
    assert {"receipt.next_steps", "services.days", "idle.countdown", "pin.tries_left", "staff.age_days"} <= counted
    problems = []
    for key in sorted(counted):
        entry, reference = po.find(key), english.find(key)
        if entry is None or not entry.translated():
            problems.append((key, "missing"))
            continue
        name = counted_by(entry)
        if name is None or name not in placeholders(entry) & COUNTS:
            problems.append((key, f"not plural by a count it shows (msgid_plural {entry.msgid_plural!r})"))
            continue
        if name != counted_by(reference):
            problems.append((key, f"counted by {name!r}, English by {counted_by(reference)!r}"))
        if len(entry.msgstr_plural) != nplurals(po) or not all(text.strip() for text in forms(entry)):
            problems.append((key, f"{len(entry.msgstr_plural)} forms, needs {nplurals(po)}, none empty"))
        expected = placeholders(reference)
        problems += [(key, f"form {i} shows {sorted(PLACEHOLDER.findall(text))}") for i, text in enumerate(forms(entry))
                     if set(PLACEHOLDER.findall(text)) != expected]
    assert problems == []


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_only_counting_messages_are_plural(language: str) -> None:
    """GIVEN a language WHEN its plural entries are listed THEN each counts with a count placeholder (none by mistake)."""
    po = read_po(LOCALE, language)
    wrong = [(e.msgid, e.msgid_plural) for e in po.translated_entries()
             if e.msgid_plural and (counted_by(e) not in COUNTS or e.msgid in NO_NOUN)]
    assert wrong == []


@pytest.fixture(scope="module")
def tr() -> Translator:
    return Translator(LOCALE, UI_LANGUAGES, "en")


@pytest.mark.parametrize(
    ("language", "key", "params", "expected"),
    [
        ("ru", "services.days", {"days": 1}, "1 рабочий день"),
        ("ru", "services.days", {"days": 2}, "2 рабочих дня"),
        ("ru", "services.days", {"days": 5}, "5 рабочих дней"),
        ("ru", "services.days", {"days": 11}, "11 рабочих дней"),
        ("ru", "services.days", {"days": 21}, "21 рабочий день"),
        ("ru", "services.days", {"days": 22}, "22 рабочих дня"),
        ("ru", "services.days", {"days": 111}, "111 рабочих дней"),
        ("ru", "receipt.next_steps", {"days": 1}, "Ответ придёт по SMS в течение примерно 1 рабочего дня."),
        ("ru", "receipt.next_steps", {"days": 2}, "Ответ придёт по SMS в течение примерно 2 рабочих дней."),
        ("ru", "receipt.next_steps", {"days": 5}, "Ответ придёт по SMS в течение примерно 5 рабочих дней."),
        ("ru", "receipt.next_steps", {"days": 21}, "Ответ придёт по SMS в течение примерно 21 рабочего дня."),
        ("ru", "pin.tries_left", {"tries": 1}, "Осталась 1 попытка."),
        ("ru", "pin.tries_left", {"tries": 2}, "Осталось 2 попытки."),
        ("ru", "pin.tries_left", {"tries": 5}, "Осталось 5 попыток."),
        ("ru", "pin.tries_left", {"tries": 21}, "Осталась 21 попытка."),
        ("ru", "idle.countdown", {"seconds": 1}, "Вы ещё здесь? Экран закроется через 1 секунду."),
        ("ru", "idle.countdown", {"seconds": 2}, "Вы ещё здесь? Экран закроется через 2 секунды."),
        ("ru", "idle.countdown", {"seconds": 5}, "Вы ещё здесь? Экран закроется через 5 секунд."),
        ("ru", "idle.countdown", {"seconds": 21}, "Вы ещё здесь? Экран закроется через 21 секунду."),
        ("ru", "staff.age_days", {"days": 1}, "1 день назад"),
        ("ru", "staff.report.heading", {"day": "05.12.2026", "total": 3}, "05.12.2026: 3 заявления"),
        ("en", "services.days", {"days": 1}, "1 working day"),
        ("en", "services.days", {"days": 2}, "2 working days"),
        ("en", "services.days", {"days": 5}, "5 working days"),
        ("en", "services.days", {"days": 21}, "21 working days"),
        ("en", "receipt.next_steps", {"days": 1}, "You will get an answer by SMS in about 1 working day."),
        ("en", "receipt.next_steps", {"days": 21}, "You will get an answer by SMS in about 21 working days."),
        ("en", "staff.age_days", {"days": 1}, "1 day ago"),
        ("en", "staff.age_days", {"days": 5}, "5 days ago"),
        ("en", "staff.report.heading", {"day": "05.12.2026", "total": 1}, "05.12.2026: 1 request"),
        ("en", "pin.tries_left", {"tries": 1}, "You have 1 try left."),
        ("en", "idle.countdown", {"seconds": 1}, "Are you still here? The screen closes in 1 second."),
        ("en", "idle.countdown", {"seconds": 5}, "Are you still here? The screen closes in 5 seconds."),
        ("ka", "services.days", {"days": 5}, "5 სამუშაო დღე"),
        ("az", "services.days", {"days": 5}, "5 iş günü"),
        ("hy", "services.days", {"days": 5}, "5 աշխ. օր"),  # abbreviated: the intro's fee-and-time cell is narrow
    ],
)
def test_the_count_chooses_the_form(tr: Translator, language: str, key: str, params: dict, expected: str) -> None:
    """GIVEN a count of 1, 2, 5, 11, 21… WHEN the message is translated THEN the noun agrees with the number."""
    assert tr(key, language, **params) == expected


def test_an_unknown_count_reads_like_several(tr: Translator) -> None:
    """GIVEN a card that does not say how many tries are left ("?") WHEN the message is made THEN the plural is used."""
    assert tr("error.pin_incorrect", "en", tries="?") == "Wrong PIN. You have ? tries left."
    assert tr("error.pin_incorrect", "ru", tries="?") == "Неверный PIN-код. Осталось ? попыток."


def test_a_plural_entry_must_name_its_counting_parameter(tmp_path: Path) -> None:
    """GIVEN a plural entry whose msgid_plural is not "{name}" WHEN loaded THEN the translator refuses it."""
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": "nplurals=2; plural=(n != 1);"}
    po.append(polib.POEntry(msgid="x.days", msgid_plural="x.days", msgstr_plural={0: "{days} day", 1: "{days} days"}))
    po.save(str(folder / "kiosk.po"))
    with pytest.raises(ValueError, match="must name the counting parameter"):
        Translator(tmp_path, ("en",), "en")


# -- the call sites ----------------------------------------------------------------------------

def _key(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _dict_names(node: ast.AST) -> set[str] | None:
    if isinstance(node, ast.Dict) and all(_key(k) for k in node.keys):
        return {_key(k) for k in node.keys}  # type: ignore[misc]
    return None


def _sites_in(tree: ast.AST, where: str, keys: set[str]) -> list[tuple[str, frozenset[str], str]]:
    """(key, parameter names, where) for each literal key given parameters: calls with keywords or a dict
    (``tr("k", days=n)``, ``Problem("k", {"length": n})``), and error classes (``translation_key`` + ``params``)."""
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _key(node.args[0]) in keys:
            names = {kw.arg for kw in node.keywords if kw.arg}
            for arg in node.args[1:]:
                names |= _dict_names(arg) or set()
            if names:
                sites.append((_key(node.args[0]), frozenset(names), f"{where}:{node.lineno}"))
        elif isinstance(node, ast.ClassDef):
            key = next((_key(s.value) for s in node.body if isinstance(s, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == "translation_key" for t in s.targets)), None)
            params = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "params"), None)
            if key in keys and params is not None:
                for ret in ast.walk(params):
                    if isinstance(ret, ast.Return) and ret.value is not None and _dict_names(ret.value):
                        sites.append((key, frozenset(_dict_names(ret.value)), f"{where}:{ret.lineno}"))  # type: ignore[arg-type]
    return sites


def call_sites(keys: set[str]) -> list[tuple[str, frozenset[str], str]]:
    """Every place in the kiosk's code and .kv rules that hands a message key its parameters."""
    sites = []
    for folder in ("kiosk", "hardware", "offline", "screens"):
        for path in sorted((REPO / folder).rglob("*")):
            where = str(path.relative_to(REPO))
            if path.suffix == ".py":
                sites += _sites_in(ast.parse(path.read_text(encoding="utf-8")), where, keys)
            elif path.suffix == ".kv":
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    _, colon, expression = line.partition(":")
                    if colon and ".t(" in expression:
                        try:
                            tree = ast.parse(expression.strip(), mode="eval")
                        except SyntaxError:
                            continue
                        sites += [(k, n, f"{where}:{number}") for k, n, _ in _sites_in(tree, where, keys)]
    return sites


def test_the_call_site_scan_finds_counts_in_code_kv_rules_and_errors() -> None:
    """GIVEN the source WHEN scanned THEN calls, kv rules, problems and error classes with counts are all found."""
    found = {(key, name) for key, names, _ in call_sites({e.msgid for e in read_po(LOCALE, "en")}) for name in names}
    assert {("receipt.next_steps", "days"), ("idle.countdown", "seconds"), ("error.pin_incorrect", "tries"),
            ("form.error.too_long", "max"), ("pin_change.error.length", "length"), ("staff.age_days", "days"),
            ("error.passcode_locked", "minutes")} <= found


def test_every_call_with_a_count_goes_through_the_plural_form() -> None:
    """GIVEN every call site that passes a count WHEN compared with the catalogue THEN the message is plural by a
    count the call passes, and a plural message always gets its counting parameter."""
    english = {e.msgid: e for e in read_po(LOCALE, "en")}
    wrong = []
    for key, names, where in call_sites(set(english)):
        name = counted_by(english[key])
        if name is not None and name not in names:
            wrong.append((where, key, f"plural by {name!r}, the call passes {sorted(names)}"))
        elif name is None and names & COUNTS and key not in NO_NOUN:
            wrong.append((where, key, f"passes the count {sorted(names & COUNTS)} to a message without plural forms"))
    assert wrong == []
