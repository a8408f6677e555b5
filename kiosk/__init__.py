"""The kiosk core: session, identity, services, receipts, configuration. Never imports kivy."""

__version__ = "0.1.0"
