"""Own the engine, the per-request session and the one DeclarativeBase every table uses.

Both applications (the standalone LRS and the whole product) bind a `Database` to the app with
`init_app`; nothing here is a module-level engine. Schema changes go through Alembic only
(`migrations/`); `migration_state()` tells whether the database is at the code's head revision.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from lrs.config import PROJECT_ROOT, ConfigError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
EXTENSION_KEY = "lb.database"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base for every table of both packages."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store timezone-aware datetimes as UTC on every backend and return them aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive datetimes and normalise to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column; attach a timezone")
        value = value.astimezone(dt.UTC)
        # SQLite has no timezone type: store naive UTC so that text comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite;
    # the busy timeout makes concurrent writers from several workers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB of page cache per connection
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with the settings this product needs."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            folder = Path(path).parent
            if not folder.exists():
                raise ConfigError(f"DATABASE_URL points into {folder}, which does not exist: create it or fix the URL.")
        # A small pool: opening a SQLite connection (and setting WAL and pragmas) costs more than most
        # queries, and closing the last connection of a WAL database forces a checkpoint.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=8, max_overflow=16,
            pool_pre_ping=False,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@dataclass
class MigrationState:
    """Where the database stands against the code's migrations."""

    reachable: bool
    current: str | None
    head: str | None
    error: str | None = None

    @property
    def up_to_date(self) -> bool:
        """Tell whether the database is exactly at head."""
        return self.reachable and self.current is not None and self.current == self.head

    def problem(self) -> str | None:
        """Describe what is wrong in one line, or return None when the database is ready."""
        if not self.reachable:
            return f"The database is unreachable ({self.error}): check DATABASE_URL and that the server runs."
        if self.current is None:
            return "The database has no schema yet: run `learning-bridge db upgrade`."
        if self.current != self.head:
            if self.error == "unknown revision":
                return (
                    f"The database is at revision {self.current}, which this code does not know "
                    "(it was migrated by a newer version): deploy that version or restore a backup."
                )
            return f"The database is behind its migrations ({self.current} < {self.head}): run `learning-bridge db upgrade`."
        return None


def alembic_config(url: str) -> AlembicConfig:
    """Build the Alembic configuration for the one migration history."""
    from alembic.config import Config as AlembicConfig  # Alembic is imported when needed: a third of a process's start

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """An engine plus a session factory, bound to one Flask app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        from alembic.script import ScriptDirectory

        self._script = ScriptDirectory.from_config(alembic_config(url))
        # The code's revisions never change while it runs: read them once, not on every /healthz.
        self._head = self._script.get_current_head()
        self._known = frozenset(rev.revision for rev in self._script.walk_revisions())
        self._ready = False

    @property
    def head(self) -> str | None:
        """Return the head revision of the code's migrations."""
        return self._head

    def migration_state(self) -> MigrationState:
        """Read the database's Alembic revision and compare it with the code's head."""
        head = self.head
        try:
            with self.engine.connect() as connection:
                from alembic.runtime.migration import MigrationContext

                current = MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as err:
            return MigrationState(False, None, head, error=str(getattr(err, "orig", None) or err).splitlines()[0][:200])
        error = "unknown revision" if current is not None and current not in self._known else None
        return MigrationState(True, current, head, error=error)

    def check_ready(self) -> str | None:
        """Return a one-line problem until the database is reachable and at head, then cache success."""
        if self._ready:
            return None
        problem = self.migration_state().problem()
        self._ready = problem is None
        return problem

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session outside a request (CLI, jobs), committing on success."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


@contextmanager
def _driver_cursor(session: Session, sql: str, params: Sequence[Any]) -> Iterator[Any]:
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        yield cursor
    finally:
        cursor.close()


def driver_sql(session: Session, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """Run fixed SQL with `?` placeholders on the session's DB-API cursor; return its first row.

    For the few statements every request runs (the write lock, the next stored-order key, the
    credential lookup, the statement queries): compiling an expression and building a result
    object cost more than the query itself. It runs in the session's transaction, like any other statement.
    """
    with _driver_cursor(session, sql, params) as cursor:
        return cursor.fetchone() if cursor.description else None


def driver_many(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run fixed SQL with `?` placeholders once per row (executemany) in the session's transaction."""
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, [tuple(row) for row in rows])
    finally:
        cursor.close()


def driver_rows(session: Session, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run fixed SQL like `driver_sql` and return every row."""
    with _driver_cursor(session, sql, params) as cursor:
        return list(cursor.fetchall())


_STREAMS = itertools.count(1)  # server-side cursors are named; each stream its own name


def driver_stream(session: Session, sql: str, params: Sequence[Any] = (), size: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Run fixed SQL like `driver_rows` and yield its rows `size` at a time, for reads of millions of rows.

    PostgreSQL reads through a server-side cursor, so neither driver holds the whole result in memory.
    """
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    server_side = connection.dialect.name == "postgresql"
    cursor = connection.connection.cursor(name=f"lb_stream_{next(_STREAMS)}") if server_side else connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        while rows := cursor.fetchmany(size):
            yield from rows
    finally:
        cursor.close()


def utc_from_driver(value: str | dt.datetime | None) -> dt.datetime | None:
    """Return a UTCDateTime column read below SQLAlchemy as an aware UTC time, as the type would.

    SQLite gives the stored naive-UTC text (parsing it with its offset is cheaper than a replace()),
    PostgreSQL an aware datetime.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def init_app(app: Flask, url: str) -> Database:
    """Bind a `Database` to the app and close the request's session at teardown."""
    database = Database(url)
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_close_session)
    return database


def get_db(app: Flask | None = None) -> Database:
    """Return the app's `Database`."""
    return (app or current_app).extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "lb_session" not in g:
        g.lb_session = get_db().sessions()
    return g.lb_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("lb_session", None)
    if session is not None:
        session.close()
