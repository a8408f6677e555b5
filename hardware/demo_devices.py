"""The simulated devices of a demo kiosk, together: what ``kiosk demo``, the tours and the tests drive."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.demo_pki import DemoPki
from hardware.simulated_card import SimulatedCardReader, SimulatedIdCard
from hardware.simulated_printer import SimulatedPrinter


@dataclass
class DemoHardware:
    """The simulated devices of a demo kiosk, for the tour and the tests to drive."""

    reader: SimulatedCardReader
    printer: SimulatedPrinter
    pki: DemoPki
    hub_private_key: bytes

    def new_card(self, **kwargs: object) -> SimulatedIdCard:
        """A fresh demo citizen's card (PIN 1234, signing PIN 123456, PUK 12345678)."""
        return SimulatedIdCard(self.pki, **kwargs)  # type: ignore[arg-type]
