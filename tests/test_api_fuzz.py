"""The whole API fuzzed from its own OpenAPI document, in-process, against the demo factory.

schemathesis generates requests for every operation (valid and invalid ones) and checks each answer: never a
server error, only documented status codes, the documented content type, a body and headers that match the
documented schema, and no request accepted with bad credentials. The seed is fixed, so a run is repeatable;
``MES_FUZZ_EXAMPLES`` sets how many random requests each operation gets (3 here) and ``MES_FUZZ_PHASES`` which
phases run (here ``examples,fuzzing``); a long search:
``MES_FUZZ_EXAMPLES=200 MES_FUZZ_PHASES=examples,coverage,fuzzing scripts/test.sh tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis import checks

from platform_core import migrations
from platform_core.app import create_app
from platform_core.db import db, tenant_context
from platform_core.demo import seed_demo
from platform_core.identity import services
from platform_core.identity.models import TokenKind, User
from platform_core.registry import get_registry
from tests.conftest import TEST_CONFIG

EXAMPLES = int(os.environ.get("MES_FUZZ_EXAMPLES", "3"))
PHASES = os.environ.get("MES_FUZZ_PHASES", "examples,fuzzing").split(",")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.ignored_auth,
]


# The application is built when the tests are collected (schemathesis reads its OpenAPI document then, to make
# one test per operation); its database is created and seeded only when the first of them runs.
DATABASE = Path(tempfile.mkdtemp(prefix="mes-fuzz-")) / "fuzz.db"
app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{DATABASE}", "LOG_LEVEL": "CRITICAL"})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
# The coverage phase (every boundary value the schema defines) takes minutes: long runs only.
schema.config.phases.update(phases=PHASES)


@pytest.fixture(scope="module")
def admin_token() -> str:
    """Migrate and seed the demo factory; a bearer token of its administrator."""
    with app.app_context():
        migrations.upgrade(db.engine)
        with db.unit_of_work() as session:
            tenant = seed_demo(session)
            with tenant_context(session, tenant.id):
                admin = session.scalar(sa.select(User).where(User.username == "admin"))
                scopes = sorted(get_registry().permissions_for(services.roles_of(session, admin.id)))
                _token, secret = services.create_token(
                    session, name="fuzz", kind=TokenKind.PERSONAL, scopes=scopes, user=admin, created_by=admin
                )
    yield secret
    app.extensions["mes.engine"].dispose()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
