"""Master-data pages: the demo factory in both languages, forms with field errors, calendars, the import page
(with and without htmx), read-only access, tablet sign-in for employees, and onboarding by a platform operator."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from platform_core.db import tenant_context
from platform_core.demo import DEMO_PASSWORD, seed_demo
from platform_core.masterdata.models import Machine, ShiftCalendar, WorkCenter
from platform_core.rbac import Role
from tests.factories import csrf_token, pin_login, web_login


@pytest.fixture
def demo(app, db_session):
    with app.app_context():
        return seed_demo(db_session, app_data=False)  # the master data pages need no app's data


def first_record_url(html: str, slug: str) -> str:
    return re.search(rf'href="(/masterdata/{slug}/\d+)"', html).group(1)


def set_language(client, locale: str) -> None:
    page = client.get("/masterdata/")
    client.post("/language", data={"csrf_token": csrf_token(page.text), "locale": locale, "next": "/"})


def test_the_demo_factory_shows_all_master_data_in_both_languages(client, demo, db_session):
    with tenant_context(db_session, demo.id):
        assert db_session.scalar(sa.select(sa.func.count()).select_from(Machine)) == 12
        assert db_session.scalar(sa.select(sa.func.count()).select_from(WorkCenter)) == 3
    web_login(client, "admin", DEMO_PASSWORD)
    chinese = client.get("/masterdata/machines").text
    assert "数控车床 1 号" in chinese and "CNC 数控加工" in chinese and "设备" in chinese
    set_language(client, "en")
    english = client.get("/masterdata/machines").text
    assert "CNC lathe 1" in english and "CNC CNC machining" in english and "Machines" in english
    for slug, expected in (
        ("reasons?kind=downtime", "Tool breakage"),
        ("reasons?kind=scrap", "Burr"),
        ("reasons?kind=pause", "Shift meeting"),
        ("reasons?kind=rework", "Deburring"),
        ("products", "HD-2026-0101"),
        ("units", "kilograms"),
        ("product-families", "Bracket assemblies"),
        ("workshops", "Assembly workshop"),
        ("employees", "数控车"),
        ("calendars", "Two shifts"),
    ):
        response = client.get(f"/masterdata/{slug}")
        assert response.status_code == 200 and expected in response.text, slug
    calendar = client.get("/masterdata/calendars").text
    page = client.get(first_record_url(calendar, "calendars")).text
    assert "National Day" in page and "Working time, next two weeks" in page and "12:30–19:30" in page


def test_a_machine_is_created_on_its_page_and_a_taken_code_is_shown_on_the_field(client, demo, db_session):
    web_login(client, "admin", DEMO_PASSWORD)
    set_language(client, "en")
    form = client.get("/masterdata/machines/new").text
    with tenant_context(db_session, demo.id):
        center_id = db_session.scalar(sa.select(WorkCenter.id).where(WorkCenter.code == "CNC"))
    data = {
        "csrf_token": csrf_token(form),
        "code": "CNC-08",
        "name": "数控车床 8 号",
        "name_en": "CNC lathe 8",
        "work_center_id": str(center_id),
        "ideal_cycle_time_s": "88",
        "calendar_id": "",
        "active": "y",
    }
    created = client.post("/masterdata/machines/new", data=data)
    assert created.status_code == 302
    again = client.post("/masterdata/machines/new", data=data)
    assert again.status_code == 422 and "Machine CNC-08 already exists." in again.text
    missing = client.post("/masterdata/machines/new", data={**data, "code": "CNC-09", "work_center_id": ""})
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text


def test_calendar_page_saves_shifts_and_names_overlaps_on_the_row(client, make, db_session):
    admin = make.member(make.tenant())
    web_login(client, admin.user.username)
    set_language(client, "en")
    form = client.get("/masterdata/calendars/new").text
    base = {"csrf_token": csrf_token(form), "code": "2S", "name": "两班制", "active": "y"}
    shifts = {
        "shifts-0-code": "A",
        "shifts-0-name": "早班",
        "shifts-0-start_time": "08:00",
        "shifts-0-end_time": "16:00",
        "shifts-0-breaks": "12:00-12:30",
        "shifts-0-weekdays": ["1", "2", "3", "4", "5"],
        "shifts-1-code": "B",
        "shifts-1-name": "中班",
        "shifts-1-start_time": "15:00",
        "shifts-1-end_time": "23:00",
        "shifts-1-weekdays": ["1"],
        "shifts-2-code": "",
    }
    refused = client.post("/masterdata/calendars/new", data={**base, **shifts})
    assert refused.status_code == 422
    assert "Shift B overlaps shift A on Monday from 15:00 to 16:00." in refused.text
    outside = client.post(
        "/masterdata/calendars/new",
        data={**base, **shifts, "shifts-1-start_time": "16:00", "shifts-1-breaks": "10:00-10:30"},
    )
    assert outside.status_code == 422 and "is not inside shift B" in outside.text
    saved = client.post("/masterdata/calendars/new", data={**base, **shifts, "shifts-1-start_time": "16:00"})
    assert saved.status_code == 302
    with tenant_context(db_session, admin.tenant.id):
        calendar = db_session.scalars(sa.select(ShiftCalendar)).one()
        assert [(s.code, s.weekdays, s.breaks) for s in calendar.shifts] == [
            ("A", [1, 2, 3, 4, 5], [["12:00", "12:30"]]),
            ("B", [1], []),
        ]
    page = client.get(saved.headers["Location"]).text
    exception = client.post(
        f"/masterdata/calendars/{calendar.id}/exceptions",
        data={
            "exception-csrf_token": csrf_token(page),
            "exception-kind": "holiday",
            "exception-name": "国庆节",
            "exception-start_date": "2026-10-01",
            "exception-end_date": "2026-10-07",
        },
    )
    assert exception.status_code == 302
    assert "国庆节" in client.get(exception.headers["Location"]).text


def test_import_page_checks_then_imports_and_answers_htmx_with_the_result_only(client, make, db_session):
    admin = make.member(make.tenant())
    web_login(client, admin.user.username)
    set_language(client, "en")
    page = client.get("/masterdata/import?kind=units").text
    assert '<option selected value="units">' in page and "Chinese header" in page
    bad = "code,name,decimals\npcs,件,0\nkg,千克,9\n".encode("gbk")
    data = {"csrf_token": csrf_token(page), "kind": "units", "mode": "insert", "action": "check"}
    checked = client.post(
        "/masterdata/import",
        data={**data, "file": (io.BytesIO(bad), "units.csv")},
        headers={"HX-Request": "true"},
    )
    assert checked.status_code == 200 and "<html" not in checked.text
    assert "nothing was imported" in checked.text and "<td>3</td><td>decimals</td>" in checked.text
    good = "code,name,decimals\npcs,件,0\nkg,千克,3\n".encode()
    dry = client.post("/masterdata/import", data={**data, "file": (io.BytesIO(good), "units.csv")})
    assert dry.status_code == 200 and "Check passed: 2 rows" in dry.text
    imported = client.post(
        "/masterdata/import", data={**data, "action": "import", "file": (io.BytesIO(good), "units.csv")}
    )
    assert imported.status_code == 200 and "Imported 2 rows." in imported.text
    assert "kg" in client.get("/masterdata/units").text
    no_file = client.post("/masterdata/import", data=data)
    assert no_file.status_code == 422


def test_viewers_read_pages_without_forms_and_cannot_post(client, make, demo):
    planner = make.member(demo, Role.PLANNER)
    operator = make.member(demo, Role.OPERATOR)
    web_login(client, planner.user.username)
    listing = client.get("/masterdata/machines")
    assert listing.status_code == 200 and "/masterdata/machines/new" not in listing.text
    assert client.get("/masterdata/machines/new").status_code == 403
    assert client.get("/masterdata/import").status_code == 403
    machine_url = first_record_url(listing.text, "machines")
    page = client.get(machine_url)
    assert page.status_code == 200 and " inert" in page.text
    posted = client.post(machine_url, data={"csrf_token": csrf_token(page.text)})
    assert posted.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    web_login(client, operator.user.username)
    assert client.get("/masterdata/").status_code == 403


def test_an_employee_gets_a_tablet_sign_in_from_the_employee_page(client, demo, db_session):
    web_login(client, "admin", DEMO_PASSWORD)
    employees = client.get("/masterdata/employees?q=1006").text
    url = first_record_url(employees, "employees")
    page = client.get(url).text
    response = client.post(
        url + "/login",
        data={"login-csrf_token": csrf_token(page), "login-username": "sunli", "login-pin": "4826"},
    )
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    signed_in = pin_login(client, "DEMO", "1006", "4826")
    assert signed_in.status_code == 302
    assert client.get("/api/v1/me").json["roles"] == ["operator"]


def test_a_platform_operator_imports_a_new_factorys_spreadsheets(client, make, db_session):
    operator = make.operator()
    factory = make.tenant()
    other = make.tenant()
    web_login(client, operator.username)
    page = client.get(f"/masterdata/onboarding/{factory.id}")
    assert page.status_code == 200 and factory.name in page.text
    content = "code,name\nJG,机加工车间\nZP,装配车间\n".encode()
    response = client.post(
        f"/masterdata/onboarding/{factory.id}",
        data={
            "csrf_token": csrf_token(page.text),
            "kind": "workshops",
            "mode": "insert",
            "action": "import",
            "file": (io.BytesIO(content), "workshops.csv"),
        },
    )
    assert response.status_code == 200, response.text
    from platform_core.masterdata.models import Workshop

    with tenant_context(db_session, factory.id):
        assert sorted(db_session.scalars(sa.select(Workshop.code))) == ["JG", "ZP"]
    with tenant_context(db_session, other.id):
        assert db_session.scalars(sa.select(Workshop.code)).all() == []
    tenant_admin = make.member(factory)
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    web_login(client, tenant_admin.user.username)
    assert client.get(f"/masterdata/onboarding/{factory.id}").status_code == 403
