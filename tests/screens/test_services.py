"""The service list at 1280×800: pages that fit between the greeting and the card flows in every language and
text size, reached by big arrows; the page arithmetic; the fee-and-time line (``tests.fixtures.services_walk``)."""

from __future__ import annotations

import pytest

from kiosk.services import Services
from screens.observable import LARGE_TEXT_SCALE
from screens.services.pages import fits, paginate, row_heights, service_detail, stretch, time_text
from tests.fixtures.services_walk import LANGS, walk_report


def _views() -> list[dict]:
    report = walk_report()
    assert report["error"] == "", report["error"]
    return report["views"]


def _inside(box: list[float], region: list[float], slack: float = 1.0) -> bool:
    return (box[0] >= region[0] - slack and box[1] >= region[1] - slack
            and box[2] <= region[2] + slack and box[3] <= region[3] + slack)


def _overlap(a: list[float], b: list[float]) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1


# -- the arithmetic (no Kivy) ----------------------------------------------------------------

def test_everything_that_fits_is_one_page_without_arrows() -> None:
    """GIVEN seven services of 80 px, two to a row, in 400 px WHEN paginated THEN one page holds all seven."""
    assert paginate([80.0] * 7, 96.0, 2, 400.0, 12.0) == [(0, 7)]


def test_pages_leave_a_place_for_each_arrow() -> None:
    """GIVEN seven tall services and room for two rows WHEN paginated THEN the first page ends with "more" (3
    services), the middle one has both arrows (2), the last starts with "previous" (2 left), none is lost."""
    pages = paginate([150.0] * 7, 150.0, 2, 320.0, 12.0)
    assert pages == [(0, 3), (3, 5), (5, 7)]
    assert [i for start, end in pages for i in range(start, end)] == list(range(7))


def test_a_service_taller_than_any_page_still_gets_one() -> None:
    """GIVEN a service needing more than the room WHEN paginated THEN it has a page to itself (no endless loop)."""
    assert paginate([80.0, 900.0, 80.0], 96.0, 2, 300.0, 12.0) == [(0, 1), (1, 2), (2, 3)]


def test_rows_take_their_tallest_cell_and_grow_only_to_the_limit() -> None:
    """GIVEN cells of 80/120 px WHEN rows are measured and stretched into 400 px (limit 139) THEN each row
    keeps its tallest need, grows evenly up to 139, and a row that needs more keeps what it needs."""
    rows = row_heights([80.0, 120.0, 80.0, 80.0], 2)
    assert rows == [120.0, 80.0]
    assert fits([80.0, 120.0, 80.0, 80.0], 2, 212.0, 12.0) and not fits([80.0, 120.0, 80.0, 80.0], 2, 211.0, 12.0)
    assert stretch(rows, 400.0, 12.0, 139.0) == [139.0, 139.0]
    assert stretch([200.0, 80.0], 400.0, 12.0, 139.0) == [200.0, 139.0]
    assert stretch([200.0, 150.0], 300.0, 12.0, 139.0) == [200.0, 150.0]  # over the room already: unchanged


def test_fee_and_time_line_in_words(services: Services) -> None:
    """GIVEN the catalogue WHEN each service's line is made THEN a fee shows in lari or "free", and the time
    says working days, the noun agreeing with the number ("1 рабочий день" / "10 рабочих дней" in Russian)."""
    t = services.translator
    catalogue = services.journey.catalogue
    t.set_language("en")
    assert service_detail(catalogue.service("birth_record_extract"), t) == "5.00 ₾  ·  1 working day"
    assert service_detail(catalogue.service("social_assistance_application"), t) == "Free  ·  30 working days"
    t.set_language("ru")
    assert time_text(catalogue.service("birth_record_extract"), t) == "1 рабочий день"
    assert time_text(catalogue.service("municipality_letter"), t) == "10 рабочих дней"


# -- the real screen ------------------------------------------------------------------------

