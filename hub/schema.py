"""The hub's tables as SQLAlchemy Core sees them: one schema for SQLite and PostgreSQL.

Alembic's migrations (``hub/migrations/versions``) make and change the tables; this is what the
queries are written against, and a test checks the two agree on both engines. Times are ISO 8601
UTC text (``+00:00``), so they sort as strings on either engine.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid alias must be INTEGER to count by itself

kiosks = Table(
    "kiosks", metadata,
    Column("id", Text, primary_key=True),
    Column("verify_key", LargeBinary, nullable=False),
    Column("name", Text),
    Column("enrolled_at", Text, nullable=False),
    Column("revoked", Integer, server_default="0"),
    Column("revoked_at", Text),
    Index("idx_kiosks_verify_key", "verify_key", unique=True),
)

# Codes are stored as a hash: a copy of the database does not hand out enrolments.
enrol_codes = Table(
    "enrol_codes", metadata,
    Column("code_hash", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("spent_at", Text),
    Column("kiosk_id", Text),
)

# A request is known by its kiosk and the id that kiosk made: unique for ever, and no kiosk can
# claim or block another kiosk's id.
submissions = Table(
    "submissions", metadata,
    Column("kiosk_id", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("receipt_no", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("citizen", Text),  # the hub's keyed hash of the personal number ("my requests"); "" if unreadable
    Column("presence", Text),  # the fingerprint of the card session that made it (presence_sessions.token)
    Column("synthetic", Integer, server_default="0"),
    Column("sealed", LargeBinary, nullable=False),
    Column("received_at", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("reason", Text),
    Column("changed_at", Text, nullable=False),
    Column("status_seq", BigInteger),  # NULL until the back office first changes it
    Column("tracking_token", Text),  # public, random (128 bits): the QR opens /r/<kiosk_id>/<token>
    Column("language", Text),  # the villager's language at the kiosk: the page's and the SMS's
    Column("centre", Text),  # the community centre's name, shown on the page
    PrimaryKeyConstraint("kiosk_id", "id", name="pk_submissions"),
    Index("idx_submissions_id", "id"),
    Index("idx_submissions_kiosk_status", "kiosk_id", "status_seq"),
    Index("idx_submissions_status_seq", "status_seq", unique=True),
    Index("idx_submissions_citizen", "citizen", "created_at"),
    Index("idx_submissions_state", "state"),
    Index("idx_submissions_received", "received_at"),
    Index("idx_submissions_tracking_token", "kiosk_id", "tracking_token", unique=True),
)

# One SMS to send per state change, written in the same transaction as the change: sent once, across
# restarts and workers (a lease while one worker sends), retried with backoff while the gateway is down.
notifications = Table(
    "notifications", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kiosk_id", Text, nullable=False),
    Column("submission_id", Text, nullable=False),
    Column("status_seq", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Text, nullable=False),
    Column("lease_until", Text),
    Column("done_at", Text),
    Column("outcome", Text),  # sent | no_phone | refused:<word>
    Column("gateway_answer", Text),
    Index("idx_notifications_status_seq", "status_seq", unique=True),
    Index("idx_notifications_due", "done_at", "next_attempt_at"),
)

# Card sessions whose proof of presence the hub accepted: a hub nonce serves one session only.
presence_sessions = Table(
    "presence_sessions", metadata,
    Column("token", Text, primary_key=True),  # SHA-256 of the card's signature
    Column("kiosk_id", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("hub_nonce", Text),
    Column("issued_at", Text, nullable=False),
    Column("first_seen_at", Text, nullable=False),
    Index("idx_presence_sessions_hub_nonce", "hub_nonce", unique=True),
    Index("idx_presence_sessions_first_seen", "first_seen_at"),
)

duplicates = Table(
    "duplicates", metadata,
    Column("kiosk_id", Text, nullable=False),
    Column("submission_id", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("last_at", Text, nullable=False),
    PrimaryKeyConstraint("kiosk_id", "submission_id", name="pk_duplicates"),
)

# Items refused in a batch, counted by reason (the figures and /metrics; nothing of the item is kept).
rejections = Table(
    "rejections", metadata,
    Column("reason", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("last_at", Text, nullable=False),
)

# Named counters a transaction takes a row lock on: status_seq numbers are handed out in commit order.
counters = Table(
    "counters", metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

nonces = Table(
    "nonces", metadata,
    Column("kiosk_id", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("signed_at", Text),
    PrimaryKeyConstraint("kiosk_id", "nonce", name="pk_nonces"),
    Index("idx_nonces_signed_at", "signed_at"),
)

heartbeat_latest = Table(
    "heartbeat_latest", metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("received_at", Text),
    Column("version", Text),
    Column("queue_depth", BigInteger),
    Column("oldest_queued_age_s", Float),
    Column("printer", Text),
    Column("reader", Text),
    Column("body", Text),
)

heartbeats = Table(
    "heartbeats", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kiosk_id", Text),
    Column("received_at", Text),
    Column("body", Text),
    Index("idx_heartbeats_kiosk_id_received_at", "kiosk_id", "received_at"),
)

documents = Table(
    "documents", metadata,
    Column("name", Text, primary_key=True),
    Column("body", LargeBinary),
    Column("etag", Text),
    Column("signature", Text),
    Column("published_at", Text),
)

roles = Table(
    "roles", metadata,
    Column("personal_number", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("name", Text),
    Column("added_at", Text),
    PrimaryKeyConstraint("personal_number", "role", name="pk_roles"),
)

audit_heads = Table(
    "audit_heads", metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", Text, nullable=False),
    Column("reported_at", Text, nullable=False),
    Column("problem", Text),
    Column("problem_at", Text),
)

# The back office on the web (hub/office): its people, their login sessions, and an append-only log of
# every action, each entry chained to the one before by its hash.
office_users = Table(
    "office_users", metadata,
    Column("username", Text, primary_key=True),
    Column("role", Text, nullable=False),  # clerk | supervisor | technician | admin
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("totp", LargeBinary),  # the second factor's secret, sealed with a key derived from the hub's
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("locked_until", Text),
    Column("created_at", Text, nullable=False),
    Column("password_changed_at", Text, nullable=False),
)

office_sessions = Table(
    "office_sessions", metadata,
    Column("token_hash", Text, primary_key=True),  # SHA-256 of the cookie: a copied table opens no session
    Column("username", Text, nullable=False),
    Column("csrf", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Index("idx_office_sessions_username", "username"),
)

office_audit = Table(
    "office_audit", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("detail", Text),
    Column("hash", Text, nullable=False),  # SHA-256 over the previous entry's hash and this entry
)

TABLES_IN_ORDER = [kiosks, enrol_codes, submissions, duplicates, rejections, counters, nonces, heartbeat_latest,
                   heartbeats, documents, roles, audit_heads, notifications, presence_sessions, office_users,
                   office_sessions, office_audit]
"""Every table, in the order ``migrate-db`` copies them."""
