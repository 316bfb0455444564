"""The tenant filter: one mechanism scopes every ORM query and stamps every new row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from platform_core.db import TenantContextError, set_tenant, tenant_context
from platform_core.identity.models import ApiToken, Membership
from platform_core.masterdata.models import Workshop


@pytest.fixture
def two_tenants(make, db_session):
    a, b = make.tenant(), make.tenant()
    for tenant, code in ((a, "A1"), (b, "B1")):
        with tenant_context(db_session, tenant.id):
            db_session.add(Workshop(code=code, name=f"车间 {code}"))
            db_session.flush()
    db_session.expunge_all()
    return a, b


def test_select_sees_only_the_current_tenant(db_session, two_tenants):
    a, b = two_tenants
    with tenant_context(db_session, a.id):
        assert db_session.scalars(sa.select(Workshop.code)).all() == ["A1"]
    with tenant_context(db_session, b.id):
        assert db_session.scalars(sa.select(Workshop.code)).all() == ["B1"]


def test_session_get_of_another_tenants_row_is_none(db_session, two_tenants):
    a, b = two_tenants
    with tenant_context(db_session, b.id):
        b_id = db_session.scalar(sa.select(Workshop.id))
    db_session.expunge_all()
    with tenant_context(db_session, a.id):
        assert db_session.get(Workshop, b_id) is None


def test_identity_map_does_not_leak_across_a_tenant_switch(db_session, two_tenants):
    a, b = two_tenants
    set_tenant(db_session, b.id)
    b_workshop = db_session.scalars(sa.select(Workshop)).one()
    set_tenant(db_session, a.id)
    assert db_session.get(Workshop, b_workshop.id) is None


def test_relationship_loads_are_filtered(db_session, make):
    a, b = make.tenant(), make.tenant()
    member_b = make.member(b)
    db_session.expunge_all()
    with tenant_context(db_session, a.id):
        # The user of tenant B exists globally, but their tenant-B memberships do not exist for tenant A.
        assert db_session.scalars(sa.select(Membership).where(Membership.user_id == member_b.user.id)).all() == []
        tokens = db_session.scalars(sa.select(ApiToken).join(ApiToken.user)).all()
        assert all(t.tenant_id == a.id for t in tokens)


def test_joined_tenant_rows_are_filtered(db_session, two_tenants):
    a, _b = two_tenants
    from platform_core.tenants.models import Tenant

    with tenant_context(db_session, a.id):
        rows = db_session.execute(sa.select(Tenant.code, Workshop.code).join(Workshop, Workshop.tenant_id == Tenant.id))
        assert [r[1] for r in rows] == ["A1"]


def test_bulk_update_and_delete_are_filtered(db_session, two_tenants):
    a, b = two_tenants
    with tenant_context(db_session, a.id):
        db_session.execute(sa.update(Workshop).values(name="renamed"))
        db_session.execute(sa.delete(Workshop).where(Workshop.code == "B1"))
    with tenant_context(db_session, b.id):
        assert db_session.scalars(sa.select(Workshop.name)).all() == ["车间 B1"]


def test_no_tenant_in_context_raises_instead_of_returning_everything(db_session, two_tenants):
    set_tenant(db_session, None)
    with pytest.raises(TenantContextError):
        db_session.scalars(sa.select(Workshop)).all()


def test_new_rows_are_stamped_with_the_current_tenant(db_session, make):
    tenant = make.tenant()
    with tenant_context(db_session, tenant.id):
        workshop = Workshop(code="NEW", name="新车间")
        db_session.add(workshop)
        db_session.flush()
    assert workshop.tenant_id == tenant.id


def test_creating_a_row_without_tenant_context_raises(db_session):
    set_tenant(db_session, None)
    db_session.add(Workshop(code="X", name="x"))
    with pytest.raises(TenantContextError):
        db_session.flush()
    db_session.rollback()


def test_a_row_for_another_tenant_is_refused(db_session, make):
    a, b = make.tenant(), make.tenant()
    with tenant_context(db_session, a.id):
        db_session.add(Workshop(code="X", name="x", tenant_id=b.id))
        with pytest.raises(TenantContextError):
            db_session.flush()
        db_session.rollback()


def test_tenant_id_cannot_change(db_session, two_tenants):
    a, b = two_tenants
    with tenant_context(db_session, a.id):
        workshop = db_session.scalars(sa.select(Workshop)).one()
        workshop.tenant_id = b.id
        with pytest.raises(TenantContextError):
            db_session.flush()
        db_session.rollback()


def test_the_escape_hatch_is_explicit(db_session, two_tenants):
    set_tenant(db_session, None)
    statement = sa.select(Workshop.code).order_by(Workshop.code).execution_options(skip_tenant_filter=True)
    assert db_session.scalars(statement).all()[-2:] == ["A1", "B1"]


def test_every_tenant_owned_table_has_a_non_null_tenant_id():
    from platform_core.db import Base, TenantScoped

    # Platform bookkeeping about tenants, written by platform code only, never served to a tenant.
    platform_tables = {"platform_tenant_apps", "platform_web_sessions"}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if "tenant_id" in table.c and not issubclass(mapper.class_, TenantScoped) and table.name not in platform_tables:
            pytest.fail(f"{table.name} has tenant_id but is not TenantScoped")
        if issubclass(mapper.class_, TenantScoped):
            assert table.c.tenant_id.nullable is False, table.name
