"""The service catalogue: its JSON Schema, the shipped services, and what a malformed file gets told."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

import jsonschema
import pytest

from protocol.catalogue import (
    BUNDLED_PATH,
    SCHEMA_PATH,
    CatalogueError,
    FieldType,
    ServiceKind,
    catalogue_from_bytes,
    load_catalogue,
    parse_catalogue,
)

LANGUAGES = {"ka", "en", "ru", "az", "hy"}
AGENCIES = {"civil_registry", "public_registry", "municipality", "social_service_agency", "id_card_services"}


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(BUNDLED_PATH.read_text(encoding="utf-8"))


def test_the_schema_is_a_valid_json_schema_and_the_shipped_file_follows_it(raw: dict) -> None:
    """GIVEN the schema and the bundled catalogue WHEN checked by jsonschema itself THEN both pass."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(raw)


def test_shipped_catalogue_has_every_service_the_issue_names() -> None:
    """GIVEN the bundled catalogue WHEN loaded THEN the named services are there with their kinds."""
    catalogue = load_catalogue(BUNDLED_PATH)
    kinds = {s.id: s.kind for s in catalogue.services}
    for service_id in ("birth_record_extract", "marriage_record_extract", "death_record_extract",
                       "residence_certificate", "municipality_letter", "social_assistance_application",
                       "psh_appointment"):
        assert kinds[service_id] is ServiceKind.FORM, service_id
    assert kinds["pin_change"] is ServiceKind.PIN_CHANGE
    assert kinds["puk_unblock"] is ServiceKind.PUK_UNBLOCK
    assert kinds["my_requests"] is ServiceKind.MY_REQUESTS
    assert set(catalogue.languages) == LANGUAGES and set(catalogue.agencies) == AGENCIES


def test_every_text_exists_in_five_languages_and_differs_between_them() -> None:
    """GIVEN the bundled catalogue WHEN every title and question is read THEN each has five real texts
    (not one copied into the others: Georgian, Russian and Armenian use their own scripts)."""
    catalogue = load_catalogue(BUNDLED_PATH)
    scripts = {"ka": r"[\u10D0-\u10FF]", "ru": r"[\u0400-\u04FF]", "hy": r"[\u0530-\u058F]"}
    texts = [s.title for s in catalogue.services] + [f.label for s in catalogue.services for f in s.fields]
    for text in texts:
        assert set(text) == LANGUAGES
        for lang, script in scripts.items():
            assert re.search(script, text[lang]), (lang, text["en"])
        assert text["az"] != text["ru"] and text["en"] != text["ka"]


def test_fees_signatures_and_fields_are_plausible() -> None:
    """GIVEN the bundled catalogue WHEN fees, signatures and field types are read THEN they match the services."""
    catalogue = load_catalogue(BUNDLED_PATH)
    assert catalogue.service("birth_record_extract").fee == Decimal("5.00")
    assert catalogue.service("birth_record_extract").fee_tetri == 500
    signed = {s.id for s in catalogue.services if s.needs_signature}
    assert signed == {"municipality_letter", "social_assistance_application"}
    types = {f.type for s in catalogue.services for f in s.fields}
    assert types == set(FieldType)  # every field type is used somewhere, so every widget is reachable
    birth = catalogue.service("birth_record_extract")
    assert [f.prefill for f in birth.fields if f.type is FieldType.PERSONAL_NUMBER] == ["citizen.personal_number"]
    appointment = catalogue.service("psh_appointment")
    date = next(f for f in appointment.fields if f.type is FieldType.DATE)
    assert (date.min_days, date.max_days) == (1, 30)
    for service in catalogue.services:
        assert (service.kind is ServiceKind.FORM) == bool(service.fields), service.id


def test_shared_fields_are_resolved_into_each_service() -> None:
    """GIVEN services that say {"use": "phone"} WHEN loaded THEN each has the full phone question."""
    catalogue = load_catalogue(BUNDLED_PATH)
    phones = [f for s in catalogue.services for f in s.fields if f.id == "phone"]
    assert len(phones) >= 7 and all(f.type is FieldType.PHONE and f.label["ka"] for f in phones)


