"""Test the shared cache on the database and on Redis: expiry, set-if-absent, get-and-delete."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

import lti_tool
from lrs import cache as cache_module  # registers the cache_entry table before the schema is built
from lrs.cache import Cache, CacheEntry, DatabaseCache, RedisCache, get_cache
from lrs.db import get_db, utcnow
from tests.conftest import app_config


@pytest.fixture(params=["database", "redis"])
def cache(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Cache]:
    """Give a cache of each kind, built by the app factory from settings."""
    extra: dict[str, str] = {}
    if request.param == "redis":
        extra = {"REDIS_URL": request.getfixturevalue("redis_url"),
                 "REDIS_KEY_PREFIX": request.getfixturevalue("redis_prefix")}
    application: Flask = lti_tool.create_app(app_config(database_url, tmp_path, **extra))
    built = get_cache(application)
    assert isinstance(built, RedisCache if request.param == "redis" else DatabaseCache)
    yield built
    get_db(application).dispose()


def test_cache_set_get_roundtrip(cache: Cache) -> None:
    """Return what was stored, and None for a key never stored."""
    cache.set("k1", "v1", 60)
    assert cache.get("k1") == "v1"
    assert cache.get("missing") is None
    cache.set("k1", "v2", 60)
    assert cache.get("k1") == "v2"


def test_cache_add_refuses_present_key(cache: Cache) -> None:
    """Store with `add` only once while the first value lives."""
    assert cache.add("nonce:a", "1", 60) is True
    assert cache.add("nonce:a", "2", 60) is False
    assert cache.get("nonce:a") == "1"


def test_cache_pop_is_single_use(cache: Cache) -> None:
    """Return a value once from `pop`, then None."""
    cache.set("state:x", "payload", 60)
    assert cache.pop("state:x") == "payload"
    assert cache.pop("state:x") is None
    assert cache.get("state:x") is None


def test_cache_delete_removes_key(cache: Cache) -> None:
    """Forget a deleted key."""
    cache.set("gone", "v", 60)
    cache.delete("gone")
    assert cache.get("gone") is None


def test_cache_add_is_atomic_under_concurrency(cache: Cache) -> None:
    """Let exactly one of many concurrent `add` calls win the same key."""
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def contend() -> None:
        barrier.wait()
        results.append(cache.add("race", "v", 60))

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


def test_cache_rejects_bad_keys_and_ttl(cache: Cache) -> None:
    """Refuse empty or overlong keys and non-positive lifetimes."""
    with pytest.raises(ValueError, match="keys"):
        cache.get("")
    with pytest.raises(ValueError, match="keys"):
        cache.set("x" * 300, "v", 10)
    with pytest.raises(ValueError, match="time to live"):
        cache.set("k", "v", 0)


def test_cache_database_expired_entries_are_absent(database_url: str, tmp_path: Path) -> None:
    """Treat an expired row as absent for get, pop and add, and sweep it away."""
    application = lti_tool.create_app(app_config(database_url, tmp_path))
    cache = get_cache(application)
    assert isinstance(cache, DatabaseCache)
    cache.set("old", "v", 60)
    cache.set("old2", "v", 60)
    past = utcnow() - dt.timedelta(seconds=1)
    with cache.engine.begin() as connection:
        connection.execute(update(CacheEntry.__table__).values(expires_at=past))
    assert cache.get("old") is None
    assert cache.pop("old") is None
    assert cache.add("old2", "new", 60) is True
    assert cache.get("old2") == "new"
    cache.set("old3", "v", 60)
    with cache.engine.begin() as connection:
        connection.execute(update(CacheEntry.__table__).where(CacheEntry.key == "old3").values(expires_at=past))
    assert cache.sweep() == 1
    get_db(application).dispose()


def test_cache_redis_keys_carry_prefix(redis_url: str, redis_prefix: str) -> None:
    """Write every Redis key under the configured prefix."""
    cache = RedisCache(redis_url, redis_prefix)
    cache.set("a", "1", 30)
    assert cache.client.get(redis_prefix + "a") == b"1"
    assert cache.client.ttl(redis_prefix + "a") <= 30
    assert cache_module.EXTENSION_KEY == "lb.cache"


def test_cache_redis_unreachable_is_503() -> None:
    """Turn an unreachable Redis into a 503 that names REDIS_URL, not a 500."""
    import socket

    from lrs.errors import ServiceUnavailable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = RedisCache(f"redis://127.0.0.1:{port}/0", "x:")
    with pytest.raises(ServiceUnavailable, match="REDIS_URL"):
        cache.set("k", "v", 10)
    cache.client.close()


def test_cache_database_unusable_is_503(tmp_path: Path) -> None:
    """Turn an unusable cache database into a 503, not a 500."""
    from lrs.db import make_engine
    from lrs.errors import ServiceUnavailable

    cache = DatabaseCache(make_engine(f"sqlite:///{tmp_path / 'no-schema.db'}"))
    with pytest.raises(ServiceUnavailable):
        cache.get("k")
