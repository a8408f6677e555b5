"""Alembic's environment: migrations run on the connection ``hub.migrate`` hands over, never from a URL here."""

from __future__ import annotations

from alembic import context

from hub.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
