"""One Alembic tree: it matches the models, and upgrade → downgrade → upgrade works on each backend."""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from platform_core import migrations
from platform_core.config import DefaultConfig
from platform_core.db import Base, create_engine
from platform_core.registry import model_modules
from tests.conftest import new_database_url


def _metadata():
    for module in model_modules(DefaultConfig.INSTALLED_APPS):
        importlib.import_module(module)
    return Base.metadata


def test_migrations_match_the_models(backend, request):
    engine = create_engine(new_database_url(backend, request))
    migrations.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, _metadata()) == []
    engine.dispose()


def test_upgrade_downgrade_upgrade(backend, request):
    engine = create_engine(new_database_url(backend, request))
    migrations.upgrade(engine)
    migrations.downgrade(engine, "base")
    with engine.connect() as connection:
        leftover = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert leftover == set()
    migrations.upgrade(engine)
    with engine.connect() as connection:
        assert migrations.current_revisions(connection) == migrations.head_revisions()
        assert "platform_tenants" in sa.inspect(connection).get_table_names()
    engine.dispose()
