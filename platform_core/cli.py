"""The ``mes`` command: a Flask CLI group that loads the application and its commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from platform_core.app import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """MES Suite: lightweight manufacturing execution apps."""
