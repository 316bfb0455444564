"""Probes over every route in the OpenAPI document, so new routes are covered as soon as they exist.

* cross-tenant: tenant A's administrator addressing tenant B's ids gets 404 on every method, and a body naming
  tenant B's records is refused and writes nothing;
* RBAC: for every route with an ``x-permission``, every role without that permission is refused (403).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from platform_core.db import Base, tenant_context
from platform_core.jobs import Job
from platform_core.masterdata.models import Workshop
from platform_core.rbac import Role
from platform_core.webhooks import Webhook

PLATFORM_PREFIX = "/api/v1/platform/"  # operator console: cross-tenant by design, closed to tenant users
PARAM = re.compile(r"{(\w+)}")


def _operations(app):
    spec = app.extensions["mes.api"].spec.to_dict()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


class World:
    """Two tenants, each with one record of every kind a route can address."""

    def __init__(self, make, session):
        self.a, self.b = make.tenant(), make.tenant()
        self.admin_a = make.member(self.a)
        self.admin_b = make.member(self.b)
        make.employee(self.admin_b, "9001", "4826")
        self.ids = {}
        for tenant, admin in ((self.a, self.admin_a), (self.b, self.admin_b)):
            with tenant_context(session, tenant.id):
                workshop = Workshop(code="W1", name="车间")
                webhook = Webhook(name="erp", url="https://erp.example/hook", secret="s", events=["*"])
                job = Job(kind="probe", payload={})
                session.add_all([workshop, webhook, job])
                session.flush()
            self.ids[tenant.id] = {
                "user_id": admin.user.id,
                "token_id": admin.token.id,
                "tenant_id": tenant.id,
                "workshop_id": workshop.id,
                "webhook_id": webhook.id,
                "job_id": job.id,
                "app_name": "orders",
                **self._master_data(session, tenant, workshop),
            }
            self.ids[tenant.id].update(self._orders(session, tenant, self.ids[tenant.id]))
            self.ids[tenant.id].update(self._equipment(session, tenant, self.ids[tenant.id]))
            self.ids[tenant.id].update(self._quality(session, tenant, self.ids[tenant.id]))
            self.ids[tenant.id].update(self._scheduling(session, tenant, self.ids[tenant.id]))

    @staticmethod
    def _master_data(session, tenant, workshop) -> dict[str, int]:
        """One record of every master-data kind a route addresses."""
        import datetime as dt

        from platform_core.identity.models import Employee
        from platform_core.masterdata import models as md

        with tenant_context(session, tenant.id):
            calendar = md.ShiftCalendar(code="C1", name="日历")
            calendar.shifts.append(
                md.CalendarShift(
                    code="A", name="早班", weekdays=[1], start_time=dt.time(8), end_time=dt.time(16), breaks=[]
                )
            )
            exception = md.CalendarException(
                calendar=calendar,
                kind=md.ExceptionKind.HOLIDAY,
                name="假",
                start_date=dt.date(2026, 10, 1),
                end_date=dt.date(2026, 10, 1),
            )
            work_center = md.WorkCenter(code="WC1", name="工作中心", workshop=workshop, calendar=calendar)
            machine = md.Machine(code="M1", name="设备", work_center=work_center)
            unit = md.Unit(code="pcs", name="件")
            family = md.ProductFamily(code="F1", name="族")
            product = md.Product(code="P1", name="产品", unit=unit, family=family)
            reason = md.ReasonCode(kind=md.ReasonKind.DOWNTIME, code="R1", name="原因")
            employee = Employee(employee_no="E1", name="员工")
            session.add_all([calendar, exception, work_center, machine, unit, family, product, reason, employee])
            session.flush()
        return {
            "calendar_id": calendar.id,
            "exception_id": exception.id,
            "work_center_id": work_center.id,
            "machine_id": machine.id,
            "unit_id": unit.id,
            "product_family_id": family.id,
            "product_id": product.id,
            "reason_id": reason.id,
            "employee_id": employee.id,
        }

    @staticmethod
    def _orders(session, tenant, ids: dict) -> dict[str, int]:
        """A released work order of the orders app, with a routing, an operation and a work report."""
        from apps.orders import routings, work_orders
        from apps.orders.models import WorkReport
        from platform_core.masterdata import models as md

        with tenant_context(session, tenant.id):
            product, center = (
                session.get(md.Product, ids["product_id"]),
                session.get(md.WorkCenter, ids["work_center_id"]),
            )
            routing = routings.create_routing(
                session, product=product, steps=[{"sequence": 10, "name": "车削", "work_center": center}]
            )
            routings.activate_routing(session, routing)
            order = work_orders.create_order(session, product=product, quantity=5, number="WO-1")
            work_orders.release_order(session, order)
            operation = order.operations[0]
            report = WorkReport(operation=operation, order=order, good=1, reported_at=order.released_at)
            session.add(report)
            session.flush()
        return {"routing_id": routing.id, "order_id": order.id, "operation_id": operation.id, "report_id": report.id}

    @staticmethod
    def _equipment(session, tenant, ids: dict) -> dict[str, int]:
        """A metric, a gateway, a down interval, an alarm rule with its alarm, a plan and a maintenance order."""
        import datetime as dt

        from apps.equipment import configuration, maintenance
        from apps.equipment.models import Alarm, MaintenanceKind, PlanTrigger, RuleKind, State, StateInterval
        from platform_core.db import utcnow
        from platform_core.masterdata import models as md

        with tenant_context(session, tenant.id):
            machine = session.get(md.Machine, ids["machine_id"])
            metric = configuration.create_metric(session, code="temperature", name="温度")
            gateway, _secret = configuration.create_gateway(session, "edge", None)
            down = StateInterval(
                machine_id=machine.id,
                state=State.DOWN,
                started_at=utcnow() - dt.timedelta(minutes=5),
                source="operator",
            )
            session.add(down)
            rule = configuration.create_rule(
                session, code="HI", name="高温", kind=RuleKind.HIGH, machine=machine, metric=metric, threshold=1
            )
            alarm = Alarm(
                rule_id=rule.id, machine_id=machine.id, severity=rule.severity, message="x", raised_at=utcnow()
            )
            session.add(alarm)
            plan = configuration.create_plan(
                session, code="PM", name="保养", machine=machine, trigger=PlanTrigger.CALENDAR, interval=30
            )
            order = maintenance.create_order(session, machine, kind=MaintenanceKind.CORRECTIVE, title="修")
            session.flush()
        return {
            "metric_id": metric.id,
            "gateway_id": gateway.id,
            "machine_state_id": down.id,
            "alarm_rule_id": rule.id,
            "alarm_id": alarm.id,
            "maintenance_plan_id": plan.id,
            "maintenance_order_id": order.id,
        }

    @staticmethod
    def _quality(session, tenant, ids: dict) -> dict[str, int]:
        """An active inspection plan with a charted characteristic, a task, an inspection with a photo and an
        alarm, an NCR with an action, a lot, and quality's copy of the orders app's work order."""
        from apps.quality import models as q
        from apps.quality.spc.charts import ChartType
        from platform_core.db import utcnow
        from platform_core.masterdata import models as md

        now = utcnow()
        with tenant_context(session, tenant.id):
            product = session.get(md.Product, ids["product_id"])
            plan = q.InspectionPlan(code="QP1", name="检验计划", product=product, status=q.PlanStatus.ACTIVE)
            chart = q.ControlChart(
                plan_code="QP1", characteristic_code="OD", product=product, name="外径", chart_type=ChartType.IMR
            )
            characteristic = q.Characteristic(
                plan=plan, code="OD", name="外径", kind=q.CharacteristicKind.VARIABLE, usl=1.0, chart=chart
            )
            lot = q.Lot(code="L1", product=product)
            copy = q.ProductionOrder(
                order_id=ids["order_id"], number="WO-1", product_code=product.code, product=product
            )
            task = q.InspectionTask(number="QT-1", plan=plan, trigger="manual", product=product, lot=lot, due_at=now)
            inspection = q.Inspection(
                number="QI-1",
                plan=plan,
                status=q.InspectionStatus.PASSED,
                product_id=product.id,
                lot=lot,
                inspector_name="x",
                inspected_at=now,
            )
            result = q.InspectionResult(
                inspection=inspection, characteristic=characteristic, inspected_at=now, values=[0.5], passed=True
            )
            ncr = q.Nonconformance(number="NCR-1", source=q.NcrSource.MANUAL, title="x", raised_by="x", lot=lot)
            action = q.NcrAction(ncr=ncr, step=q.ActionStep.CAUSE, description="x")
            session.add_all([plan, chart, characteristic, lot, copy, task, inspection, result, ncr, action])
            session.flush()
            result.chart_id = chart.id
            photo = q.Attachment(
                inspection_id=inspection.id,
                filename="p.png",
                content_type="image/png",
                size=4,
                sha256="0" * 64,
                data=b"\x89PNG",
                uploaded_by="x",
            )
            alarm = q.QualityAlarm(
                chart_id=chart.id,
                characteristic_id=characteristic.id,
                rule=1,
                first_result_id=result.id,
                last_result_id=result.id,
                point_at=now,
            )
            session.add_all([photo, alarm])
            session.flush()
        return {
            "inspection_plan_id": plan.id,
            "inspection_task_id": task.id,
            "inspection_id": inspection.id,
            "quality_photo_id": photo.id,
            "control_chart_id": chart.id,
            "spc_alarm_id": alarm.id,
            "ncr_id": ncr.id,
            "ncr_action_id": action.id,
            "quality_lot_id": lot.id,
        }

    @staticmethod
    def _scheduling(session, tenant, ids: dict) -> dict[str, int]:
        """A solved schedule version with one slot, and a changeover time between two families."""
        from apps.scheduling.models import Run, RunStatus, SetupTime, Slot
        from platform_core.db import utcnow
        from platform_core.masterdata import models as md

        with tenant_context(session, tenant.id):
            now = utcnow()
            run = Run(number=1, status=RunStatus.DRAFT, horizon_start=now, origin=now, kpis={}, problems=[])
            run.instance = {"jobs": [], "machines": [], "now": 0}
            slot = Slot(
                run=run,
                operation_id=ids["operation_id"],
                order_id=ids["order_id"],
                order_number="WO-1",
                product_code="P1",
                op_sequence=10,
                op_name="车削",
                quantity=5,
                machine_id=ids["machine_id"],
                start=now,
                end=now,
            )
            family = session.get(md.ProductFamily, ids["product_family_id"])
            setup_time = SetupTime(from_family=family, to_family=family, minutes=5)
            session.add_all([run, slot, setup_time])
            session.flush()
        return {"run_id": run.id, "slot_id": slot.id, "setup_time_id": setup_time.id}

    def path_for(self, path: str, tenant_id: int) -> str:
        ids = self.ids[tenant_id]

        def value(match):
            name = match.group(1)
            if name not in ids:
                pytest.fail(f"the probes do not know how to address {{{name}}} in {path}: add it to World")
            return str(ids[name])

        return PARAM.sub(value, path)


def _row_counts(session) -> dict[str, int]:
    connection = session.connection()
    return {t.name: connection.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_another_tenants_ids_are_404_on_every_route_and_method(app, client, make, db_session):
    world = World(make, db_session)
    probed = 0
    for path, method, _operation in _operations(app):
        if path.startswith(PLATFORM_PREFIX) or not PARAM.search(path):
            continue
        url = world.path_for(path, world.b.id)
        before = _row_counts(db_session)
        headers = {**world.admin_a.headers, "If-Match": "*"}  # any version: the record itself must not be found
        response = client.open(url, method=method.upper(), headers=headers, json={})
        assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code} {response.text[:200]}"
        assert response.json["code"] == "not_found"
        assert _row_counts(db_session) == before, f"{method.upper()} {url} wrote something"
        probed += 1
    assert probed >= 4


# Valid bodies for A's routes, with B's ids put where the body names a record.
def _bodies(world) -> dict[tuple[str, str], dict]:
    b = world.ids[world.b.id]
    base = "/api/v1/masterdata"
    work_center = {"workshop_id": b["workshop_id"], "calendar_id": b["calendar_id"]}
    machine = {"work_center_id": b["work_center_id"], "calendar_id": b["calendar_id"]}
    product = {"unit_id": b["unit_id"], "family_id": b["product_family_id"]}
    reason = {"kind": "downtime", "parent_id": b["reason_id"]}
    employee = {"user_id": b["user_id"]}
    master_data = {
        ("post", f"{base}/work-centers"): {"code": "X", "name": "x", **work_center},
        ("patch", f"{base}/work-centers/{{work_center_id}}"): work_center,
        ("post", f"{base}/machines"): {"code": "X", "name": "x", **machine},
        ("patch", f"{base}/machines/{{machine_id}}"): machine,
        ("post", f"{base}/products"): {"code": "X", "name": "x", **product},
        ("patch", f"{base}/products/{{product_id}}"): product,
        ("post", f"{base}/reasons"): {"code": "X", "name": "x", **reason},
        ("patch", f"{base}/reasons/{{reason_id}}"): {"parent_id": b["reason_id"]},
        ("post", f"{base}/employees"): {"employee_no": "X1", "name": "x", **employee},
        ("patch", f"{base}/employees/{{employee_id}}"): employee,
    }
    return {
        ("post", "/api/v1/admin/tokens"): {
            "name": "x",
            "kind": "personal",
            "scopes": ["orders.view"],
            "user_id": b["user_id"],
        },
        **master_data,
        **_orders_bodies(b),
        **_equipment_bodies(b),
        **_quality_bodies(b),
        **_scheduling_bodies(b),
    }


def _quality_bodies(b: dict[str, int]) -> dict[tuple[str, str], dict]:
    base = "/api/v1/quality"
    production = {"order_id": b["order_id"], "machine_id": b["machine_id"], "operator_id": b["employee_id"]}
    return {
        ("post", f"{base}/plans"): {"code": "X", "name": "x", "product_id": b["product_id"]},
        ("patch", f"{base}/plans/{{inspection_plan_id}}"): {"product_id": b["product_id"]},
        ("post", f"{base}/tasks"): {
            "plan_id": b["inspection_plan_id"],
            "work_center_id": b["work_center_id"],
            **production,
        },
        ("post", f"{base}/inspections"): {
            "plan_id": b["inspection_plan_id"],
            "task_id": b["inspection_task_id"],
            "operation_id": b["operation_id"],
            "results": [{"characteristic_id": 1, "values": [0.5]}],
            **production,
        },
        ("post", f"{base}/ncrs"): {
            "product_id": b["product_id"],
            "inspection_id": b["inspection_id"],
            "operation_id": b["operation_id"],
            **production,
        },
        ("post", f"{base}/ncrs/{{ncr_id}}/actions"): {"step": "cause", "description": "x", "owner_id": b["user_id"]},
    }


def _equipment_bodies(b: dict[str, int]) -> dict[tuple[str, str], dict]:
    base = "/api/v1/equipment"
    return {
        ("post", f"{base}/machines/{{machine_id}}/down"): {"reason_id": b["reason_id"]},
        ("post", f"{base}/machine-states/{{machine_state_id}}/classify"): {"reason_id": b["reason_id"]},
        ("put", f"{base}/machines/{{machine_id}}/config"): {
            "run_metric_id": b["metric_id"],
            "count_metric_id": b["metric_id"],
        },
        ("post", f"{base}/alarm-rules"): {
            "code": "X",
            "name": "x",
            "kind": "high",
            "machine_id": b["machine_id"],
            "metric_id": b["metric_id"],
            "threshold": 1,
        },
        ("post", f"{base}/maintenance-plans"): {
            "code": "X",
            "name": "x",
            "machine_id": b["machine_id"],
            "trigger": "calendar",
            "interval": 30,
        },
        ("post", f"{base}/maintenance-orders"): {"machine_id": b["machine_id"], "title": "x"},
    }


def _orders_bodies(b: dict[str, int]) -> dict[tuple[str, str], dict]:
    base = "/api/v1/orders"
    order = {"product_id": b["product_id"], "routing_id": b["routing_id"], "quantity": 1}
    operation = f"{base}/operations/{{operation_id}}"
    return {
        ("post", f"{base}/routings"): {
            "product_id": b["product_id"],
            "steps": [{"sequence": 10, "name": "x", "work_center_id": b["work_center_id"]}],
        },
        ("post", f"{base}/work-orders"): order,
        ("patch", f"{base}/work-orders/{{order_id}}"): order,
        ("post", f"{operation}/start"): {"machine_id": b["machine_id"], "employee_id": b["employee_id"]},
        ("post", f"{operation}/pause"): {"reason_id": b["reason_id"], "employee_id": b["employee_id"]},
        ("post", f"{operation}/resume"): {"employee_id": b["employee_id"]},
        ("post", f"{operation}/complete"): {"employee_id": b["employee_id"]},
        ("post", f"{operation}/leave"): {"employee_id": b["employee_id"]},
        ("post", f"{operation}/report"): {
            "good": 1,
            "scrap": 1,
            "scrap_reason_id": b["reason_id"],
            "rework_reason_id": b["reason_id"],
            "employee_id": b["employee_id"],
        },
    }


def test_bodies_naming_another_tenants_records_are_refused_and_write_nothing(app, client, make, db_session):
    world = World(make, db_session)
    bodies = _bodies(world)
    for path, method, operation in _operations(app):
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if path.startswith(PLATFORM_PREFIX) or body_schema is None:
            continue
        schema = body_schema
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = app.extensions["mes.api"].spec.to_dict()["components"]["schemas"][name]
        references = [p for p in schema.get("properties", {}) if p.endswith("_id") or p.endswith("_ids")]
        if not references:
            continue
        key = (method, path)
        assert key in bodies, f"{method.upper()} {path} takes ids {references}: add a body to _bodies()"
        before = _row_counts(db_session)
        url = world.path_for(path, world.a.id)
        response = client.open(url, method=method.upper(), headers=world.admin_a.headers, json=bodies[key])
        assert response.status_code in (404, 422), f"{method.upper()} {path}: {response.status_code}"
        assert _row_counts(db_session) == before


def test_tenant_users_cannot_reach_the_platform_console(app, client, make, db_session):
    world = World(make, db_session)
    for path, method, _operation in _operations(app):
        if not path.startswith(PLATFORM_PREFIX):
            continue
        url = world.path_for(path, world.b.id)
        response = client.open(url, method=method.upper(), headers=world.admin_a.headers, json={})
        assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"


def test_every_protected_route_refuses_roles_without_its_permission(app, client, make, db_session):
    tenant = make.tenant()
    members = {role: make.member(tenant, role) for role in Role}
    world_ids = {"user_id": members[Role.VIEWER].user.id, "token_id": members[Role.VIEWER].token.id}
    role_permissions = app.extensions["mes.registry"].role_permissions
    checked = 0
    for path, method, operation in _operations(app):
        permission = operation.get("x-permission")
        if permission is None:
            continue
        url = PARAM.sub(lambda m: str(world_ids.get(m.group(1), 1)), path)
        for role, member in members.items():
            if permission in role_permissions[role]:
                continue
            response = client.open(url, method=method.upper(), headers=member.headers, json={})
            assert response.status_code == 403, f"{role} {method.upper()} {url}: {response.status_code}"
            checked += 1
    assert checked > 10


def test_every_tenant_api_route_declares_its_permission(app):
    open_routes = {("get", "/api/v1/me")}
    for path, method, operation in _operations(app):
        if path.startswith(PLATFORM_PREFIX) or (method, path) in open_routes:
            continue
        assert "x-permission" in operation, f"{method.upper()} {path} checks no permission"


def test_anonymous_callers_get_401(app, client, make, db_session):
    world = World(make, db_session)
    for path, method, _operation in _operations(app):
        url = world.path_for(path, world.a.id)
        response = client.open(url, method=method.upper(), json={})
        assert response.status_code == 401, f"{method.upper()} {url}: {response.status_code}"


def _scheduling_bodies(b: dict[str, int]) -> dict[tuple[str, str], dict]:
    base = "/api/v1/scheduling"
    return {
        ("post", f"{base}/runs"): {"order_ids": [b["order_id"]]},
        ("post", f"{base}/setup-times"): {
            "from_family_id": b["product_family_id"],
            "to_family_id": b["product_family_id"],
            "minutes": 10,
        },
        ("post", f"{base}/runs/{{run_id}}/slots/{{slot_id}}/move"): {
            "machine_id": b["machine_id"],
            "start": "2030-01-01T08:00:00+08:00",
        },
    }
