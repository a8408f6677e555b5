"""Attract screen: invites the villager to insert the ID card (or to take it after a session)."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from screens.base import KioskScreen


class AttractScreen(KioskScreen):
    """"Insert your ID card"; "take your card" when one was left in the reader."""

    card_left_in = BooleanProperty(False)

    def refresh(self) -> None:
        self.card_left_in = self.journey.card_left_in
