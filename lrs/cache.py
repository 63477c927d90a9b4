"""Keep short-lived shared values (launch state, nonces, tokens) where every worker sees them.

Redis when `REDIS_URL` is set (every key under `REDIS_KEY_PREFIX`), else a table of the one
database. Never process memory: several gunicorn workers and several nodes must agree on whether
a state was issued or a nonce was already used. Values are strings (callers store JSON); every
entry expires. `add` is an atomic set-if-absent, `pop` an atomic get-and-delete: together they
make single-use tokens safe under concurrency.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, cast

from flask import Flask, current_app
from sqlalchemy import Engine, String, Table, Text, create_engine, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import QueuePool

from lrs.db import Base, UTCDateTime, get_db, utcnow
from lrs.errors import ServiceUnavailable

EXTENSION_KEY = "lb.cache"
MAX_KEY_LENGTH = 250
# Expired rows are removed by reads of the same key and, now and then, by a sweep on write.
_SWEEP_PROBABILITY = 0.01


class CacheEntry(Base):
    """One shared value with its expiry time (used when Redis is not configured)."""

    __tablename__ = "cache_entry"

    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


_TABLE = cast(Table, CacheEntry.__table__)


class Cache(Protocol):
    """A shared key-value store whose entries expire."""

    def get(self, key: str) -> str | None:
        """Return the live value of a key, or None."""

    def set(self, key: str, value: str, ttl: int) -> None:
        """Store a value for `ttl` seconds, replacing any other."""

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Store a value only if the key holds no live value; tell whether it was stored."""

    def pop(self, key: str) -> str | None:
        """Remove a key and return its live value, atomically, or None."""

    def delete(self, key: str) -> None:
        """Remove a key."""


def _check(key: str, ttl: int | None = None) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"cache keys have 1 to {MAX_KEY_LENGTH} characters")
    if ttl is not None and ttl <= 0:
        raise ValueError("a cache entry needs a positive time to live")


class DatabaseCache:
    """Keep entries in the `cache_entry` table, each operation its own committed transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pid = os.getpid()
        self._insert: Any = sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as err:
            raise ServiceUnavailable("The database holding shared launch state cannot be used right now "
                                     f"({type(err.orig).__name__ if err.orig else 'error'}); try again shortly.") from None

    @property
    def engine(self) -> Engine:
        """Return the engine, dropping connections inherited from a parent process after a fork."""
        if os.getpid() != self._pid:
            self._engine.dispose(close=False)
            self._pid = os.getpid()
        return self._engine

    def get(self, key: str) -> str | None:
        """Return the live value of a key, or None."""
        _check(key)
        table = _TABLE
        with self._reachable(), self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.value).where(table.c.key == key, table.c.expires_at > utcnow())
            ).first()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str, ttl: int) -> None:
        """Store a value for `ttl` seconds, replacing any other."""
        _check(key, ttl)
        expires = utcnow() + dt.timedelta(seconds=ttl)
        statement = self._insert(_TABLE).values(key=key, value=value, expires_at=expires)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "expires_at": expires}
        )
        with self._reachable(), self.engine.begin() as connection:
            connection.execute(statement)
        self._maybe_sweep()

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Store a value only if the key holds no live value; tell whether it was stored."""
        _check(key, ttl)
        table = _TABLE
        now = utcnow()
        statement = self._insert(table).values(
            key=key, value=value, expires_at=now + dt.timedelta(seconds=ttl)
        ).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
        with self._reachable(), self.engine.begin() as connection:
            # An expired entry does not count as present; the primary key makes the insert atomic.
            connection.execute(delete(table).where(table.c.key == key, table.c.expires_at <= now))
            stored = connection.execute(statement).first() is not None
        self._maybe_sweep()
        return stored

    def pop(self, key: str) -> str | None:
        """Remove a key and return its live value, atomically, or None."""
        _check(key)
        table = _TABLE
        with self._reachable(), self.engine.begin() as connection:
            row = connection.execute(
                delete(table).where(table.c.key == key).returning(table.c.value, table.c.expires_at)
            ).first()
        if row is None:
            return None
        expires_at: dt.datetime = row[1]
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.UTC)
        return str(row[0]) if expires_at > utcnow() else None

    def delete(self, key: str) -> None:
        """Remove a key."""
        _check(key)
        table = _TABLE
        with self._reachable(), self.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.key == key))

    def sweep(self) -> int:
        """Delete every expired entry and return how many went."""
        table = _TABLE
        with self._reachable(), self.engine.begin() as connection:
            return int(connection.execute(delete(table).where(table.c.expires_at <= utcnow())).rowcount)

    def _maybe_sweep(self) -> None:
        if random.random() < _SWEEP_PROBABILITY:  # noqa: S311  (scheduling, not security)
            self.sweep()


class RedisCache:
    """Keep entries in Redis under a key prefix, with Redis's own expiry."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)

    def _key(self, key: str) -> str:
        return self.prefix + key

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        import redis

        try:
            yield
        except redis.RedisError as err:
            raise ServiceUnavailable(f"The shared cache (Redis) cannot be reached ({type(err).__name__}); "
                                     "check REDIS_URL and that Redis runs, then try again.") from None

    def get(self, key: str) -> str | None:
        """Return the live value of a key, or None."""
        _check(key)
        with self._reachable():
            value = self.client.get(self._key(key))
        return None if value is None else bytes(value).decode()  # type: ignore[arg-type]

    def set(self, key: str, value: str, ttl: int) -> None:
        """Store a value for `ttl` seconds, replacing any other."""
        _check(key, ttl)
        with self._reachable():
            self.client.set(self._key(key), value, ex=ttl)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Store a value only if the key holds no live value; tell whether it was stored."""
        _check(key, ttl)
        with self._reachable():
            return bool(self.client.set(self._key(key), value, ex=ttl, nx=True))

    def pop(self, key: str) -> str | None:
        """Remove a key and return its live value, atomically, or None."""
        _check(key)
        with self._reachable():
            value = self.client.getdel(self._key(key))
        return None if value is None else bytes(value).decode()  # type: ignore[arg-type]

    def delete(self, key: str) -> None:
        """Remove a key."""
        _check(key)
        with self._reachable():
            self.client.delete(self._key(key))


def _pooled_sqlite_engine(url: str) -> Engine:
    # The app's SQLite engine opens a connection per use (NullPool); closing the last connection to a
    # WAL database checkpoints it, which costs milliseconds on every cache operation. The cache keeps a
    # few connections open instead, dropped in a forked child (see DatabaseCache.engine).
    from lrs import db

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                           poolclass=QueuePool, pool_size=2, max_overflow=8)
    event.listen(engine, "connect", db._sqlite_pragmas)
    return engine


def make_cache(app: Flask) -> Cache:
    """Build the cache the app's settings call for."""
    from lrs.app import get_settings

    settings = get_settings(app)
    if settings.redis_url:
        return RedisCache(settings.redis_url, settings.redis_key_prefix)
    database = get_db(app)
    if database.engine.dialect.name == "sqlite":
        return DatabaseCache(_pooled_sqlite_engine(database.url))
    return DatabaseCache(database.engine)


def get_cache(app: Flask | None = None) -> Cache:
    """Return the app's shared cache, creating it on first use."""
    application = app or current_app
    cache: Cache | None = application.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = make_cache(application)
        application.extensions[EXTENSION_KEY] = cache
    return cache
