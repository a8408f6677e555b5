"""Form validation: each answer checked by its field type, with a message key saying how to fix it."""

from __future__ import annotations

import datetime as dt
import re

from kiosk.catalogue import FieldType, FormField

_PHONE = re.compile(r"^(\+?995)?5\d{8}$")  # Georgian mobile numbers: 5XX XXX XXX


def normalize(field: FormField, value: str) -> str:
    """The answer as stored: trimmed, and digits only for numeric kinds."""
    value = value.strip()
    if field.type in (FieldType.PHONE, FieldType.PERSONAL_NUMBER):
        value = re.sub(r"[\s\-()]", "", value)
    return value


def validate(field: FormField, value: str, today: dt.date) -> str | None:
    """None when ``value`` is acceptable, else a translation key saying what to do."""
    value = normalize(field, value)
    if not value:
        if field.type is FieldType.CONSENT:
            return "form.error.consent" if field.required else None
        return "form.error.required" if field.required else None
    if len(value) > field.max_length:
        return "form.error.too_long"
    kind = field.type
    if kind is FieldType.NUMBER and not value.isdigit():
        return "form.error.number"
    if kind is FieldType.PHONE and not _PHONE.match(value):
        return "form.error.phone"
    if kind is FieldType.PERSONAL_NUMBER and not (len(value) == 11 and value.isdigit()):
        return "form.error.personal_number"
    if kind is FieldType.CHOICE and value not in {c.id for c in field.choices}:
        return "form.error.choice"
    if kind is FieldType.CONSENT and value != "yes":
        return "form.error.consent"
    if kind is FieldType.DATE:
        try:
            day = dt.datetime.strptime(value, "%d.%m.%Y").date()
        except ValueError:
            return "form.error.date"
        if not dt.date(1900, 1, 1) <= day <= today.replace(year=today.year + 2):
            return "form.error.date_range"
    return None


def field_keyboard(field: FormField) -> str:
    """Which on-screen keyboard a field wants: ``numeric``, ``text``, ``choice`` or ``consent``."""
    if field.type in (FieldType.NUMBER, FieldType.PHONE, FieldType.PERSONAL_NUMBER, FieldType.DATE):
        return "numeric"
    if field.type is FieldType.CHOICE:
        return "choice"
    if field.type is FieldType.CONSENT:
        return "consent"
    return "text"
