"""The service catalogue: what a villager can ask for, in every language, as data.

Read from ``assets/catalogue/catalogue.json`` (a newer version from the hub may replace it).
A malformed catalogue raises ``CatalogueError`` naming what is wrong; nothing half-loads.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any


class CatalogueError(ValueError):
    """The catalogue file is not what the kiosk can use."""


class FieldType(enum.Enum):
    """Kinds of form field, each with its own keyboard and validation."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    PHONE = "phone"
    PERSONAL_NUMBER = "personal_number"
    CONSENT = "consent"


Localized = dict[str, str]


@dataclass(frozen=True)
class Choice:
    """One option of a choice field."""

    id: str
    label: Localized


@dataclass(frozen=True)
class FormField:
    """One question of a service's form."""

    id: str
    type: FieldType
    label: Localized
    help: Localized
    required: bool = True
    max_length: int = 200
    choices: tuple[Choice, ...] = ()
    prefill: str | None = None  # "citizen.full_name" / "citizen.personal_number"


@dataclass(frozen=True)
class Service:
    """A public service the kiosk can take a request for."""

    id: str
    agency: str
    title: Localized
    help: Localized
    fee: Decimal
    processing_days: int
    signature_required: bool
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class Catalogue:
    """All services and the agencies' names."""

    version: int
    languages: tuple[str, ...]
    agencies: dict[str, Localized]
    services: tuple[Service, ...]

    def service(self, service_id: str) -> Service:
        """A service by id (KeyError if unknown)."""
        for service in self.services:
            if service.id == service_id:
                return service
        raise KeyError(service_id)


def localized(texts: Localized, language: str) -> str:
    """The text in ``language`` (the catalogue guarantees every language is present)."""
    return texts[language]


def _texts(where: str, raw: Any, languages: tuple[str, ...]) -> Localized:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected texts per language")
    missing = [lang for lang in languages if not isinstance(raw.get(lang), str) or not raw[lang].strip()]
    if missing:
        raise CatalogueError(f"{where}: missing text in {', '.join(missing)}")
    return {lang: raw[lang] for lang in languages}


def _field(where: str, raw: dict, languages: tuple[str, ...]) -> FormField:
    try:
        kind = FieldType(raw["type"])
    except (KeyError, ValueError):
        allowed = ", ".join(t.value for t in FieldType)
        raise CatalogueError(f"{where}.type: {raw.get('type')!r} is not one of {allowed}") from None
    choices = tuple(
        Choice(c["id"], _texts(f"{where}.choices[{i}]", c.get("label"), languages))
        for i, c in enumerate(raw.get("choices", []))
    )
    if kind is FieldType.CHOICE and len(choices) < 2:
        raise CatalogueError(f"{where}: a choice field needs at least two choices")
    return FormField(
        id=raw["id"],
        type=kind,
        label=_texts(f"{where}.label", raw.get("label"), languages),
        help=_texts(f"{where}.help", raw.get("help"), languages),
        required=bool(raw.get("required", True)),
        max_length=int(raw.get("max_length", 200)),
        choices=choices,
        prefill=raw.get("prefill"),
    )


def _service(where: str, raw: dict, languages: tuple[str, ...], agencies: dict) -> Service:
    if raw.get("agency") not in agencies:
        raise CatalogueError(f"{where}.agency: {raw.get('agency')!r} is not a listed agency")
    try:
        fee = Decimal(str(raw["fee"]))
    except (KeyError, InvalidOperation):
        raise CatalogueError(f"{where}.fee: expected an amount in lari, e.g. \"5.00\"") from None
    fields = tuple(_field(f"{where}.fields[{i}]", f, languages) for i, f in enumerate(raw.get("fields", [])))
    ids = [f.id for f in fields]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{where}.fields: field ids repeat")
    return Service(
        id=raw["id"],
        agency=raw["agency"],
        title=_texts(f"{where}.title", raw.get("title"), languages),
        help=_texts(f"{where}.help", raw.get("help"), languages),
        fee=fee,
        processing_days=int(raw.get("processing_days", 0)),
        signature_required=bool(raw.get("signature_required", False)),
        fields=fields,
    )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    """Validate and build a catalogue from its JSON form."""
    try:
        languages = tuple(data["languages"])
        agencies = {k: _texts(f"agencies.{k}", v, languages) for k, v in data["agencies"].items()}
        services = tuple(
            _service(f"services[{i}]", s, languages, agencies) for i, s in enumerate(data["services"])
        )
        version = int(data["version"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise CatalogueError(f"catalogue is missing {exc}") from None
    ids = [s.id for s in services]
    if len(set(ids)) != len(ids):
        raise CatalogueError("services: service ids repeat")
    return Catalogue(version, languages, agencies, services)


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    return parse_catalogue(data)
