"""The kiosk core: session, identity, services, receipts, configuration. Never imports kivy."""

