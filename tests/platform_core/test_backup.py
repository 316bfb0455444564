"""Backup and restore through the `mes` commands, on each backend: what was backed up comes back."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from platform_core import migrations
from platform_core.app import create_app
from platform_core.cli import main
from platform_core.db import db
from platform_core.tenants.models import Tenant
from tests.conftest import TEST_CONFIG, new_database_url
from tests.factories import Factories


def _codes(app) -> list[str]:
    with app.app_context(), db.unit_of_work() as session:
        return sorted(session.scalars(sa.select(Tenant.code)))


def _mes(url: str, *args: str):
    env = {"MES_DATABASE_URL": url, "MES_LOG_LEVEL": "WARNING"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_backup_then_restore_brings_the_data_back(backend, request, tmp_path):
    url = new_database_url(backend, request)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        migrations.upgrade(db.engine)
        with db.unit_of_work() as session:
            Factories(app, session).tenant(code="BACKED-UP")
    result = _mes(url, "backup", str(tmp_path / "mes.backup"))
    assert result.exit_code == 0, result.output
    with app.app_context(), db.unit_of_work() as session:  # after the backup: a loss and an unwanted change
        session.execute(sa.update(Tenant).values(name="damaged"))
        Factories(app, session).tenant(code="AFTER")
    app.extensions["mes.engine"].dispose()
    refused = _mes(url, "restore", str(tmp_path / "mes.backup"))
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = _mes(url, "restore", str(tmp_path / "mes.backup"), "--yes")
    assert result.exit_code == 0, result.output
    assert _codes(app) == ["BACKED-UP"]
    with app.app_context(), db.unit_of_work() as session:
        assert session.scalar(sa.select(Tenant.name)) != "damaged"
        assert migrations.current_revisions(session.connection()) == migrations.head_revisions()
    app.extensions["mes.engine"].dispose()


def test_a_backup_never_overwrites_an_existing_file(tmp_path):
    target = tmp_path / "exists.backup"
    target.write_text("keep me")
    result = _mes(f"sqlite:///{tmp_path / 'x.db'}", "backup", str(target))
    assert result.exit_code != 0 and target.read_text() == "keep me"
