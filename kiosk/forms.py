"""Form answers: normalised, checked by field type, shown back readably, prefilled from the card.

``validate`` returns an ``Invalid`` whose translation key and parameters tell the person how to
fix the answer ("Type a number from 1 to 20"). Answers are stored as plain text: digits only for
phone, number and personal number, ISO ``YYYY-MM-DD`` for dates, the choice's id for choices,
``yes`` for a ticked consent.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.identity import Citizen
from protocol.catalogue import FieldType, FormField, localized

PERSONAL_NUMBER_DIGITS = 11
_SEPARATORS = re.compile(r"[\s\-().]")  # how people group phone and personal numbers
_PHONE = re.compile(r"^5\d{8}$")  # Georgian mobile numbers: 5XX XXX XXX
_PHONE_PREFIX = re.compile(r"^(\+|00)?995(?=5\d{8}$)")  # the country code is dropped, not refused
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_NUMBER_DIGITS = 9  # any bound in the catalogue fits; longer input is out of range anyway
CONSENT_GIVEN = "yes"


@dataclass(frozen=True)
class Invalid:
    """Why an answer cannot be taken: a translation key and the values its message needs."""

    key: str
    params: dict[str, object] = field(default_factory=dict)


def normalize(form_field: FormField, value: str) -> str:
    """The answer as stored: trimmed, whitespace folded, separators and country code dropped."""
    value = "".join(ch for ch in value if not unicodedata.category(ch).startswith("C") or ch.isspace())
    value = " ".join(value.split())
    kind = form_field.type
    if kind in (FieldType.PHONE, FieldType.PERSONAL_NUMBER):
        value = _SEPARATORS.sub("", value)
    if kind is FieldType.NUMBER:
        value = value.replace(" ", "")  # "1 000"; a "." stays, so "1.5" is refused, not read as 15
    if kind is FieldType.PHONE:
        value = _PHONE_PREFIX.sub("", value)
    if kind is FieldType.NUMBER and value.isascii() and value.isdigit():
        value = value.lstrip("0") or "0"
    return value


def date_bounds(form_field: FormField, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day a date field accepts."""
    return today + dt.timedelta(days=form_field.min_days), today + dt.timedelta(days=form_field.max_days)


def parse_date(value: str) -> dt.date | None:
    """An ISO ``YYYY-MM-DD`` answer as a date, or None."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def validate(form_field: FormField, value: str, today: dt.date) -> Invalid | None:
    """None when ``value`` is acceptable, else what to tell the person."""
    value = normalize(form_field, value)
    kind = form_field.type
    if not value:
        if not form_field.required:
            return None
        return Invalid("form.error.consent" if kind is FieldType.CONSENT else "form.error.required")
    if kind is FieldType.TEXT:
        if len(value) < form_field.min_length:
            return Invalid("form.error.too_short", {"min": form_field.min_length})
        if len(value) > form_field.max_length:
            return Invalid("form.error.too_long", {"max": form_field.max_length})
    elif kind is FieldType.NUMBER:
        if not _digits(value):
            return Invalid("form.error.number")
        low, high = form_field.minimum, form_field.maximum
        if len(value) > _MAX_NUMBER_DIGITS or not low <= int(value) <= high:  # type: ignore[operator]
            return Invalid("form.error.number_range", {"min": low, "max": high})
    elif kind is FieldType.PHONE:
        if not _PHONE.match(value):
            return Invalid("form.error.phone")
    elif kind is FieldType.PERSONAL_NUMBER:
        if not (_digits(value) and len(value) == PERSONAL_NUMBER_DIGITS):
            return Invalid("form.error.personal_number", {"count": sum(ch.isdigit() for ch in value)})
    elif kind is FieldType.CHOICE:
        if value not in {c.id for c in form_field.choices}:
            return Invalid("form.error.choice")
    elif kind is FieldType.CONSENT:
        if value != CONSENT_GIVEN:
            return Invalid("form.error.consent")
    elif kind is FieldType.DATE:
        day = parse_date(value)
        if day is None:
            return Invalid("form.error.date")
        first, last = date_bounds(form_field, today)
        if not first <= day <= last:
            return Invalid("form.error.date_range", {"first": short_date(first), "last": short_date(last)})
    return None


def prefill_value(form_field: FormField, citizen: Citizen) -> str | None:
    """What the ID card says for a field marked ``prefill``, or None."""
    return {
        "citizen.full_name": citizen.full_name,
        "citizen.given_name": citizen.given_name,
        "citizen.surname": citizen.surname,
        "citizen.personal_number": citizen.personal_number,
    }.get(form_field.prefill or "")


def sample_answer(form_field: FormField, citizen: Citizen, today: dt.date, *, phone: str = "555000000",
                  text: str = "synthetic load test") -> str:
    """The simplest answer that passes ``form_field``'s validation (the card's value where it prefills).

    For synthetic requests (``kiosk dev load``), the scripted tours and the tests.
    """
    value = prefill_value(form_field, citizen)
    if value is not None:
        return value
    kind = form_field.type
    if kind is FieldType.CHOICE:
        return form_field.choices[0].id
    if kind is FieldType.DATE:
        return date_bounds(form_field, today)[0].isoformat()
    if kind is FieldType.NUMBER:
        return str(form_field.minimum if form_field.minimum is not None else 1)
    if kind is FieldType.CONSENT:
        return CONSENT_GIVEN
    if kind is FieldType.PHONE:
        return phone
    if kind is FieldType.PERSONAL_NUMBER:
        return citizen.personal_number
    return text.ljust(form_field.min_length, ".")[: form_field.max_length]


def short_date(day: dt.date) -> str:
    """A date as digits, the way Georgian documents write it: ``05.12.2026``."""
    return day.strftime("%d.%m.%Y")


def long_date(day: dt.date, tr: Callable[..., str]) -> str:
    """A date in words in the current language: ``Saturday, 5 December 2026``."""
    return tr(
        "date.long",
        weekday=tr(f"date.weekday.{day.weekday()}"),
        day=day.day,
        month=tr(f"date.month_of.{day.month}"),
        year=day.year,
    )


def display_answer(form_field: FormField, value: str, language: str, tr: Callable[..., str]) -> str:
    """An answer as the summary shows it: a choice's label, a date in words, a phone in groups."""
    if not value:
        return "—"
    kind = form_field.type
    if kind is FieldType.CHOICE:
        return next((localized(c.label, language) for c in form_field.choices if c.id == value), value)
    if kind is FieldType.CONSENT:
        return tr("confirm.yes") if value == CONSENT_GIVEN else "—"
    if kind is FieldType.DATE:
        day = parse_date(value)
        return long_date(day, tr) if day else value
    if kind is FieldType.PHONE and _PHONE.match(value):
        return f"{value[:3]} {value[3:5]} {value[5:7]} {value[7:]}"
    return value


def field_keyboard(form_field: FormField) -> str:
    """Which input a field wants: ``numeric``, ``text``, ``choice``, ``consent`` or ``date``."""
    if form_field.type in (FieldType.NUMBER, FieldType.PHONE, FieldType.PERSONAL_NUMBER):
        return "numeric"
    return {FieldType.CHOICE: "choice", FieldType.CONSENT: "consent", FieldType.DATE: "date"}.get(
        form_field.type, "text"
    )
