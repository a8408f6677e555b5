"""The reference central hub: the server side of the kiosk sync protocol (``docs/sync-protocol.md``)."""
