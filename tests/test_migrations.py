"""Test that the one Alembic history builds exactly the models' schema on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lrs.db import Base, alembic_config, make_engine
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Give an empty database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"lb_migr_{uuid.uuid4().hex[:10]}"
    url = create_pg_database(name)
    yield url
    drop_pg_database(name)


def test_migrations_upgrade_head_matches_models(empty_database_url: str) -> None:
    """Run `alembic upgrade head` on an empty database; autogenerate then finds no difference."""
    command.upgrade(alembic_config(empty_database_url), "head")
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_downgrade_base_removes_everything(empty_database_url: str) -> None:
    """Downgrade to base after upgrading, leaving only Alembic's own table."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(empty_database_url)
    from sqlalchemy import inspect

    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()
