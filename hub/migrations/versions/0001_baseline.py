"""The schema as the first hubs made it (sqlite-utils migrations m001 and m002): kiosks, codes,
submissions, duplicates, nonces, heartbeats, documents, roles, audit heads.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables of the first hubs."""
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("verify_key", sa.LargeBinary, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("enrolled_at", sa.Text, nullable=False),
        sa.Column("revoked", sa.Integer, server_default="0"),
        sa.Column("revoked_at", sa.Text),
    )
    op.create_index("idx_kiosks_verify_key", "kiosks", ["verify_key"], unique=True)
    op.create_table(
        "enrol_codes",
        sa.Column("code_hash", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("spent_at", sa.Text),
        sa.Column("kiosk_id", sa.Text),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kiosk_id", sa.Text, nullable=False),
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
    )
    op.create_index("idx_submissions_kiosk_id_status_seq", "submissions", ["kiosk_id", "status_seq"])
    op.create_index("idx_submissions_status_seq", "submissions", ["status_seq"], unique=True)
    op.create_index("idx_submissions_kiosk_id_citizen_key", "submissions", ["kiosk_id", "citizen_key"])
    op.create_index("idx_submissions_state", "submissions", ["state"])
    op.create_table(
        "duplicates",
        sa.Column("submission_id", sa.Text, primary_key=True),
        sa.Column("kiosk_id", sa.Text),
        sa.Column("count", sa.BigInteger),
        sa.Column("last_at", sa.Text),
    )
    op.create_table(
        "nonces",
        sa.Column("kiosk_id", sa.Text, nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("signed_at", sa.Text),
        sa.PrimaryKeyConstraint("kiosk_id", "nonce", name="pk_nonces"),
    )
    op.create_index("idx_nonces_signed_at", "nonces", ["signed_at"])
    op.create_table(
        "heartbeat_latest",
        sa.Column("kiosk_id", sa.Text, primary_key=True),
        sa.Column("received_at", sa.Text),
        sa.Column("version", sa.Text),
        sa.Column("queue_depth", sa.BigInteger),
        sa.Column("oldest_queued_age_s", sa.Float),
        sa.Column("printer", sa.Text),
        sa.Column("reader", sa.Text),
        sa.Column("body", sa.Text),
    )
    op.create_table(
        "heartbeats",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.Text),
        sa.Column("received_at", sa.Text),
        sa.Column("body", sa.Text),
    )
    op.create_index("idx_heartbeats_kiosk_id_received_at", "heartbeats", ["kiosk_id", "received_at"])
    op.create_table(
        "documents",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("body", sa.LargeBinary),
        sa.Column("etag", sa.Text),
        sa.Column("signature", sa.Text),
        sa.Column("published_at", sa.Text),
    )
    op.create_table(
        "roles",
        sa.Column("personal_number", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("added_at", sa.Text),
        sa.PrimaryKeyConstraint("personal_number", "role", name="pk_roles"),
    )
    op.create_table(
        "audit_heads",
        sa.Column("kiosk_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("reported_at", sa.Text, nullable=False),
        sa.Column("problem", sa.Text),
        sa.Column("problem_at", sa.Text),
    )


def downgrade() -> None:
    """Not supported: restore the backup taken before the upgrade instead."""
    raise NotImplementedError("restore the database backup taken before the upgrade")
