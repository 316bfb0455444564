"""Spreadsheet import and export: all or nothing, errors by row and column, encodings Chinese Excel writes,
insert vs upsert, dry runs, XLSX, and round trips of every kind."""

from __future__ import annotations

import codecs
import io

import openpyxl
import pytest

from platform_core.rbac import Role

API = "/api/v1/masterdata"


@pytest.fixture
def admin(make, db_session):
    member = make.member(make.tenant())
    member.user.preferred_locale = "en"  # the factory speaks Chinese; the messages are checked in English
    db_session.flush()
    return member


def upload(client, member, kind, content: bytes | str, *, filename="data.csv", **options):
    if isinstance(content, str):
        content = content.encode("utf-8")
    data = {"file": (io.BytesIO(content), filename), **{k: str(v).lower() for k, v in options.items()}}
    return client.post(f"{API}/{kind}/import", data=data, headers=member.headers)


def codes(client, member, kind) -> list[str]:
    rows = client.get(f"{API}/{kind}?page_size=200", headers=member.headers).json
    return [row.get("code", row.get("employee_no")) for row in rows]


def base_data(client, member) -> None:
    """Work centers and units to refer to."""
    assert upload(client, member, "workshops", "code,name\nJG,机加工车间\n").status_code == 200
    centers = "code,name,name_en,workshop\nCNC,数控加工,CNC machining,JG\nGRD,磨削,Grinding,JG\n"
    assert upload(client, member, "work-centers", centers).status_code == 200
    units = "code,name,name_en,decimals\npcs,件,pieces,0\nkg,千克,kilogram,3\n"
    assert upload(client, member, "units", units).status_code == 200


GOOD_MACHINES = (
    "编码,名称,工作中心,型号,标准节拍（秒）\nCNC-01,数控车床 1 号,CNC,CK6150,45\nCNC-02,加工中心,CNC,VMC850,120.5\n"
)


