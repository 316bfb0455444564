"""Alembic, driven from code: one migration tree in ``migrations/`` for the platform and every app."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    """The newest revision(s) of the migration tree."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(connection: sa.Connection) -> set[str]:
    """The revision(s) the database is at."""
    return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: sa.Engine, revision: str = "heads") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(str(engine.url), connection), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(str(engine.url), connection), revision)
