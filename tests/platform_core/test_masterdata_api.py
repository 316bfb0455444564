"""Master-data API: CRUD with field-level errors, codes unique per factory, references, ETags, deleting what is used,
calendars (overlapping shifts, breaks), reason trees (cycles), employees and their tablet sign-in, permissions."""

from __future__ import annotations

import pytest

from platform_core.rbac import Role

API = "/api/v1/masterdata"


@pytest.fixture
def admin(make, db_session):
    member = make.member(make.tenant())
    member.user.preferred_locale = "en"  # the factory speaks Chinese; the messages are checked in English
    db_session.flush()
    return member


def post(client, member, path, body):
    return client.post(f"{API}{path}", json=body, headers=member.headers)


def patch(client, member, path, body):
    etag = client.get(f"{API}{path}", headers=member.headers).headers["ETag"]
    return client.patch(f"{API}{path}", json=body, headers={**member.headers, "If-Match": etag})


TWO_SHIFTS = [
    {
        "code": "A",
        "name": "早班",
        "name_en": "Early",
        "weekdays": [1, 2, 3, 4, 5, 6],
        "start_time": "08:00",
        "end_time": "16:00",
        "breaks": [{"start": "12:00", "end": "12:30"}],
    },
    {
        "code": "B",
        "name": "中班",
        "weekdays": [1, 2, 3, 4, 5, 6],
        "start_time": "16:00",
        "end_time": "24:00",
        "breaks": [{"start": "19:30", "end": "20:00"}],
    },
]


def machine_setup(client, member) -> dict:
    """A workshop, a two-shift calendar, a work center using it and a machine; returns their ids."""
    workshop = post(client, member, "/workshops", {"code": "JG", "name": "机加工车间", "name_en": "Machining"}).json
    calendar = post(client, member, "/calendars", {"code": "2S", "name": "两班制", "shifts": TWO_SHIFTS})
    assert calendar.status_code == 201, calendar.json
    center = post(
        client,
        member,
        "/work-centers",
        {"code": "CNC", "name": "数控加工", "workshop_id": workshop["id"], "calendar_id": calendar.json["id"]},
    )
    assert center.status_code == 201, center.json
    machine = post(
        client,
        member,
        "/machines",
        {"code": "CNC-01", "name": "数控车床 1", "work_center_id": center.json["id"], "ideal_cycle_time_s": 42.5},
    )
    assert machine.status_code == 201, machine.json
    return {
        "workshop": workshop["id"],
        "calendar": calendar.json["id"],
        "center": center.json["id"],
        "machine": machine.json["id"],
    }


def test_machines_are_created_listed_filtered_and_shown_with_their_references(client, admin):
    ids = machine_setup(client, admin)
    machine = client.get(f"{API}/machines/{ids['machine']}", headers=admin.headers).json
    assert machine["work_center_code"] == "CNC" and machine["ideal_cycle_time_s"] == 42.5
    assert machine["active"] is True and machine["calendar_id"] is None
    post(client, admin, "/machines", {"code": "CNC-02", "name": "加工中心", "work_center_id": ids["center"]})
    listed = client.get(f"{API}/machines?q=cnc-0&page_size=1", headers=admin.headers)
    assert len(listed.json) == 1 and '"total": 2' in listed.headers["X-Pagination"]
    assert [m["code"] for m in client.get(f"{API}/machines?q=加工", headers=admin.headers).json] == ["CNC-02"]
    filtered = client.get(f"{API}/machines?work_center_id={ids['center']}&active=true", headers=admin.headers)
    assert [m["code"] for m in filtered.json] == ["CNC-01", "CNC-02"]


def test_bad_input_is_refused_field_by_field_and_writes_nothing(client, admin):
    ids = machine_setup(client, admin)
    response = post(
        client,
        admin,
        "/machines",
        {"code": "", "name": "x" * 201, "work_center_id": 999999, "ideal_cycle_time_s": -1, "colour": "red"},
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"code", "name", "work_center_id", "ideal_cycle_time_s", "colour"}
    spaced = post(client, admin, "/machines", {"code": "CNC 03", "name": "x", "work_center_id": ids["center"]})
    assert spaced.status_code == 422 and "code" in spaced.json["errors"]
    assert len(client.get(f"{API}/machines", headers=admin.headers).json) == 1


