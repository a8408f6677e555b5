"""What kiosk and hub share: wire format and request signing, sealing, the catalogue schema."""

__version__ = "0.1.0"
