"""Form answers: validation and normalisation, by examples and by properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from assets import ASSETS_DIR
from kiosk.forms import (
    date_bounds,
    display_answer,
    field_keyboard,
    long_date,
    normalize,
    prefill_value,
    validate,
)
from kiosk.i18n import Translator
from kiosk.identity import Citizen
from protocol.catalogue import BUNDLED_PATH, Choice, FieldType, FormField, load_catalogue

TODAY = dt.date(2026, 11, 21)
TEXTS = {lang: "x" for lang in ("ka", "en", "ru", "az", "hy")}
LANGUAGES = ("ka", "en", "ru", "az", "hy")


def make(kind: FieldType, **kwargs: object) -> FormField:
    return FormField(id="q", type=kind, label=TEXTS, help=TEXTS, **kwargs)  # type: ignore[arg-type]


PHONE = make(FieldType.PHONE)
PERSONAL = make(FieldType.PERSONAL_NUMBER)
NUMBER = make(FieldType.NUMBER, minimum=1, maximum=20)
TEXT = make(FieldType.TEXT, min_length=3, max_length=40)
DATE = make(FieldType.DATE, min_days=1, max_days=30)
CONSENT = make(FieldType.CONSENT)
CHOICE = make(FieldType.CHOICE, choices=(Choice("a", TEXTS), Choice("b", TEXTS)))
ALL = [PHONE, PERSONAL, NUMBER, TEXT, DATE, CONSENT, CHOICE, make(FieldType.TEXT, required=False)]
SHIPPED = [f for s in load_catalogue(BUNDLED_PATH).services for f in s.fields]
SEPARATORS = st.sampled_from(["", " ", "-", "  ", "(", ")", "."])


@pytest.fixture(scope="module")
def translators() -> dict[str, Translator]:
    return {lang: Translator(ASSETS_DIR / "locale", LANGUAGES, lang) for lang in LANGUAGES}


# -- examples: the messages say how to fix it --------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "key", "params"),
    [
        (PHONE, "", "form.error.required", {}),
        (PHONE, "59912345", "form.error.phone", {}),
        (PHONE, "499123456", "form.error.phone", {}),
        (PERSONAL, "0102408508", "form.error.personal_number", {"count": 10}),
        (PERSONAL, "010240850831", "form.error.personal_number", {"count": 12}),
        (PERSONAL, "0102408508x", "form.error.personal_number", {"count": 10}),
        (NUMBER, "25", "form.error.number_range", {"min": 1, "max": 20}),
        (NUMBER, "0", "form.error.number_range", {"min": 1, "max": 20}),
        (NUMBER, "1.5", "form.error.number", {}),
        (NUMBER, "٣", "form.error.number", {}),  # an Arabic-Indic digit is a digit to Python, not to us
        (TEXT, "ab", "form.error.too_short", {"min": 3}),
        (TEXT, "a" * 41, "form.error.too_long", {"max": 40}),
        (DATE, "2026-11-21", "form.error.date_range", {"first": "22.11.2026", "last": "21.12.2026"}),
        (DATE, "21.11.2026", "form.error.date", {}),
        (DATE, "2026-02-30", "form.error.date", {}),
        (CONSENT, "", "form.error.consent", {}),
        (CONSENT, "no", "form.error.consent", {}),
        (CHOICE, "c", "form.error.choice", {}),
    ],
)
def test_a_wrong_answer_gets_a_message_saying_how_to_fix_it(field, value, key, params) -> None:
    """GIVEN a wrong answer WHEN validated THEN the key and the values its message needs come back."""
    problem = validate(field, value, TODAY)
    assert problem is not None and (problem.key, problem.params) == (key, params)


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        (PHONE, "+995 599 12-34-56", "599123456"),
        (PHONE, "00995599123456", "599123456"),
        (PERSONAL, " 010 240 850 83 ", "01024085083"),
        (NUMBER, "007", "7"),
        (NUMBER, "1 0", "10"),
        (TEXT, "  გიორგი   ბერიძე ", "გიორგი ბერიძე"),
        (TEXT, "a\u200bbc\x07d", "abcd"),
        (DATE, "2026-12-05", "2026-12-05"),
        (CHOICE, " a ", "a"),
    ],
)
def test_a_right_answer_is_stored_normalised(field, value, stored) -> None:
    """GIVEN a right answer typed the way people type WHEN normalised THEN it is stored plainly and accepted."""
    assert normalize(field, value) == stored
    assert validate(field, value, TODAY) is None


def test_an_optional_question_may_stay_empty() -> None:
    """GIVEN an optional personal number WHEN left empty THEN accepted; when half typed THEN still checked."""
    optional = make(FieldType.PERSONAL_NUMBER, required=False)
    assert validate(optional, "", TODAY) is None
    assert validate(optional, "123", TODAY).key == "form.error.personal_number"


# -- properties ---------------------------------------------------------------------------------


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(field=st.sampled_from(ALL + SHIPPED), value=st.text(max_size=60))
def test_normalising_twice_changes_nothing(field: FormField, value: str) -> None:
    """GIVEN any text WHEN normalised twice THEN the second pass changes nothing."""
    once = normalize(field, value)
    assert normalize(field, once) == once


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(field=st.sampled_from(ALL + SHIPPED), value=st.text(max_size=60))
def test_validation_sees_the_stored_form(field: FormField, value: str) -> None:
    """GIVEN any text WHEN validated raw or normalised THEN the verdict is the same (what is checked is what is kept)."""
    assert validate(field, value, TODAY) == validate(field, normalize(field, value), TODAY)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(ALL + SHIPPED), value=st.text(max_size=60), lang=st.sampled_from(LANGUAGES))
def test_every_message_can_be_said_in_every_language(translators, field, value, lang) -> None:
    """GIVEN any answer to any shipped question WHEN refused THEN its message exists in each language and
    every placeholder it names is filled (nothing raises, no "{min}" left on screen)."""
    problem = validate(field, value, TODAY)
    assume(problem is not None)
    text = translators[lang](problem.key, **problem.params)
    assert text != problem.key and not re.search(r"{\w+}", text)


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(digits=st.text("0123456789", min_size=11, max_size=11), parts=st.lists(SEPARATORS, min_size=11, max_size=11))
def test_any_eleven_digits_with_separators_are_a_personal_number(digits: str, parts: list[str]) -> None:
    """GIVEN 11 digits with spaces or dashes anywhere WHEN validated THEN accepted and stored as the 11 digits."""
    typed = "".join(d + p for d, p in zip(digits, parts, strict=True))
    assert validate(PERSONAL, typed, TODAY) is None and normalize(PERSONAL, typed) == digits


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(digits=st.text("0123456789", min_size=1, max_size=20).filter(lambda d: len(d) != 11))
def test_any_other_count_of_digits_is_not_a_personal_number(digits: str) -> None:
    """GIVEN a number of digits other than 11 WHEN validated THEN refused, saying how many were typed."""
    problem = validate(PERSONAL, digits, TODAY)
    assert problem is not None and problem.params == {"count": len(digits)}


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(rest=st.text("0123456789", min_size=8, max_size=8), prefix=st.sampled_from(["", "995", "+995", "00995", "+995 "]))
def test_georgian_mobiles_are_accepted_with_or_without_the_country_code(rest: str, prefix: str) -> None:
    """GIVEN 5XXXXXXXX with or without +995 WHEN validated THEN accepted and stored as the 9 national digits."""
    assert validate(PHONE, f"{prefix}5{rest}", TODAY) is None
    assert normalize(PHONE, f"{prefix}5{rest}") == f"5{rest}"


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(value=st.integers(min_value=-50, max_value=10**12))
def test_numbers_are_accepted_exactly_within_their_bounds(value: int) -> None:
    """GIVEN any whole number WHEN validated THEN it is accepted exactly when 1 ≤ n ≤ 20."""
    problem = validate(NUMBER, str(value), TODAY)
    assert (problem is None) == (1 <= value <= 20)


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(offset=st.integers(min_value=-400, max_value=400), today=st.dates(dt.date(2000, 1, 1), dt.date(2090, 1, 1)))
def test_dates_are_accepted_exactly_within_their_range(offset: int, today: dt.date) -> None:
    """GIVEN any day WHEN validated against "from tomorrow up to 30 days" THEN accepted exactly inside that range."""
    day = today + dt.timedelta(days=offset)
    problem = validate(DATE, day.isoformat(), today)
    assert (problem is None) == (1 <= offset <= 30)
    first, last = date_bounds(DATE, today)
    assert (first, last) == (today + dt.timedelta(days=1), today + dt.timedelta(days=30))


@settings(deadline=None)  # a busy shared machine must not fail a property
@given(value=st.text(min_size=0, max_size=80))
def test_text_length_bounds_are_kept(value: str) -> None:
    """GIVEN any text WHEN validated THEN accepted exactly when its stored length is within 3..40."""
    stored = normalize(TEXT, value)
    assert (validate(TEXT, value, TODAY) is None) == (3 <= len(stored) <= 40)


# -- prefill, display, keyboards ------------------------------------------------------------------


def test_prefill_comes_from_the_card() -> None:
    """GIVEN a citizen WHEN fields marked prefill are filled THEN the card's values come back, others stay empty."""
    citizen = Citizen("01024085083", "ნინო", "ბერიძე")
    assert prefill_value(make(FieldType.PERSONAL_NUMBER, prefill="citizen.personal_number"), citizen) == "01024085083"
    assert prefill_value(make(FieldType.TEXT, prefill="citizen.full_name"), citizen) == "ნინო ბერიძე"
    assert prefill_value(make(FieldType.TEXT, prefill="citizen.surname"), citizen) == "ბერიძე"
    assert prefill_value(PHONE, citizen) is None


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Saturday, 5 December 2026"),
        ("ka", "შაბათი, 5 დეკემბერი, 2026"),
        ("ru", "Суббота, 5 декабря 2026 г."),
        ("az", "5 dekabr 2026, şənbə"),
        ("hy", "Շաբաթ, 5 դեկտեմբերի 2026 թ."),
    ],
)
def test_dates_are_shown_in_words_in_each_language(translators, lang: str, expected: str) -> None:
    """GIVEN 2026-12-05 WHEN shown in each language THEN the weekday and the month read naturally."""
    assert long_date(dt.date(2026, 12, 5), translators[lang]) == expected


