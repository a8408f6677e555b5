"""Every message the kiosk can show exists in every language; the catalogue is complete too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assets import ASSETS_DIR
from kiosk.config import LANGUAGES as UI_LANGUAGES
from kiosk.i18n import Translator, load_messages
from protocol.catalogue import CatalogueError, load_catalogue, parse_catalogue

REPO = Path(__file__).resolve().parents[2]
KEY = re.compile(r"""(?:\bt|\btr|_tr|self\._tr)\(\s*["']([a-z_]+\.[a-z_.]+)["']""")
ATTR_KEY = re.compile(r"""translation_key\s*=\s*["']([a-z_]+\.[a-z_.]+)["']""")
LITERAL_KEY = re.compile(r"""["']((?:error|form\.error|receipt|pin|done|common)\.[a-z_.]+)["']""")


def used_keys() -> set[str]:
    """Message keys named in the code and the .kv files."""
    keys: set[str] = set()
    for folder in ("kiosk", "hardware", "offline", "screens"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".py", ".kv"):
                text = path.read_text(encoding="utf-8")
                keys |= set(KEY.findall(text)) | set(ATTR_KEY.findall(text)) | set(LITERAL_KEY.findall(text))
    return keys


def test_the_scan_finds_keys() -> None:
    """GIVEN the source WHEN scanned THEN it finds the keys we know are used (the scan itself works)."""
    keys = used_keys()
    assert {"pin.title", "error.pin_incorrect", "form.error.phone", "receipt.state_queued"} <= keys
    assert len(keys) > 50


@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_every_used_key_is_translated(language: str) -> None:
    """GIVEN a language WHEN its catalogue is loaded THEN every key used anywhere has a translation."""
    missing = sorted(used_keys() - set(load_messages(ASSETS_DIR / "locale", language)))
    assert missing == []


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    """GIVEN all languages WHEN compared THEN keys match and each message keeps the same {placeholders}."""
    catalogues = {lang: load_messages(ASSETS_DIR / "locale", lang) for lang in UI_LANGUAGES}
    reference = catalogues["en"]
    for lang, messages in catalogues.items():
        assert set(messages) == set(reference), lang
        for key, text in messages.items():
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", reference[key])), (lang, key)


# One word per thing in each language: the words below were replaced by the agreed term
# (ka მოთხოვნა / განმცხადებელი / PIN-კოდი / 4-ნიშნა; ru заявление / терминал / код доступа;
# az müraciət / əməkdaş / texnik / Ədliyyə Evi / PIN-kod / terminal; hy դիմում / նույնականացման քարտ /
# տերմինալ / կոդ) and must not come back.
REPLACED_WORDS = {
    "ka": [r"მომთხოვნ", r"PIN კოდ", r"PUK კოდ", r"\d-ციფრიან", r"ჩემი განცხადებ"],
    "ru": [r"[кК]иоск", r"[зЗ]аявк", r"согласен", r"Мои запросы", r"[кК]од техника"],
    "az": [r"\b[iİ]şçi", r"Ədliyyə evi", r"PIN kod", r"PUK kod", r"texniki işçi", r"(?<![{\w])[kK]iosk",
           r"\b[sS]orğular", r"sorğusu"],
    "hy": [r"[կԿ]րպակ", r"անձնագիր-քարտ", r"[աԱ]նձը հաստատող", r"[ծԾ]ածկագիր", r"\b[հՀ]այտ", r"\b[նՆ]իստ",
           r"Աշխատաշրջան", r"PIN-ը"],
}


def catalogue_texts(language: str) -> list[str]:
    """Every text of the service catalogue in one language."""
    import json

    texts: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get(language), str):
                texts.append(node[language])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(json.loads((ASSETS_DIR / "catalogue" / "catalogue.json").read_text(encoding="utf-8")))
    return texts


@pytest.mark.parametrize("language", sorted(REPLACED_WORDS))
def test_one_word_per_thing(language: str) -> None:
    """GIVEN a language's messages and catalogue texts WHEN searched THEN no word replaced by the agreed term is back."""
    texts = list(load_messages(ASSETS_DIR / "locale", language).values()) + catalogue_texts(language)
    found = sorted({(word, text) for word in REPLACED_WORDS[language] for text in texts if re.search(word, text)})
    assert found == []


def test_language_switch_notifies() -> None:
    """GIVEN the translator WHEN the language switches THEN listeners hear it and messages follow."""
    tr = Translator(ASSETS_DIR / "locale", UI_LANGUAGES, "ka")
    heard: list[str] = []
    tr.subscribe(heard.append)
    tr.set_language("en")
    assert heard == ["en"] and tr("common.next") == "Next"
    with pytest.raises(ValueError):
        tr.set_language("fr")


def test_shipped_catalogue_is_complete() -> None:
    """GIVEN the shipped catalogue WHEN loaded THEN every service has texts in every UI language."""
    catalogue = load_catalogue(ASSETS_DIR / "catalogue" / "catalogue.json")
    assert set(UI_LANGUAGES) <= set(catalogue.languages)
    assert len(catalogue.services) >= 4


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["services"][0]["title"].pop("en"), "services[0].title: missing text in en"),
        (lambda d: d["services"][0].update(agency="ministry_of_magic"), "is not a listed agency"),
        (lambda d: d["services"][0]["fields"][0].update(type="slider"), "is not one of text"),
        (lambda d: d["services"][0].update(fee_tetri="five"), "expected an amount in lari"),
        (lambda d: d["services"].append(dict(d["services"][0])), "service ids repeat"),
        (lambda d: d.pop("services"), "catalogue is missing"),
    ],
)
def test_malformed_catalogue_is_refused(mutate, message: str) -> None:
    """GIVEN a broken catalogue WHEN parsed THEN CatalogueError says what is wrong."""
    import json

    data = json.loads((ASSETS_DIR / "catalogue" / "catalogue.json").read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(data)
