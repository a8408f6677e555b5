"""Requests keyed by (kiosk, id), so no kiosk can claim or block another's; rejection counts; a
counter that hands out status numbers in commit order.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
_SUBMISSION_COLUMNS = ("kiosk_id, id, receipt_no, service, created_at, citizen_key, synthetic, sealed, received_at,"
                       " state, reason, changed_at, status_seq")


def upgrade() -> None:
    """Rebuild submissions and duplicates under their new keys (rows copied as they are)."""
    op.create_table(
        "submissions_v2",
        sa.Column("kiosk_id", sa.Text, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("receipt_no", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("citizen_key", sa.Text),
        sa.Column("synthetic", sa.Integer, server_default="0"),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("changed_at", sa.Text, nullable=False),
        sa.Column("status_seq", sa.BigInteger),
        sa.PrimaryKeyConstraint("kiosk_id", "id", name="pk_submissions"),
    )
    op.execute(f"INSERT INTO submissions_v2 ({_SUBMISSION_COLUMNS}) SELECT {_SUBMISSION_COLUMNS} FROM submissions")
    op.drop_table("submissions")
    op.rename_table("submissions_v2", "submissions")
    op.create_index("idx_submissions_id", "submissions", ["id"])
    op.create_index("idx_submissions_kiosk_status", "submissions", ["kiosk_id", "status_seq"])
    op.create_index("idx_submissions_status_seq", "submissions", ["status_seq"], unique=True)
    op.create_index("idx_submissions_citizen", "submissions", ["kiosk_id", "citizen_key"])
    op.create_index("idx_submissions_state", "submissions", ["state"])
    op.create_index("idx_submissions_received", "submissions", ["received_at"])

    op.create_table(
        "duplicates_v2",
        sa.Column("kiosk_id", sa.Text, nullable=False),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("last_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "submission_id", name="pk_duplicates"),
    )
    op.execute("INSERT INTO duplicates_v2 (kiosk_id, submission_id, count, last_at)"
               " SELECT kiosk_id, submission_id, COALESCE(count, 1), COALESCE(last_at, '') FROM duplicates")
    op.drop_table("duplicates")
    op.rename_table("duplicates_v2", "duplicates")

    op.create_table(
        "rejections",
        sa.Column("reason", sa.Text, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("last_at", sa.Text, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO counters (name, value) SELECT 'status_seq', COALESCE(MAX(status_seq), 0) FROM submissions")


def downgrade() -> None:
    """Not supported: restore the database backup taken before the upgrade instead."""
    raise NotImplementedError("restore the database backup taken before the upgrade")
