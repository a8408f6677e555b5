"""Proof of presence and "my requests" from every centre: the hub's own citizen lookup replaces the
kiosks' keyed hashes, and the card sessions the hub accepted are kept.

The lookup of requests already stored is filled in by ``kiosk hub serve`` at start (it needs the
hub's keys, which a migration does not hold): see ``hub.citizens.index_missing``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop each kiosk's citizen hash, add the hub's lookup and the session column; a sessions table."""
    op.drop_index("idx_submissions_citizen", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("citizen_key")
        batch.add_column(sa.Column("citizen", sa.Text))
        batch.add_column(sa.Column("presence", sa.Text))
    op.create_index("idx_submissions_citizen", "submissions", ["citizen", "created_at"])
    op.create_table(
        "presence_sessions",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("kiosk_id", sa.Text, nullable=False),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("hub_nonce", sa.Text),
        sa.Column("issued_at", sa.Text, nullable=False),
        sa.Column("first_seen_at", sa.Text, nullable=False),
    )
    op.create_index("idx_presence_sessions_hub_nonce", "presence_sessions", ["hub_nonce"], unique=True)
    op.create_index("idx_presence_sessions_first_seen", "presence_sessions", ["first_seen_at"])


def downgrade() -> None:
    """Not supported: restore the database backup taken before the upgrade instead."""
    raise NotImplementedError("restore the database backup taken before the upgrade")
