"""Fixtures: the real app from the factory, on SQLite and on PostgreSQL, with one rolled-back transaction per test.

``--backend sqlite|postgresql|all`` (default all) chooses the databases; PostgreSQL runs in a throwaway cluster
(see tests/services.py) or at ``MES_TEST_PG_URL``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.services import MosquittoBroker, PostgresCluster
from tests.support import unavailable

TEST_CONFIG = {
    "TESTING": True,
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # cheap hashing: the cost setting is not what is under test
    "LOG_LEVEL": "WARNING",
    "SERVER_NAME": "localhost",
}


def pytest_addoption(parser):
    parser.addoption(
        "--backend", choices=("sqlite", "postgresql", "all"), default="all", help="databases to run the DB tests on"
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        backends = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        if marker := metafunc.definition.get_closest_marker("backends"):
            backends = [b for b in backends if b in marker.args]  # e.g. tests about PostgreSQL's own locks
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server URL (admin database), started for this run if needed."""
    if url := os.environ.get("MES_TEST_PG_URL"):
        yield url
        return
    cluster = PostgresCluster()
    if not cluster.available:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) not found")
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def mqtt_port():
    """The port of a throwaway Mosquitto broker on 127.0.0.1."""
    if port := os.environ.get("MES_TEST_MQTT_PORT"):
        yield int(port)
        return
    broker = MosquittoBroker()
    if not broker.available:
        unavailable("mosquitto binary not found")
    try:
        yield broker.start()
    finally:
        broker.stop()


def new_database_url(backend: str, request) -> str:
    """A fresh, empty database on the chosen backend."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="mes-test-"))
        return f"sqlite:///{folder / 'test.db'}"
    server = request.getfixturevalue("postgres_server")
    name = f"mes_test_{secrets.token_hex(4)}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def app(backend, request):
    """The application on a migrated database of the backend under test."""
    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.db import db

    app = create_app({**TEST_CONFIG, "DATABASE_URL": new_database_url(backend, request)})
    with app.app_context():
        migrations.upgrade(db.engine)
    yield app
    app.extensions["mes.engine"].dispose()


@pytest.fixture(scope="session")
def live_app(backend, request):
    """The application on its own *committed* database, with the test app ``tests.probe_app`` installed.

    For what a rolled-back test transaction cannot show: commits, after-commit delivery, several connections,
    worker processes. Tests using it make their own factory (``make_committed``) and pick unique codes.
    """
    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.config import DefaultConfig
    from platform_core.db import db

    url = new_database_url(backend, request)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "INSTALLED_APPS": [*DefaultConfig.INSTALLED_APPS, PROBE]})
    with app.app_context():
        migrations.upgrade(db.engine)
        from tests.probe_app.manifest import probe_metadata

        probe_metadata.create_all(db.engine)
    yield app
    app.extensions["mes.engine"].dispose()


PROBE = "tests.probe_app"


@pytest.fixture
def make_committed(live_app):
    """Build data on ``live_app``'s database in committed transactions: ``make_committed(lambda make: ...)``."""
    from platform_core.db import db
    from tests.factories import Factories

    def build(recipe):
        with live_app.app_context(), db.unit_of_work() as session:
            return recipe(Factories(live_app, session))

    return build


@pytest.fixture
def db_session(app):
    """A transaction per test, rolled back afterwards; the app's own sessions join it through savepoints.

    No application context stays pushed during the test, so every request of the test client runs in its own
    context, with its own database session, exactly as in production.
    """
    from sqlalchemy.orm import Session

    connection = app.extensions["mes.engine"].connect()
    outer = connection.begin()
    app.extensions["mes.bind_override"] = connection
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        app.extensions["mes.bind_override"] = None
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def make(app, db_session):
    """Factory functions for test data (see tests/factories.py)."""
    from tests.factories import Factories

    return Factories(app, db_session)
