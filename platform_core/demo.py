"""The demo factory: 华达五金 (Huada Hardware), a small metal-parts shop, with a sign-in for every role.

Platform data comes from ``SEEDERS``; each installed app adds its own through its manifest's ``demo`` seeder,
so the demo grows with the product. Needs an application context (the registry).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from platform_core.db import tenant_context
from platform_core.identity import services as identity
from platform_core.masterdata.demo import seed_master_data
from platform_core.masterdata.models import Workshop
from platform_core.rbac import Role
from platform_core.registry import get_registry
from platform_core.tenants import services as tenants
from platform_core.tenants.models import Tenant

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo credential, printed at start-up
DEMO_CODE = "DEMO"

# username, display name, role, employee number, PIN (None: signs in with the password only)
DEMO_USERS: list[tuple[str, str, Role, str | None, str | None]] = [
    ("admin", "王芳 (Wang Fang)", Role.TENANT_ADMIN, None, None),
    ("planner", "李强 (Li Qiang)", Role.PLANNER, None, None),
    ("supervisor", "陈军 (Chen Jun)", Role.SUPERVISOR, "1003", "3691"),
    ("zhang", "张伟 (Zhang Wei)", Role.OPERATOR, "1001", "2580"),
    ("liu", "刘洋 (Liu Yang)", Role.OPERATOR, "1002", "1470"),
    ("inspector", "周敏 (Zhou Min)", Role.QUALITY_INSPECTOR, "1004", "8024"),
    ("maintenance", "王磊 (Wang Lei)", Role.MAINTENANCE_TECHNICIAN, "1005", "5173"),
    ("manager", "赵刚 (Zhao Gang)", Role.VIEWER, None, None),
]

DEMO_LOGINS = [
    f"platform operator   username platform     password {DEMO_PASSWORD}",
    *(
        f"{role.value:20} username {username:12} password {DEMO_PASSWORD}"
        + (f"   or tablet: employee no. {no} PIN {pin}" if no else "")
        for username, _name, role, no, pin in DEMO_USERS
    ),
]

WORKSHOPS = [("JG", "机加工车间", "Machining workshop"), ("ZP", "装配车间", "Assembly workshop")]

SEEDERS: list[Callable[[Session, Tenant], None]] = [seed_master_data]  # platform data, before any app's


def seed_demo(session: Session, *, app_data: bool = True) -> Tenant:
    """Create the demo factory, its people and its data (``app_data=False``: the platform's only, no app's)."""
    identity.create_user(
        session,
        username="platform",
        display_name="平台运维 (Platform operator)",
        password=DEMO_PASSWORD,
        is_platform_operator=True,
    )
    tenant = tenants.create_tenant(
        session,
        code=DEMO_CODE,
        name="华达五金制品有限公司",
        timezone="Asia/Shanghai",
        default_locale="zh_CN",
        apps=["orders", "scheduling", "equipment", "quality"],
        admin={"username": "admin", "display_name": DEMO_USERS[0][1], "password": DEMO_PASSWORD},
    )
    with tenant_context(session, tenant.id):
        for username, name, role, employee_no, pin in DEMO_USERS[1:]:
            user = identity.create_user(session, username=username, display_name=name, password=DEMO_PASSWORD)
            identity.set_roles(session, user, {role})
            if employee_no:
                identity.create_employee(session, employee_no=employee_no, name=name, user=user, pin=pin)
        for code, name, name_en in WORKSHOPS:
            session.add(Workshop(code=code, name=name, name_en=name_en))
        session.flush()
        for seeder in SEEDERS:
            seeder(session, tenant)
        for manifest in get_registry() if app_data else ():  # installed apps, dependencies first
            if manifest.demo is not None:
                manifest.demo(session, tenant)
    return tenant