@pytest.mark.parametrize("large", [False, True], ids=["normal", "larger-text"])
@pytest.mark.parametrize("lang", LANGS)
def test_every_page_fits_between_the_greeting_and_the_card_flows(lang: str, large: bool) -> None:
    """GIVEN the real app at 1280×800 WHEN the list is shown in a language and text size and every page is
    walked by its arrows THEN every cell lies inside the grid's area (never on the top bar or the flows), no
    two overlap, each is at least 15 mm tall, and no text runs out of its button."""
    view = next(v for v in _views() if v["lang"] == lang and v["large"] == large)
    area = view["area_box"]
    assert _inside(area, view["screen_box"]) and not _overlap(area, view["flows_box"])
    for page in view["pages"]:
        for i, cell in enumerate(page):
            assert _inside(cell["box"], area), cell["text"]
            assert cell["box"][3] - cell["box"][1] >= view["min_touch"] - 0.5, cell["text"]
            width, height = cell["texture"]
            assert width <= cell["box"][2] - cell["box"][0] + 2 and height <= cell["box"][3] - cell["box"][1] + 2
            assert not any(_overlap(cell["box"], other["box"]) for other in page[i + 1:])


@pytest.mark.parametrize("large", [False, True], ids=["normal", "larger-text"])
@pytest.mark.parametrize("lang", LANGS)
def test_arrows_reach_every_service_once_and_lead_back(lang: str, large: bool) -> None:
    """GIVEN the list in a language and text size WHEN "more services" is touched to the last page and
    "previous" back to the first THEN every form service was shown exactly once, and the way back took as many
    touches as the way there."""
    view = next(v for v in _views() if v["lang"] == lang and v["large"] == large)
    seen = [cell["id"] for page in view["pages"] for cell in page if cell["id"]]
    assert seen == view["form_services"]
    assert len(view["pages"]) == view["page_count"] and view["back_to_first"] == view["page_count"] - 1
    for number, page in enumerate(view["pages"]):
        arrows = [cell["arrow"] for cell in page if cell["arrow"]]
        assert arrows == [-1] * (number > 0) + [1] * (number < len(view["pages"]) - 1)


def test_all_services_fit_on_one_page_at_normal_text_in_every_language() -> None:
    """GIVEN the normal text size WHEN the list is shown in each language THEN all seven form services are on
    one page (no arrows to find); larger text may take more pages."""
    assert {v["lang"]: v["page_count"] for v in _views() if not v["large"]} == {lang: 1 for lang in LANGS}
    assert all(v["page_count"] <= 3 for v in _views() if v["large"])


@pytest.mark.parametrize("lang", LANGS)
def test_card_flows_have_their_own_row_that_fits_their_words(lang: str) -> None:
    """GIVEN the list WHEN the bottom row is measured THEN it holds PIN change, PUK unblock and my requests
    in catalogue order, each at least 15 mm, with its whole wrapped title inside, at larger text too."""
    for view in (v for v in _views() if v["lang"] == lang):
        assert [f["id"] for f in view["flows"]] == ["pin_change", "puk_unblock", "my_requests"]
        assert _inside(view["flows_box"], view["screen_box"])
        for flow in view["flows"]:
            height = flow["box"][3] - flow["box"][1]
            assert height >= view["min_touch"] - 0.5 and flow["texture"][1] <= height + 2, flow["text"]


def test_fee_and_time_follow_larger_text() -> None:
    """GIVEN the list at normal and at larger text WHEN the fee line's size is read THEN it grows by the A+ scale
    (it is rebuilt from the theme, not set once)."""
    normal = {v["lang"]: v["pages"][0][0]["detail_size"] for v in _views() if not v["large"]}
    large = {v["lang"]: v["pages"][0][0]["detail_size"] for v in _views() if v["large"]}
    for lang in LANGS:
        assert large[lang] == int(normal[lang] * LARGE_TEXT_SCALE) or large[lang] == round(normal[lang] * LARGE_TEXT_SCALE)


def test_finish_sits_beside_the_greeting_inside_the_screen() -> None:
    """GIVEN the list WHEN "Finish" is measured THEN it is inside the screen, above the grid, and 15 mm tall."""
    for view in _views():
        box = view["finish_box"]
        assert _inside(box, view["screen_box"]) and box[1] >= view["area_box"][3] - 1
        assert box[3] - box[1] >= view["min_touch"] - 0.5