def test_a_duplicate_code_is_a_conflict_naming_the_field(client, admin):
    post(client, admin, "/units", {"code": "pcs", "name": "件"})
    response = post(client, admin, "/units", {"code": "pcs", "name": "个"})
    assert response.status_code == 409
    assert "pcs" in response.json["errors"]["code"][0]
    other = post(client, admin, "/units", {"code": "kg", "name": "千克", "decimals": 3})
    renamed = patch(client, admin, f"/units/{other.json['id']}", {"code": "pcs"})
    assert renamed.status_code == 409 and "code" in renamed.json["errors"]


def test_codes_are_per_factory(client, make, admin):
    other = make.member(make.tenant())
    assert post(client, admin, "/units", {"code": "pcs", "name": "件"}).status_code == 201
    assert post(client, other, "/units", {"code": "pcs", "name": "件"}).status_code == 201


def test_patch_needs_if_match_and_changes_only_what_it_names(client, admin):
    ids = machine_setup(client, admin)
    url = f"{API}/machines/{ids['machine']}"
    assert client.patch(url, json={"name": "新名"}, headers=admin.headers).status_code == 428
    response = patch(client, admin, f"/machines/{ids['machine']}", {"name": "新名", "calendar_id": ids["calendar"]})
    assert response.status_code == 200, response.json
    assert response.json["name"] == "新名" and response.json["calendar_code"] == "2S"
    assert response.json["ideal_cycle_time_s"] == 42.5 and response.json["work_center_code"] == "CNC"
    stale = client.patch(url, json={"name": "x"}, headers={**admin.headers, "If-Match": '"stale"'})
    assert stale.status_code == 412


def test_deleting_a_record_in_use_is_refused_naming_the_users(client, admin):
    ids = machine_setup(client, admin)
    response = client.delete(f"{API}/work-centers/{ids['center']}", headers=admin.headers)
    assert response.status_code == 409 and "CNC-01" in response.json["message"]
    calendar = client.delete(f"{API}/calendars/{ids['calendar']}", headers=admin.headers)
    assert calendar.status_code == 409 and "CNC" in calendar.json["message"]
    assert client.delete(f"{API}/machines/{ids['machine']}", headers=admin.headers).status_code == 204
    assert client.delete(f"{API}/work-centers/{ids['center']}", headers=admin.headers).status_code == 204
    assert client.get(f"{API}/work-centers/{ids['center']}", headers=admin.headers).status_code == 404


def test_calendar_shifts_round_trip_and_overlaps_are_named(client, admin):
    created = post(client, admin, "/calendars", {"code": "2S", "name": "两班制", "shifts": TWO_SHIFTS})
    assert created.json["shifts"][1]["end_time"] == "00:00"
    assert created.json["shifts"][0]["breaks"] == [{"start": "12:00", "end": "12:30"}]
    overlapping = [
        *TWO_SHIFTS,
        {**TWO_SHIFTS[1], "code": "C", "name": "夜班", "start_time": "22:00", "end_time": "06:00"},
    ]
    response = post(client, admin, "/calendars", {"code": "3S", "name": "三班", "shifts": overlapping})
    assert response.status_code == 422
    message = response.json["errors"]["shifts"]["2"]["start_time"][0]
    assert "C" in message and "B" in message and "22:00" in message
    # Sunday night into Monday morning overlaps Monday's early shift.
    wrap = [TWO_SHIFTS[0], {**TWO_SHIFTS[1], "code": "N", "weekdays": [7], "start_time": "22:00", "end_time": "09:00"}]
    wrapped = post(client, admin, "/calendars", {"code": "W", "name": "跨周", "shifts": wrap})
    assert wrapped.status_code == 422 and "N" in wrapped.json["errors"]["shifts"]["1"]["start_time"][0]