def test_a_gbk_file_with_chinese_headers_is_imported(client, admin):
    base_data(client, admin)
    response = upload(client, admin, "machines", GOOD_MACHINES.encode("gbk"))
    assert response.status_code == 200, response.json
    assert response.json == {
        "kind": "machines",
        "mode": "insert",
        "dry_run": False,
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    machine = client.get(f"{API}/machines?q=CNC-02", headers=admin.headers).json[0]
    assert machine["name"] == "加工中心" and machine["ideal_cycle_time_s"] == 120.5 and machine["model"] == "VMC850"


def test_one_bad_row_writes_nothing_and_every_error_names_row_and_column(client, admin):
    base_data(client, admin)
    content = (
        "code,name,work_center,ideal_cycle_time_s,active\n"
        "CNC-01,数控车床,CNC,45,是\n"  # row 2: fine
        "CNC-02,,CNC,60,\n"  # row 3: no name
        "\n"  # row 4: blank, skipped
        "CNC-03,磨床,XXX,abc,maybe\n"  # row 5: unknown work center, bad number, bad flag
        "CNC-01,重复,CNC,45,\n"  # row 6: the same code again
    )
    response = upload(client, admin, "machines", content)
    assert response.status_code == 422
    assert "nothing was imported" in response.json["message"]
    found = {(e["row"], e["column"]) for e in response.json["errors"]}
    assert found == {
        (6, "code"),
        (3, "name"),
        (5, "work_center"),
        (5, "ideal_cycle_time_s"),
        (5, "active"),
    }
    unknown = next(e for e in response.json["errors"] if e["column"] == "work_center")
    assert "XXX" in unknown["message"]
    assert codes(client, admin, "machines") == []


def test_rows_refused_by_the_services_are_reported_and_roll_back_the_good_ones(client, admin):
    base_data(client, admin)
    content = "code,name,work_center\nCNC-01,车床,CNC\nCNC 02,空格,CNC\n"
    response = upload(client, admin, "machines", content)
    assert response.status_code == 422
    assert (
        response.json["errors"] == [{"row": 3, "column": "code", "message": "1 to 32 characters without spaces."}]
        or response.json["errors"][0]["row"] == 3
    )
    assert codes(client, admin, "machines") == []


def test_utf8_with_bom_insert_then_upsert_and_dry_run(client, admin):
    base_data(client, admin)
    content = codecs.BOM_UTF8 + GOOD_MACHINES.encode("utf-8")
    dry = upload(client, admin, "machines", content, dry_run=True)
    assert dry.status_code == 200 and dry.json["created"] == 2 and dry.json["dry_run"] is True
    assert codes(client, admin, "machines") == []
    assert upload(client, admin, "machines", content).status_code == 200
    again = upload(client, admin, "machines", content)
    assert again.status_code == 422
    assert {(e["row"], e["column"]) for e in again.json["errors"]} == {(2, "编码"), (3, "编码")}
    changed = GOOD_MACHINES.replace("CK6150", "CK6163") + "CNC-03,新车床,GRD,,\n"
    upsert = upload(client, admin, "machines", changed.encode("utf-8"), mode="upsert")
    assert upsert.status_code == 200, upsert.json
    assert (upsert.json["created"], upsert.json["updated"], upsert.json["unchanged"]) == (1, 1, 1)
    assert codes(client, admin, "machines") == ["CNC-01", "CNC-02", "CNC-03"]


def test_wrong_headers_are_refused_before_any_row(client, admin):
    base_data(client, admin)
    response = upload(client, admin, "machines", "code,名称,colour,code\nX,y,red,X\n")
    assert response.status_code == 422
    messages = {(e["row"], e["column"]): e["message"] for e in response.json["errors"]}
    assert set(messages) == {(1, "colour"), (1, "code"), (1, "work_center")}
    assert "Unknown column colour" in messages[(1, "colour")] and "work_center" in messages[(1, "colour")]
    assert "missing" in messages[(1, "work_center")]


def test_unreadable_files_get_a_clear_message(client, admin):
    latin = upload(client, admin, "units", b"code,name\npcs,\x80\x80\n")
    assert latin.status_code == 422 and "UTF-8" in latin.json["errors"][0]["message"]
    binary = upload(client, admin, "units", b"\x00\x01\x02code")
    assert binary.status_code == 422 and "not a text file" in binary.json["errors"][0]["message"]
    xls = upload(client, admin, "units", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", filename="old.xls")
    assert xls.status_code == 422 and ".xls" in xls.json["errors"][0]["message"]
    broken = upload(client, admin, "units", b"PK\x03\x04broken", filename="x.xlsx")
    assert broken.status_code == 422 and "workbook" in broken.json["errors"][0]["message"]
    empty = upload(client, admin, "units", b"")
    assert empty.status_code == 422
    header_only = upload(client, admin, "units", "code,name\n")
    assert header_only.status_code == 422 and "no rows" in header_only.json["errors"][0]["message"]
    no_file = client.post(f"{API}/units/import", data={"mode": "insert"}, headers=admin.headers)
    assert no_file.status_code == 422
    bad_mode = upload(client, admin, "units", "code,name\npcs,件\n", mode="replace")
    assert bad_mode.status_code == 422


def test_utf16_tab_separated_text_from_excel_is_read(client, admin):
    content = codecs.BOM_UTF16_LE + "code\tname\tname_en\npcs\t件\tpieces\n".encode("utf-16-le")
    response = upload(client, admin, "units", content, filename="units.txt")
    assert response.status_code == 200, response.json
    assert codes(client, admin, "units") == ["pcs"]


def test_xlsx_export_and_import_round_trip(client, admin):
    base_data(client, admin)
    assert upload(client, admin, "machines", GOOD_MACHINES.encode("gbk")).status_code == 200
    exported = client.get(f"{API}/machines/export?format=xlsx", headers=admin.headers)
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="machines.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(exported.data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("code", "name", "name_en", "work_center")
    assert rows[1][0] == "CNC-01" and rows[1][3] == "CNC"
    again = upload(client, admin, "machines", exported.data, filename="machines.xlsx", mode="upsert")
    assert again.status_code == 200 and again.json["unchanged"] == 2
    # A workbook typed by hand: numbers as numbers, a sheet named after the kind among others.
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("machines")
    sheet.append(["code", "name", "work_center", "ideal_cycle_time_s"])
    sheet.append([1001, "编号设备", "GRD", 30])
    buffer = io.BytesIO()
    book.save(buffer)
    typed = upload(client, admin, "machines", buffer.getvalue(), filename="m.xlsx")
    assert typed.status_code == 200, typed.json
    assert "1001" in codes(client, admin, "machines")


def test_csv_export_has_a_bom_for_excel_and_reads_back(client, admin):
    base_data(client, admin)
    exported = client.get(f"{API}/work-centers/export", headers=admin.headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.data.startswith(codecs.BOM_UTF8)
    text = exported.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "code,name,name_en,workshop,calendar,active"
    assert "CNC,数控加工,CNC machining,JG,,true" in text
    again = upload(client, admin, "work-centers", exported.data, mode="upsert")
    assert again.json["unchanged"] == 2
    assert client.get(f"{API}/work-centers/export?format=pdf", headers=admin.headers).status_code == 422


def test_reason_trees_import_children_before_parents_and_refuse_cycles(client, admin):
    content = (
        "类型,编码,名称,name_en,上级,图标,排序\n"
        "停机,TOOL,刀具破损,Tool breakage,MECH,🔧,1\n"
        "downtime,MECH,机械故障,Mechanical,,⚙,1\n"
        "scrap,MECH,尺寸超差,Out of tolerance,,,\n"
    )
    response = upload(client, admin, "reasons", content)
    assert response.status_code == 200, response.json
    tool = client.get(f"{API}/reasons?q=TOOL", headers=admin.headers).json[0]
    assert tool["parent_code"] == "MECH" and tool["kind"] == "downtime" and tool["icon"] == "🔧"
    cycle = "kind,code,name,parent\nrework,A,甲,B\nrework,B,乙,A\n"
    refused = upload(client, admin, "reasons", cycle)
    assert refused.status_code == 422
    assert any("cycle" in e["message"] and e["column"] == "parent" for e in refused.json["errors"])
    # An existing tree turned into a loop by an upsert is refused too.
    loop = "kind,code,name,parent\ndowntime,MECH,机械故障,TOOL\n"
    looped = upload(client, admin, "reasons", loop, mode="upsert")
    assert looped.status_code == 422 and looped.json["errors"][0]["column"] == "parent"


def test_calendars_one_row_per_shift_with_overlaps_named_by_row(client, admin):
    content = (
        "calendar,calendar_name,calendar_name_en,default,shift,shift_name,weekdays,start,end,breaks\n"
        "2S,两班制,Two shifts,true,A,早班,1-6,08:00,16:00,12:00-12:30\n"
        "2S,,,,B,中班,周一-周六,16:00,24:00,19:30-20:00\n"
        "DAY,常日班,Day shift,,D,白班,1-5,08:00,17:00,12:00-13:00\n"
    )
    response = upload(client, admin, "calendars", content)
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2
    calendar = client.get(f"{API}/calendars?q=2S", headers=admin.headers).json[0]
    assert calendar["is_default"] is True and [s["weekdays"] for s in calendar["shifts"]] == [[1, 2, 3, 4, 5, 6]] * 2
    exported = client.get(f"{API}/calendars/export", headers=admin.headers).data.decode("utf-8-sig")
    assert "2S,两班制,Two shifts,true,B,中班,,1-6,16:00,00:00,19:30-20:00" in exported
    assert upload(client, admin, "calendars", exported.encode(), mode="upsert").json["unchanged"] == 2
    renamed = upload(client, admin, "calendars", "calendar,calendar_name\n2S,两班倒\n", mode="upsert")
    assert renamed.json["updated"] == 1
    calendar = client.get(f"{API}/calendars?q=2S", headers=admin.headers).json[0]
    assert calendar["name"] == "两班倒" and len(calendar["shifts"]) == 2  # no shift columns: shifts untouched
    overlapping = (
        "calendar,calendar_name,shift,shift_name,weekdays,start,end,breaks\n"
        "2S,两班制,A,早班,1-6,08:00,16:00,\n"
        "2S,两班制,N,夜班,1-6,15:00,23:00,16:00-17:00\n"
        "2S,两班制,C,晚班,8,23:00,07:00,\n"
    )
    refused = upload(client, admin, "calendars", overlapping, mode="upsert")
    assert refused.status_code == 422
    errors = {(e["row"], e["column"]) for e in refused.json["errors"]}
    assert (4, "weekdays") in errors
    refused_overlap = upload(client, admin, "calendars", overlapping.replace(",8,", ",7,"), mode="upsert")
    errors = {(e["row"], e["column"]): e["message"] for e in refused_overlap.json["errors"]}
    assert (3, "start") in errors and "A" in errors[(3, "start")] and "N" in errors[(3, "start")]
    differing = (
        "calendar,calendar_name,shift,shift_name,weekdays,start,end\nX,甲,A,a,1,08:00,09:00\nX,乙,B,b,1,09:00,10:00\n"
    )
    assert upload(client, admin, "calendars", differing).json["errors"][0] == {
        "row": 3,
        "column": "calendar_name",
        "message": "Differs from an earlier row of the same calendar.",
    }


def test_holidays_import_with_chinese_kinds_and_dates(client, admin):
    calendars = "calendar,calendar_name,shift,shift_name,weekdays,start,end\n2S,两班制,A,早班,1-6,08:00,16:00\n"
    upload(client, admin, "calendars", calendars)
    content = (
        "日历,类型,名称,name_en,开始日期,结束日期,开始时间,结束时间\n"
        "2S,节假日,国庆节,National Day,2026/10/1,2026-10-07,,\n"
        "2S,加班,调休上班,Make-up day,2026年10月10日,,08:00,16:00\n"
        "2S,停产,检修,,2026-10-09,2026-10-08,,\n"
    )
    refused = upload(client, admin, "calendar-exceptions", content)
    assert refused.status_code == 422
    assert refused.json["errors"] == [
        {"row": 4, "column": "结束日期", "message": "The end date is before the start date."}
    ]
    accepted = upload(client, admin, "calendar-exceptions", content.rsplit("2S,停产", 1)[0])
    assert accepted.status_code == 200 and accepted.json["created"] == 2
    calendar_id = client.get(f"{API}/calendars", headers=admin.headers).json[0]["id"]
    listed = client.get(f"{API}/calendars/{calendar_id}/exceptions", headers=admin.headers).json
    assert [(e["kind"], e["start_date"], e["end_date"]) for e in listed] == [
        ("holiday", "2026-10-01", "2026-10-07"),
        ("overtime", "2026-10-10", "2026-10-10"),
    ]
    exported = client.get(f"{API}/calendar-exceptions/export", headers=admin.headers).data
    assert upload(client, admin, "calendar-exceptions", exported, mode="upsert").json["unchanged"] == 2


def test_employees_import_links_users_by_username_and_splits_skills(client, make, admin):
    operator = make.member(admin.tenant, Role.OPERATOR, username="zhangsan")
    make.member(make.tenant(), Role.OPERATOR, username="outsider")
    content = "工号,姓名,用户名,技能\n1001,张三,zhangsan,数控车；磨削、装配\n1002,李四,,\n"
    response = upload(client, admin, "employees", content)
    assert response.status_code == 200, response.json
    rows = {e["employee_no"]: e for e in client.get(f"{API}/employees", headers=admin.headers).json}
    assert rows["1001"]["user_id"] == operator.user.id and rows["1001"]["skills"] == ["数控车", "磨削", "装配"]
    assert rows["1002"]["user_id"] is None and rows["1002"]["has_pin"] is False
    foreign = upload(client, admin, "employees", "employee_no,name,username\n1003,王五,outsider\n")
    assert foreign.status_code == 422 and foreign.json["errors"][0]["column"] == "username"
    exported = client.get(f"{API}/employees/export", headers=admin.headers).data.decode("utf-8-sig")
    assert "pin" not in exported.splitlines()[0]
    assert "1001,张三,zhangsan,数控车; 磨削; 装配,true" in exported


def test_only_administrators_import_and_every_role_with_view_exports(client, make, admin):
    viewer = make.member(admin.tenant, Role.VIEWER)
    assert upload(client, viewer, "units", "code,name\npcs,件\n").status_code == 403
    assert client.get(f"{API}/units/export", headers=viewer.headers).status_code == 200
