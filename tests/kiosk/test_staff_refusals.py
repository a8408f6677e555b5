"""The hub's refusals of a request, as staff read them at the kiosk: plain words in every language."""

from __future__ import annotations

import pytest

from assets import ASSETS_DIR
from kiosk.config import LANGUAGES
from kiosk.i18n import Translator
from kiosk.staff import refusal_key

PRESENCE_REFUSALS = ["presence_missing", "presence_malformed", "presence_untrusted", "presence_bad_signature",
                     "presence_bad_nonce", "presence_stale_nonce", "presence_other_kiosk", "presence_nonce_reused",
                     "presence_no_personal_number", "presence_other_person", "presence_outside_session"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_of_the_cards_proof_has_words_in_each_language(language: str) -> None:
    """GIVEN each reason hub.presence gives, and an unreadable payload WHEN staff see the rejected request
    THEN it has a message of its own language (not the key, not English in another language's place)."""
    tr = Translator(ASSETS_DIR / "locale", LANGUAGES, language)
    english = Translator(ASSETS_DIR / "locale", LANGUAGES, "en")
    for reason in [*PRESENCE_REFUSALS, "sealed_unreadable"]:
        key = refusal_key(reason)
        assert key is not None and key in tr.keys(language), reason
        assert tr(key) != key and (language == "en" or tr(key) != english(key)), reason


def test_other_reasons_keep_their_own_words() -> None:
    """GIVEN a shape refusal or no reason WHEN explained THEN no presence message is put over it."""
    assert refusal_key("invalid:receipt_no") is None and refusal_key(None) is None and refusal_key("") is None
    assert refusal_key("presence_other_person") == "staff.rejected.other_person"