def test_a_break_outside_its_shift_and_bad_times_are_refused(client, admin):
    shift = {**TWO_SHIFTS[0], "breaks": [{"start": "17:00", "end": "17:30"}]}
    response = post(client, admin, "/calendars", {"code": "X", "name": "x", "shifts": [shift]})
    assert response.status_code == 422
    assert "17:00" in response.json["errors"]["shifts"]["0"]["breaks"][0]
    bad = post(client, admin, "/calendars", {"code": "Y", "name": "y", "shifts": [{**shift, "start_time": "25:00"}]})
    assert bad.status_code == 422 and "start_time" in bad.json["errors"]["json"]["shifts"]["0"]
    nodays = post(
        client, admin, "/calendars", {"code": "Z", "name": "z", "shifts": [{**TWO_SHIFTS[0], "weekdays": []}]}
    )
    assert nodays.status_code == 422


def test_patching_a_calendar_without_shifts_keeps_them_and_one_default_per_factory(client, admin):
    first = post(client, admin, "/calendars", {"code": "A", "name": "a", "shifts": TWO_SHIFTS, "is_default": True})
    second = post(client, admin, "/calendars", {"code": "B", "name": "b", "is_default": True})
    assert second.status_code == 201
    first_now = client.get(f"{API}/calendars/{first.json['id']}", headers=admin.headers).json
    assert first_now["is_default"] is False and len(first_now["shifts"]) == 2
    renamed = patch(client, admin, f"/calendars/{first.json['id']}", {"name": "改名"})
    assert renamed.json["name"] == "改名" and len(renamed.json["shifts"]) == 2


def test_calendar_exceptions_and_working_intervals_endpoint(client, admin):
    ids = machine_setup(client, admin)
    base = f"/calendars/{ids['calendar']}/exceptions"
    holiday = {"kind": "holiday", "name": "国庆节", "name_en": "National Day"}
    response = post(client, admin, base, {**holiday, "start_date": "2026-10-01", "end_date": "2026-10-07"})
    assert response.status_code == 201, response.json
    backwards = post(client, admin, base, {**holiday, "start_date": "2026-10-07", "end_date": "2026-10-01"})
    assert backwards.status_code == 422 and "end_date" in backwards.json["errors"]
    url = f"{API}/machines/{ids['machine']}/working-intervals"
    # Monday 2026-09-28 in Shanghai: 08:00-12:00, 12:30-19:30, 20:00-24:00 local = 00:00-04:00 UTC ...
    day = client.get(f"{url}?start=2026-09-28T00:00:00%2B08:00&end=2026-09-29T00:00:00%2B08:00", headers=admin.headers)
    assert day.status_code == 200, day.json
    assert day.json["calendar_code"] == "2S" and day.json["timezone"] == "Asia/Shanghai"
    assert day.json["intervals"][0] == {"start": "2026-09-28T00:00:00+00:00", "end": "2026-09-28T04:00:00+00:00"}
    assert day.json["working_seconds"] == 15 * 3600
    holiday_day = client.get(
        f"{url}?start=2026-10-02T00:00:00%2B08:00&end=2026-10-03T00:00:00%2B08:00", headers=admin.headers
    )
    assert holiday_day.json["intervals"] == []
    reversed_window = client.get(f"{url}?start=2026-10-03T00:00:00Z&end=2026-10-02T00:00:00Z", headers=admin.headers)
    assert reversed_window.status_code == 422
    naive = client.get(f"{url}?start=2026-10-02T00:00:00&end=2026-10-03T00:00:00", headers=admin.headers)
    assert naive.status_code == 422
    listed = client.get(f"{API}{base}", headers=admin.headers).json
    exception_id = listed[0]["id"]
    shortened = patch(client, admin, f"{base}/{exception_id}", {"end_date": "2026-10-03"})
    assert shortened.status_code == 200 and shortened.json["end_date"] == "2026-10-03"
    assert client.delete(f"{API}{base}/{exception_id}", headers=admin.headers).status_code == 204


