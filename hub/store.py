"""The hub's database: SQLite (the embedded default) or PostgreSQL (a fleet), one schema by Alembic.

``HubDatabase(url)`` takes a SQLite file path, ``sqlite:///PATH`` or ``postgresql://user@host/db``
(psycopg 3). Every guarantee is the database's own, so it holds across hub processes: ids unique
by primary key, nonces by primary key, status numbers handed out under a row lock in commit order.
``write()`` is one transaction committed before the hub answers (SQLite: ``BEGIN IMMEDIATE`` and
``synchronous=FULL``, so "accepted" survives a power cut; a batch of 200 costs one commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

Clock = Callable[[], dt.datetime]
LEGACY_SQLITE_REVISION = "0001"  # what a hub made by the sqlite-utils migrations m001+m002 holds


class DatabaseUrlError(ValueError):
    """``--db`` is neither a SQLite path nor a database URL this hub speaks."""


def utc_now() -> dt.datetime:
    """The wall clock in UTC (the default clock)."""
    return dt.datetime.now(dt.timezone.utc)


def database_url(given: str | Path) -> str:
    """A SQLAlchemy URL for ``--db``: a path is a SQLite file; ``postgresql://`` means psycopg 3."""
    spelled = str(given)
    if "://" not in spelled:
        return f"sqlite:///{Path(spelled).expanduser().resolve()}"
    try:
        url = make_url(spelled)
    except ArgumentError:
        raise DatabaseUrlError(f"not a database URL: {spelled}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(f"the hub speaks SQLite and PostgreSQL, not {url.get_backend_name()}")
    if url.get_backend_name() == "sqlite" and not url.database:
        raise DatabaseUrlError("a SQLite hub needs a file (sqlite:///path/hub.db)")
    return url.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for a server database."""
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions on its own terms; take that over (SQLAlchemy's documented recipe)
    # so a write starts with BEGIN IMMEDIATE and never fails half-way on a lock upgrade.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=5000")  # the back-office CLI may write while serve runs
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("hub_write") else "BEGIN")


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine for the hub's URL, tuned per engine (no pooling for SQLite: a connection is cheap)."""
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_path(url)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a hub made before Alembic is adopted at its baseline)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        names = set(inspect(conn).get_table_names())
        if "_sqlite_migrations" in names and "alembic_version" not in names:
            command.stamp(config, LEGACY_SQLITE_REVISION)
            conn.exec_driver_sql("DROP TABLE _sqlite_migrations")  # Alembic keeps the history from here on
            conn.commit()
        command.upgrade(config, "head")
        conn.commit()


def insert_ignoring(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]) -> int:
    """INSERT … ON CONFLICT (keys) DO NOTHING; 1 when the row is new, 0 when one was there."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # RETURNING rather than rowcount: psycopg reports -1 for an INSERT … ON CONFLICT through SQLAlchemy.
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=list(keys))
    return len(conn.execute(statement.returning(table.c[keys[0]])).all())


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str],
           update: dict[str, Any] | None = None) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE: the other columns (or ``update``'s expressions) replace the old."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    changes = update if update is not None else {
        name: statement.excluded[name] for name in values if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes))


class HubDatabase:
    """The hub's database: ``write()`` and ``read()`` from any thread or process."""

    def __init__(self, url: str | Path, clock: Clock = utc_now, *, pool_size: int = 8, upgrade: bool = True) -> None:
        self.url = database_url(url)
        self.path = sqlite_path(self.url)
        self.clock = clock
        self.engine = make_engine(self.url, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        # SQLite has one writer: threads of this process queue here rather than on busy_timeout,
        # which is left to other processes (the back-office CLI).
        self._sqlite_writer = threading.Lock() if self.dialect == "sqlite" else None
        if upgrade:
            migrate(self.engine)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction, committed on success and rolled back on any error."""
        with self._sqlite_writer or contextlib.nullcontext(), \
                self.engine.connect().execution_options(hub_write=True) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction (a consistent view on either engine)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def now(self) -> str:
        """The clock's time as stored (ISO 8601, UTC)."""
        return self.clock().astimezone(dt.timezone.utc).isoformat()

    def describe(self) -> str:
        """The database for an operator's eyes: the file, or the URL without its password."""
        return str(self.path) if self.path else make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def scalar(conn: Connection, sql: str, **params: Any) -> Any:
    """The first column of the first row of a plain SQL query (``:name`` parameters), or None."""
    return conn.execute(text(sql), params).scalar()
