"""The service catalogue: what a villager can ask for, in every language, as data.

The JSON form is checked against ``assets/catalogue/catalogue.schema.json`` (jsonschema), then
for what a schema cannot say (ids that repeat, ranges that are upside down). A malformed
catalogue raises ``CatalogueError`` naming where and what is wrong; nothing half-loads.
Which catalogue is in force (bundled or newer from the hub) is ``kiosk.catalogue_store``'s job.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema loads only when a catalogue is checked against the schema
    import jsonschema
    from jsonschema.exceptions import ValidationError

from assets import ASSETS_DIR

SCHEMA_PATH = ASSETS_DIR / "catalogue" / "catalogue.schema.json"
BUNDLED_PATH = ASSETS_DIR / "catalogue" / "catalogue.json"


class CatalogueError(ValueError):
    """The catalogue is not what the kiosk can use; the message says where and why."""

    translation_key = "error.catalogue"


class FieldType(enum.Enum):
    """Kinds of form field, each with its own input widget and validation."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    PHONE = "phone"
    PERSONAL_NUMBER = "personal_number"
    CONSENT = "consent"


class ServiceKind(enum.Enum):
    """What choosing a service starts: a form to send, or one of the kiosk's own flows."""

    FORM = "form"
    PIN_CHANGE = "pin_change"
    PUK_UNBLOCK = "puk_unblock"
    MY_REQUESTS = "my_requests"


Localized = dict[str, str]


@dataclass(frozen=True)
class Choice:
    """One option of a choice field."""

    id: str
    label: Localized


@dataclass(frozen=True)
class FormField:
    """One question of a service's form, with the bounds its type takes."""

    id: str
    type: FieldType
    label: Localized
    help: Localized
    required: bool = True
    prefill: str | None = None  # "citizen.full_name", "citizen.personal_number", ...
    min_length: int = 1  # text
    max_length: int = 200  # text
    minimum: int | None = None  # number
    maximum: int | None = None  # number
    min_days: int = 0  # date, days from today
    max_days: int = 0  # date, days from today
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Service:
    """A public service, or one of the kiosk's own flows (``kind``)."""

    id: str
    kind: ServiceKind
    agency: str | None  # None only for "my requests", which spans every agency
    title: Localized
    help: Localized
    fee_tetri: int
    processing_days: int
    documents: tuple[Localized, ...]
    needs_signature: bool
    fields: tuple[FormField, ...]

    @property
    def fee(self) -> Decimal:
        """The fee in lari (``Decimal("5.00")``)."""
        return (Decimal(self.fee_tetri) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Catalogue:
    """All services and the agencies' names, at one version."""

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
    """The text in ``language`` (the schema guarantees every language is present)."""
    return texts[language]


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: ValidationError) -> str:
    """One schema error as a sentence that says where and how to fix it."""
    where = _where(error.absolute_path)
    if error.validator == "required":
        name = next(n for n in error.validator_value if n not in error.instance)
        template = error.schema.get("x-missing")
        if template:
            return f"{where}: {template.format(name=name)}"
        return f"{where}: missing {name!r}" if where else f"catalogue is missing {name!r}"
    if error.validator == "not" and isinstance(error.instance, dict):
        # the schema's "else: not required [...]": settings that belong to another field type
        misplaced = sorted(set(error.instance) & set(_required_names(error.validator_value)))
        kind = error.instance.get("type") or error.instance.get("kind")
        return f"{where}: {', '.join(misplaced)} does not apply to a {kind} field"
    template = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    if template:
        allowed = ", ".join(map(str, error.schema.get("enum", [])))
        return f"{where}: " + template.format(value=repr(error.instance), allowed=allowed)
    return f"{where or 'catalogue'}: {error.message}"[:300]  # some messages quote the whole object


def _required_names(schema: Any) -> list[str]:
    """Every property name a (nested) ``required`` in ``schema`` lists."""
    if isinstance(schema, dict):
        names = list(schema.get("required", []))
        for value in schema.values():
            names += _required_names(value)
        return names
    if isinstance(schema, list):
        return [name for item in schema for name in _required_names(item)]
    return []


def check_schema(data: Any) -> None:
    """Raise ``CatalogueError`` with the most telling schema error, if there is one."""
    from jsonschema.exceptions import best_match

    errors = list(_validator().iter_errors(data))
    # a wrong type or a missing key explains more than "this setting is for another type" does
    plain = [e for e in errors if e.validator != "not"]
    error = best_match(plain or errors)
    if error is not None:
        raise CatalogueError(_describe(error))