def test_the_summary_shows_answers_readably(translators) -> None:
    """GIVEN stored answers WHEN shown in the summary THEN choices by label, phones grouped, consent as "Yes"."""
    tr = translators["en"]
    labelled = make(FieldType.CHOICE, choices=(Choice("a", {**TEXTS, "en": "For work"}), Choice("b", TEXTS)))
    assert display_answer(labelled, "a", "en", tr) == "For work"
    assert display_answer(PHONE, "599123456", "en", tr) == "599 12 34 56"
    assert display_answer(CONSENT, "yes", "en", tr) == "Yes"
    assert display_answer(DATE, "2026-12-05", "en", tr) == "Saturday, 5 December 2026"
    assert display_answer(PERSONAL, "", "en", tr) == "—"


def test_each_type_has_its_input() -> None:
    """GIVEN each field type WHEN its input is chosen THEN digits get the pad, dates the stepper, and so on."""
    assert {f.type: field_keyboard(f) for f in ALL[:7]} == {
        FieldType.PHONE: "numeric", FieldType.PERSONAL_NUMBER: "numeric", FieldType.NUMBER: "numeric",
        FieldType.TEXT: "text", FieldType.DATE: "date", FieldType.CONSENT: "consent", FieldType.CHOICE: "choice",
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_date_word_is_translated(translators, lang: str) -> None:
    """GIVEN each language WHEN month and weekday names are looked up THEN none falls back to its key."""
    tr = translators[lang]
    keys = [f"date.month.{m}" for m in range(1, 13)] + [f"date.month_of.{m}" for m in range(1, 13)]
    keys += [f"date.weekday.{d}" for d in range(7)] + ["form.date.day", "form.date.month", "form.date.year"]
    assert [k for k in keys if tr(k) == k] == []
