"""The core's error base, and the device errors that adapters raise through the ports.

Every error names a translation key: the screen shows ``translator(error.translation_key,
**error.params)``, so a villager reads what happened in their own language. Messages never carry
a PIN or personal data. Adapters (``hardware/``) raise the device errors below; the core's rules
raise their own subclasses of ``KioskError``.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error a person may be told about: it carries a translation key."""

    translation_key = "error.unexpected"

    @property
    def params(self) -> dict[str, object]:
        """Values the translated message may use (never secrets)."""
        return {}


class HardwareError(KioskError):
    """Base of every device error."""

    translation_key = "error.hardware"


class CardError(HardwareError):
    """Something went wrong with the ID card."""

    translation_key = "error.card"


class CardRemoved(CardError):
    """The card left the reader before the operation finished."""

    translation_key = "error.card_removed"


class CardUnsupported(CardError):
    """The card in the reader is not a national ID card this kiosk knows."""

    translation_key = "error.card_unsupported"


class PinFormatInvalid(CardError):
    """The PIN has the wrong length or characters; the card was not asked."""

    translation_key = "error.pin_format"

    def __init__(self, min_len: int, max_len: int) -> None:
        super().__init__(f"PIN must be {min_len}-{max_len} digits")
        self.min_len, self.max_len = min_len, max_len

    @property
    def params(self) -> dict[str, object]:
        return {"min": self.min_len, "max": self.max_len}


class PinIncorrect(CardError):
    """The card refused the PIN; ``tries_left`` is what the card says (None if unknown)."""

    translation_key = "error.pin_incorrect"

    def __init__(self, tries_left: int | None) -> None:
        super().__init__(f"PIN incorrect, tries left: {tries_left}")
        self.tries_left = tries_left

    @property
    def params(self) -> dict[str, object]:
        return {"tries": "?" if self.tries_left is None else self.tries_left}


class PinLocked(CardError):
    """The PIN is blocked; only the PUK can unblock it."""

    translation_key = "error.pin_locked"


class ReaderUnavailable(HardwareError):
    """No card reader answers (unplugged, or the PC/SC service is down)."""

    translation_key = "error.reader_unavailable"


class PrinterError(HardwareError):
    """The receipt printer cannot print."""

    translation_key = "error.printer"


class PrinterOffline(PrinterError):
    """The printer does not answer."""

    translation_key = "error.printer_offline"


class PaperOut(PrinterError):
    """The printer has no paper."""

    translation_key = "error.paper_out"


class CoverOpen(PrinterError):
    """The printer's cover is open."""

    translation_key = "error.cover_open"
