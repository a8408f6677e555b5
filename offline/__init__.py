"""The offline outbox on SQLite, payload sealing, and (later) the sync engine and hub client."""
