"""A service's intro (help, fee, processing time, documents) before its first question: the journey's
INTRO step on the core, and the intro screen in the real app driven by touches (``tests.fixtures.services_walk``)."""

from __future__ import annotations

from kiosk.services import Services
from kiosk.session import Step
from protocol.catalogue import localized
from screens.observable import LARGE_TEXT_SCALE
from tests.fixtures.services_walk import INTRO_SERVICE, walk_report


def _signed_in(services: Services) -> None:
    services.demo.reader.insert(services.demo.new_card())
    services.journey.enter_pin(bytearray(b"1234"))
    assert services.journey.step is Step.SERVICES


def test_a_form_service_shows_its_intro_before_the_first_question(services: Services) -> None:
    """GIVEN an authenticated villager WHEN a form service is touched THEN the intro shows (service held, no
    answers yet), and Start opens its first question, prefilled from the card as before."""
    _signed_in(services)
    journey = services.journey
    journey.preview_service("birth_record_extract")
    assert journey.step is Step.INTRO
    assert journey.session.service.id == "birth_record_extract" and journey.session.answers == {}
    journey.choose_service(journey.session.service.id)
    assert journey.step is Step.FORM and journey.current_field.id == "whose"
    assert journey.session.answers["record_personal_number"] == journey.session.citizen.personal_number


def test_back_on_the_intro_returns_to_the_list_and_forgets_the_service(services: Services) -> None:
    """GIVEN the intro of a service WHEN Back THEN the service list shows and no service is held."""
    _signed_in(services)
    services.journey.preview_service("residence_certificate")
    services.journey.back()
    assert services.journey.step is Step.SERVICES and services.journey.session.service is None


def test_the_card_flows_start_without_an_intro(services: Services) -> None:
    """GIVEN the service list WHEN "change PIN" or "my requests" is touched THEN its own flow starts at once."""
    _signed_in(services)
    services.journey.preview_service("pin_change")
    assert services.journey.step is Step.PIN_CHANGE
    services.journey.back()
    services.journey.back()
    services.journey.preview_service("my_requests")
    assert services.journey.step is Step.MY_REQUESTS


def test_the_intro_is_reached_only_from_the_service_list(services: Services) -> None:
    """GIVEN no one signed in, then a form open WHEN a service is previewed THEN nothing changes."""
    services.journey.preview_service("residence_certificate")
    assert services.journey.step is Step.ATTRACT and services.journey.session.service is None
    _signed_in(services)
    services.journey.choose_service("residence_certificate")
    services.journey.preview_service("birth_record_extract")
    assert services.journey.step is Step.FORM and services.journey.session.service.id == "residence_certificate"


def test_card_pulled_on_the_intro_wipes_the_session(services: Services) -> None:
    """GIVEN the intro showing WHEN the card is pulled THEN the attract screen returns with nothing held."""
    _signed_in(services)
    services.journey.preview_service("social_assistance_application")
    services.demo.reader.remove()
    assert services.journey.step is Step.ATTRACT and services.journey.session.is_empty


def test_intro_screen_says_fee_time_and_documents_from_the_catalogue(services: Services) -> None:
    """GIVEN the real app in English WHEN the social assistance service is touched THEN its intro shows the
    catalogue's title, help, agency, fee ("Free"), time ("30 working days") and every document, one per line."""
    intro = walk_report()["intro"]
    service = services.journey.catalogue.service(INTRO_SERVICE)
    assert intro["title"] == localized(service.title, "en") and intro["help"] == localized(service.help, "en")
    assert intro["agency"] == "Social Service Agency"
    assert (intro["fee"], intro["time"]) == ("Free", "30 working days")
    assert intro["documents"].split("\n") == [f"•  {localized(d, 'en')}" for d in service.documents]


def test_intro_screen_keeps_its_parts_apart_and_its_buttons_big(services: Services) -> None:
    """GIVEN the intro at 1280×800 WHEN its parts are measured THEN the documents box sits beside the help with
    the fee and time under it, nothing overlaps the buttons, and Start and Back are at least 15 mm tall."""
    intro = walk_report()["intro"]
    boxes = intro["boxes"]
    assert boxes["facts"][0] >= boxes["help"][2] and boxes["facts"][0] >= boxes["cost"][2]  # side by side
    assert boxes["cost"][3] <= boxes["help"][1]  # fee and time under the help
    for part in ("title", "help", "cost", "facts"):
        assert boxes[part][1] >= boxes["start"][3] and boxes[part][1] >= boxes["back"][3], part
    assert intro["start_height"] >= 56.7
    assert intro["fit"] == 1.0  # it fits: the type keeps the theme's size


def test_intro_by_touch_back_then_start_then_card_out(services: Services) -> None:
    """GIVEN the real app WHEN a service is touched, Back, touched again and Start, then Back, a card flow, and the
    card pulled THEN the screens follow (intro → list → intro → first question → list → PIN change → attract)
    and the intro screen holds no text afterwards."""
    assert walk_report()["error"] == ""
    assert walk_report()["steps"] == ["services", "intro", "services", "service cleared", "form", "household_size",
                                      "services", "pin_change", "attract", "intro wiped"]


def test_the_fullest_intro_fits_at_larger_text_in_the_longest_languages() -> None:
    """GIVEN the social assistance intro (three documents) at larger text WHEN shown in hy, ru, ka and az THEN
    the documents box, the help, the fee and the time stay above the buttons and inside the screen, and no text
    runs out of its label."""
    for lang, view in walk_report()["intro_large"].items():
        boxes = view["boxes"]
        assert boxes["cost"][3] <= boxes["help"][1] + 1, lang
        for part in ("title", "help", "cost", "facts", "documents"):
            assert boxes[part][1] >= boxes["start"][3] - 1, (lang, part)
            assert boxes[part][3] <= view["screen_box"][3] + 1, (lang, part)
        for name, ((tw, th), (w, h)) in view["texts"].items():
            assert tw <= w + 2 and th <= h + 2, (lang, name)
        assert view["fit"] * LARGE_TEXT_SCALE >= 1.0, lang  # stepped down, never below the normal size
