"""Alembic's environment and the hub schema's history (``versions/``); run by ``hub.migrate``."""