def _first_form(data: dict) -> dict:
    return next(s for s in data["services"] if s["kind"] == "form")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["services"][0]["title"].pop("hy"), "services[0].title: missing text in hy"),
        (lambda d: d["services"][0]["title"].update(ru="  "), "services[0].title.ru"),
        (lambda d: d["services"][0].update(agency="ministry_of_magic"), "is not a listed agency"),
        (lambda d: d["agencies"].pop("municipality"), "'municipality' is not a listed agency"),
        (lambda d: d["services"][0]["fields"][0].update(type="slider"), "'slider' is not one of text, number"),
        (lambda d: d["services"][0].update(fee_tetri=5.5), "expected an amount in lari as whole tetri"),
        (lambda d: d["services"][0].update(fee_tetri=-100), "fee_tetri"),
        (lambda d: d["services"][0].update(kind="wish"), "'wish' is not one of form, pin_change"),
        (lambda d: d["services"][0].pop("needs_signature"), "services[0]: missing 'needs_signature'"),
        (lambda d: d["services"][0].update(needs_signature="yes"), "needs_signature"),
        (lambda d: d["services"].append(copy.deepcopy(d["services"][0])), "service ids repeat"),
        (lambda d: d["services"][0]["fields"].append({"use": "phone"}), "field ids repeat (phone)"),
        (lambda d: d["services"][0]["fields"][0].update(choices=[]), "services[0].fields[0].choices"),
        (lambda d: d["services"][0]["fields"][0].pop("choices"), "missing 'choices'"),
        (lambda d: d["services"][0]["fields"].append({"use": "nothing_like_it"}), "no shared field 'nothing_like_it'"),
        (lambda d: d["services"][0]["fields"][0].update(requried=False), "'requried' was unexpected"),
        (lambda d: d.update(languages=["ka", "en"]), "languages"),
        (lambda d: d.pop("services"), "catalogue is missing 'services'"),
        (lambda d: d.update(version=0), "version"),
    ],
)
def test_malformed_catalogue_is_refused_saying_where_and_why(raw: dict, mutate, message: str) -> None:
    """GIVEN the shipped catalogue with one mistake WHEN parsed THEN CatalogueError says where and how."""
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(data)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"type": "number", "min": 10, "max": 1}, "smallest allowed value is above the largest"),
        ({"type": "number", "min": 1}, "missing 'max'"),
        ({"type": "date", "min_days": 5, "max_days": 1}, "smallest allowed value is above the largest"),
        ({"type": "text", "min_length": 50, "max_length": 10}, "smallest allowed value is above the largest"),
        ({"type": "phone", "max_length": 10}, "max_length does not apply to a phone field"),
        ({"type": "phone", "prefill": "citizen.full_name"}, "citizen.full_name cannot fill a phone field"),
        ({"type": "text", "prefill": "citizen.personal_number"}, "cannot fill a text field"),
    ],
)
def test_field_bounds_and_prefill_must_make_sense(raw: dict, field: dict, message: str) -> None:
    """GIVEN a question with impossible bounds or a prefill that cannot fit WHEN parsed THEN refused."""
    data = copy.deepcopy(raw)
    question = {"id": "q", "label": data["services"][0]["title"], "help": data["services"][0]["help"], **field}
    _first_form(data)["fields"].insert(0, question)
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(data)


@pytest.mark.parametrize("blob", [b"", b"{", b"\xff\xfe", b"[]", b"null", json.dumps({"version": 9}).encode()])
def test_bytes_that_are_not_a_catalogue_are_refused(blob: bytes) -> None:
    """GIVEN bytes that are not a catalogue WHEN parsed THEN CatalogueError, never another exception."""
    with pytest.raises(CatalogueError):
        catalogue_from_bytes(blob)


def test_catalogue_error_carries_a_translated_key() -> None:
    """GIVEN a catalogue error WHEN shown THEN it has a translation key (the words live in the .po files)."""
    assert CatalogueError("x").translation_key == "error.catalogue"
