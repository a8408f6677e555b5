"""The back office on the web: its users, their sessions, and an append-only audit of every action.

The audit table refuses UPDATE and DELETE on both engines (triggers): entries are only ever added.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Three tables; triggers keep the audit append-only."""
    op.create_table(
        "office_users",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("totp", sa.LargeBinary),
        sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("password_changed_at", sa.Text, nullable=False),
    )
    op.create_table(
        "office_sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("csrf", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
    )
    op.create_index("idx_office_sessions_username", "office_sessions", ["username"])
    op.create_table(
        "office_audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("hash", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER office_audit_no_{verb.lower()} BEFORE {verb} ON office_audit "
                       "BEGIN SELECT RAISE(ABORT, 'the office audit is append-only'); END")
    else:
        op.execute("CREATE FUNCTION office_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'the office audit is append-only'; END $$")
        op.execute("CREATE TRIGGER office_audit_append_only BEFORE UPDATE OR DELETE ON office_audit "
                   "FOR EACH ROW EXECUTE FUNCTION office_audit_append_only()")


def downgrade() -> None:
    """Not supported: restore the database backup taken before the upgrade instead."""
    raise NotImplementedError("restore the database backup taken before the upgrade")
