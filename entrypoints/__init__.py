"""Entry points: the `kiosk` command, `python -m entrypoints`, and the one composition root."""