def test_reason_trees_refuse_cycles_and_parents_of_another_kind(client, admin):
    category = post(client, admin, "/reasons", {"kind": "downtime", "code": "MECH", "name": "机械故障"}).json
    reason = post(
        client,
        admin,
        "/reasons",
        {
            "kind": "downtime",
            "code": "TOOL",
            "name": "刀具破损",
            "name_en": "Tool breakage",
            "parent_id": category["id"],
        },
    ).json
    assert reason["parent_code"] == "MECH"
    cycle = patch(client, admin, f"/reasons/{category['id']}", {"parent_id": reason["id"]})
    assert cycle.status_code == 422 and "MECH → TOOL → MECH" in cycle.json["errors"]["parent_id"][0]
    itself = patch(client, admin, f"/reasons/{category['id']}", {"parent_id": category["id"]})
    assert itself.status_code == 422
    scrap = post(
        client, admin, "/reasons", {"kind": "scrap", "code": "BURR", "name": "毛刺", "parent_id": category["id"]}
    )
    assert scrap.status_code == 422 and "parent_id" in scrap.json["errors"]
    same_code_other_kind = post(client, admin, "/reasons", {"kind": "scrap", "code": "MECH", "name": "机械"})
    assert same_code_other_kind.status_code == 201
    assert client.delete(f"{API}/reasons/{category['id']}", headers=admin.headers).status_code == 409
    downtime = client.get(f"{API}/reasons?kind=downtime", headers=admin.headers).json
    assert [r["code"] for r in downtime] == ["MECH", "TOOL"]


def test_employees_with_skills_linked_users_and_tablet_sign_in(client, make, admin):
    operator = make.member(admin.tenant, Role.OPERATOR)
    outsider = make.member(make.tenant(), Role.OPERATOR)
    created = post(
        client,
        admin,
        "/employees",
        {"employee_no": "2001", "name": "张三", "skills": ["数控车", "数控车", " 磨削 "], "user_id": operator.user.id},
    )
    assert created.status_code == 201, created.json
    assert created.json["skills"] == ["数控车", "磨削"] and created.json["username"] == operator.user.username
    foreign = post(client, admin, "/employees", {"employee_no": "2002", "name": "李四", "user_id": outsider.user.id})
    assert foreign.status_code == 422 and "user_id" in foreign.json["errors"]["json"]
    taken = post(client, admin, "/employees", {"employee_no": "2003", "name": "王五", "user_id": operator.user.id})
    assert taken.status_code == 422 and "2001" in taken.json["errors"]["user_id"][0]
    bad_no = post(client, admin, "/employees", {"employee_no": "20 04", "name": "赵六"})
    assert bad_no.status_code == 422 and "employee_no" in bad_no.json["errors"]
    plain = post(client, admin, "/employees", {"employee_no": "2005", "name": "孙七"}).json
    login = client.post(
        f"{API}/employees/{plain['id']}/login", json={"username": "sun7", "pin": "4826"}, headers=admin.headers
    )
    assert login.status_code == 201 and login.json["username"] == "sun7" and login.json["has_pin"] is True
    again = client.post(
        f"{API}/employees/{plain['id']}/login", json={"username": "sun8", "pin": "4826"}, headers=admin.headers
    )
    assert again.status_code == 409
    me = client.get("/api/v1/me", headers=admin.headers).json
    assert me["tenant"]["id"] == admin.tenant.id


def test_viewers_read_master_data_and_only_administrators_change_it(client, make, admin):
    planner = make.member(admin.tenant, Role.PLANNER)
    operator = make.member(admin.tenant, Role.OPERATOR)
    post(client, admin, "/units", {"code": "pcs", "name": "件"})
    assert client.get(f"{API}/units", headers=planner.headers).status_code == 200
    assert post(client, planner, "/units", {"code": "kg", "name": "千克"}).status_code == 403
    assert client.get(f"{API}/units", headers=operator.headers).status_code == 403