# What the card can fill in, by field type.
_PREFILLS = {
    FieldType.PERSONAL_NUMBER: ("citizen.personal_number",),
    FieldType.TEXT: ("citizen.full_name", "citizen.given_name", "citizen.surname"),
}


def _unique(where: str, ids: list[str], what: str) -> None:
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise CatalogueError(f"{where}: {what} ids repeat ({', '.join(repeated)})")


def _field(where: str, raw: dict) -> FormField:
    kind = FieldType(raw["type"])
    choices = tuple(Choice(c["id"], c["label"]) for c in raw.get("choices", []))
    _unique(where, [c.id for c in choices], "choice")
    field = FormField(
        id=raw["id"],
        type=kind,
        label=raw["label"],
        help=raw["help"],
        required=raw.get("required", True),
        prefill=raw.get("prefill"),
        min_length=raw.get("min_length", 1),
        max_length=raw.get("max_length", 200),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        min_days=raw.get("min_days", 0),
        max_days=raw.get("max_days", 0),
        choices=choices,
    )
    upside_down = (
        field.min_length > field.max_length
        or (field.minimum is not None and field.maximum is not None and field.minimum > field.maximum)
        or field.min_days > field.max_days
    )
    if upside_down:
        raise CatalogueError(f"{where}: the smallest allowed value is above the largest")
    if field.prefill and field.prefill not in _PREFILLS.get(kind, ()):
        raise CatalogueError(f"{where}.prefill: {field.prefill} cannot fill a {kind.value} field")
    return field


def _service(where: str, raw: dict, agencies: dict, shared: dict[str, FormField]) -> Service:
    agency = raw.get("agency")
    if agency is not None and agency not in agencies:
        raise CatalogueError(f"{where}.agency: {agency!r} is not a listed agency (add its name under agencies)")
    fields = []
    for i, item in enumerate(raw["fields"]):
        if "use" in item:
            if item["use"] not in shared:
                raise CatalogueError(f"{where}.fields[{i}].use: no shared field {item['use']!r}")
            fields.append(shared[item["use"]])
        else:
            fields.append(_field(f"{where}.fields[{i}]", item))
    _unique(f"{where}.fields", [f.id for f in fields], "field")
    return Service(
        id=raw["id"],
        kind=ServiceKind(raw["kind"]),
        agency=agency,
        title=raw["title"],
        help=raw["help"],
        fee_tetri=raw["fee_tetri"],
        processing_days=raw["processing_days"],
        documents=tuple(raw["documents"]),
        needs_signature=raw["needs_signature"],
        fields=tuple(fields),
    )


@functools.cache
def _schema_bytes() -> bytes:
    return SCHEMA_PATH.read_bytes()


def schema_digest(blob: bytes) -> str:
    """A digest of a catalogue file's bytes together with the schema in force: the same digest, the same verdict."""
    return hashlib.sha256(_schema_bytes() + b"\0" + blob).hexdigest()


def parse_catalogue(data: Any, *, schema_checked: bool = False) -> Catalogue:
    """Validate and build a catalogue from its JSON form.

    ``schema_checked``: these very bytes already passed this schema (``schema_digest``), so the
    schema check is skipped; the checks that build the catalogue (ids, references) still run."""
    if not schema_checked:
        check_schema(data)
    shared = {k: _field(f"shared_fields.{k}", v) for k, v in data.get("shared_fields", {}).items()}
    agencies = data["agencies"]
    services = tuple(_service(f"services[{i}]", s, agencies, shared) for i, s in enumerate(data["services"]))
    _unique("services", [s.id for s in services], "service")
    return Catalogue(data["version"], tuple(data["languages"]), agencies, services)


def catalogue_from_bytes(blob: bytes, *, schema_checked: bool = False) -> Catalogue:
    """Parse a catalogue file's bytes (UTF-8 JSON)."""
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"not JSON: {exc}") from None
    return parse_catalogue(data, schema_checked=schema_checked)


def load_catalogue(path: Path, *, checked: frozenset[str] = frozenset()) -> Catalogue:
    """Read and validate a catalogue file; ``checked`` holds ``schema_digest``s known to pass."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: {exc.strerror}") from None
    return catalogue_from_bytes(blob, schema_checked=bool(checked) and schema_digest(blob) in checked)
