"""The operational commands of ``mes``: database, demo, roles, operators, backups, the worker.

Registered on the application's CLI by ``create_app`` (with the commands apps declare in their manifests);
``platform_core.cli.main`` is the ``mes`` entry point that loads the application.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from platform_core import migrations
from platform_core.db import db


@click.group("db")
def db_group() -> None:
    """Database schema migrations (one Alembic tree for the platform and every app)."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    migrations.upgrade(db.engine, revision)
    click.echo(f"database at {_current()}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('base' empties it)."""
    migrations.downgrade(db.engine, revision)
    click.echo(f"database at {_current()}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's revision and the newest one."""
    click.echo(f"current: {_current()}\nhead:    {', '.join(sorted(migrations.head_revisions()))}")


def _current() -> str:
    with db.engine.connect() as connection:
        return ", ".join(sorted(migrations.current_revisions(connection))) or "(empty)"


@click.command("demo")
@click.option("--force", is_flag=True, help="Seed even when the database already holds factories.")
@click.option("--scenario", default=None, help="Then play a story on the demo factory, e.g. breakdown.")
@click.option("--time-limit", default=10, show_default=True, help="Seconds each schedule of a scenario may solve.")
@with_appcontext
def demo(force: bool, scenario: str | None, time_limit: int) -> None:
    """Seed the demo factory when the database is empty, and print the sign-in details."""
    from platform_core.demo import DEMO_CODE, DEMO_LOGINS, seed_demo
    from platform_core.registry import get_registry
    from platform_core.tenants.models import Tenant

    scenarios = {name: play for manifest in get_registry() for name, play in manifest.scenarios.items()}
    if scenario is not None and scenario not in scenarios:
        raise click.BadParameter(
            f"choose one of: {', '.join(sorted(scenarios)) or '(none installed)'}", param_hint="--scenario"
        )
    with db.unit_of_work() as session:
        empty = session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 0
        if empty or force:
            seed_demo(session)
            click.echo("demo factory created")
        else:
            click.echo("database already holds factories; demo not seeded (use --force to add it anyway)")
    click.echo("\nDemo sign-ins (factory code DEMO):")
    for login in DEMO_LOGINS:
        click.echo(f"  {login}")
    if scenario is not None:
        with db.unit_of_work() as session:
            tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.code == DEMO_CODE))
        click.echo(f"\nScenario {scenario}:")
        scenarios[scenario](tenant_id, click.echo, time_limit_s=time_limit)


@click.command("roles")
@with_appcontext
def roles() -> None:
    """Print the role → permission matrix as the running code resolves it."""
    from platform_core.registry import get_registry

    registry = get_registry()
    for role, permissions in registry.role_permissions.items():
        click.echo(f"{role}:")
        for name in sorted(permissions):
            click.echo(f"  {name:32} {registry.permissions[name].label}")


@click.command("create-operator")
@click.argument("username")
@click.option("--display-name", default=None)
@click.password_option()
@with_appcontext
def create_operator(username: str, display_name: str | None, password: str) -> None:
    """Create a platform operator account (the first sign-in of a new installation)."""
    from platform_core.errors import DomainError
    from platform_core.identity.services import create_user

    try:
        with db.unit_of_work() as session:
            create_user(
                session,
                username=username,
                display_name=display_name or username,
                password=password,
                is_platform_operator=True,
            )
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.errors or ''}") from error
    click.echo(f"platform operator {username} created")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(target: str) -> None:
    """Write a consistent backup of the whole database to TARGET (a new file)."""
    from flask import current_app

    from platform_core.backup import BackupError, backup

    try:
        written = backup(current_app.config["DATABASE_URL"], target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {written}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm that the database's current content may be replaced.")
@with_appcontext
def restore_command(source: str, yes: bool) -> None:
    """Replace the database's content by the backup SOURCE (stop the web server and workers first)."""
    from flask import current_app

    from platform_core.backup import BackupError, restore

    if not yes:
        raise click.ClickException("restoring replaces every record; run again with --yes to confirm")
    current_app.extensions["mes.engine"].dispose()
    try:
        restore(current_app.config["DATABASE_URL"], source)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"database restored from {source}")


@click.command("worker")
@click.option("--name", default=None, help="Worker name (default host:pid).")
@with_appcontext
def worker(name: str | None) -> None:
    """Run the background worker: periodic jobs when leader, queued jobs always (stop with Ctrl+C / SIGTERM)."""
    from flask import current_app

    from platform_core.worker import Worker

    Worker(current_app._get_current_object(), name=name).run()


def register_commands(app) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo)
    app.cli.add_command(roles)
    app.cli.add_command(create_operator)
    app.cli.add_command(worker)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    for manifest in app.extensions["mes.registry"]:
        for command in manifest.commands:
            app.cli.add_command(command)
