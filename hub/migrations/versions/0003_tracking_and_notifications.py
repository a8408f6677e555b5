"""Public tracking tokens (the QR's page), each request's language and centre, and the notification outbox.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Three clear columns on submissions; a table of SMS to send, one per state change."""
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("tracking_token", sa.Text))
        batch.add_column(sa.Column("language", sa.Text))
        batch.add_column(sa.Column("centre", sa.Text))
    op.create_index("idx_submissions_tracking_token", "submissions", ["kiosk_id", "tracking_token"], unique=True)
    op.create_table(
        "notifications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.Text, nullable=False),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("status_seq", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Text, nullable=False),
        sa.Column("lease_until", sa.Text),
        sa.Column("done_at", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("gateway_answer", sa.Text),
    )
    op.create_index("idx_notifications_status_seq", "notifications", ["status_seq"], unique=True)
    op.create_index("idx_notifications_due", "notifications", ["done_at", "next_attempt_at"])


def downgrade() -> None:
    """Not supported: restore the database backup taken before the upgrade instead."""
    raise NotImplementedError("restore the database backup taken before the upgrade")
