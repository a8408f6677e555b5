"""The Kivy touch front end: one folder per screen, shared widgets, theme. Thin over ``kiosk``."""
