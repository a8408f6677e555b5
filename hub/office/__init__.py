"""The back office on the web, served by the hub under ``/office/``: accounts, sessions, pages."""
