"""What an SMS says and to whom: the phone from the sealed answers, the text within two UCS-2 segments."""

from __future__ import annotations

import pytest

from hub.notifier import UCS2_TWO_SEGMENTS, compose, phone_number
from hub.page_texts import LANGUAGES, TEXTS

URL = "https://hub.example.ge/r/k-0123456789abcdef/" + "A" * 22


@pytest.mark.parametrize(("given", "expected"), [
    ("599 12 34 56", "+995599123456"),
    ("+995 599-12-34-56", "+995599123456"),
    ("995599123456", "+995599123456"),
    ("(599) 123 456", "+995599123456"),
    ("032 212 34 56", None),   # a landline does not take SMS
    ("12345", None),
    ("", None),
])
def test_the_phone_is_a_georgian_mobile_or_nothing(given: str, expected: str | None) -> None:
    """GIVEN what a villager typed WHEN read for an SMS THEN a Georgian mobile number in one spelling, or None."""
    assert phone_number({"answers": {"phone": given}}) == expected


def test_no_phone_answer_means_no_sms() -> None:
    """GIVEN a request without a phone answer WHEN read THEN None (no SMS)."""
    assert phone_number({"answers": {"name": "Nino"}}) is None and phone_number({}) is None


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", ["in_progress", "closed", "rejected"])
def test_every_text_fits_two_ucs2_segments_and_keeps_the_state_and_receipt(language: str, state: str) -> None:
    """GIVEN the longest service title in the catalogue and a real page link WHEN a text is composed THEN it is at
    most 134 characters (two UCS-2 messages), in the language, with the state and the receipt number."""
    service = "საცხოვრებელი ადგილის ცნობა — მოქალაქეთა რეგისტრაცია და დოკუმენტების გაცემა"
    message = compose(language, service, state, "KSK-0001-261204-0001", URL)
    assert len(message) <= UCS2_TWO_SEGMENTS
    assert TEXTS[language][f"state.{state}"] in message and "KSK-0001-261204-0001" in message


def test_a_short_text_keeps_the_whole_title_and_the_link() -> None:
    """GIVEN a short title WHEN composed in English THEN nothing is cut."""
    message = compose("en", "Birth record extract", "closed", "K-1", URL)
    assert message == f"Birth record extract: Ready. Receipt K-1. {URL}"
