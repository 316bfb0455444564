"""Alembic environment: the metadata of the platform and every installed app, SQLite-safe ALTERs."""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import context

from platform_core.config import DefaultConfig
from platform_core.db import Base
from platform_core.registry import model_modules

config = context.config
for module in model_modules(DefaultConfig.INSTALLED_APPS):
    importlib.import_module(module)
target_metadata = Base.metadata


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite rebuilds tables for ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        run(connection)


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
