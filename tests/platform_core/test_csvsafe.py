"""Exports a spreadsheet opens as data only: formula-like text is escaped, and reads back unchanged."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from platform_core.csvsafe import csv_bytes, escape_cell, unescape_cell
from tests.platform_core.test_imports import API, upload

RISKY = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=cmd|' /C calc'!A0", "'=typed"]
HARMLESS = ["", "法兰盘", "CNC-01", "-3", "+1.5", "2026-12-01", "a=b", "'quoted", "'-3"]


@pytest.mark.parametrize("text", RISKY)
def test_formula_like_text_is_prefixed_and_comes_back(text):
    assert escape_cell(text) == "'" + text
    assert unescape_cell(escape_cell(text)) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_plain_text_and_numbers_are_left_alone(text):
    assert escape_cell(text) == text
    assert unescape_cell(text) == text


def test_csv_bytes_escape_every_cell_for_excel():
    content = csv_bytes(["name", "note"], [["=1+1", "-5"], ["华达", "@x"]])
    assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["name", "note"], ["'=1+1", "-5"], ["华达", "'@x"]]


@pytest.fixture
def admin(make, db_session):
    return make.member(make.tenant())


def test_master_data_exports_never_carry_a_formula_and_read_back_unchanged(client, admin):
    created = upload(client, admin, "units", 'code,name,name_en\npcs,"=HYPERLINK(""http://x"")",-pieces\n')
    assert created.status_code == 200, created.json

    exported = client.get(f"{API}/units/export", headers=admin.headers)
    row = next(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert row["name"] == '\'=HYPERLINK("http://x")' and row["name_en"] == "'-pieces"
    again = upload(client, admin, "units", exported.data, mode="upsert")
    assert again.status_code == 200 and again.json["unchanged"] == 1

    workbook = client.get(f"{API}/units/export?format=xlsx", headers=admin.headers)
    cells = next(openpyxl.load_workbook(io.BytesIO(workbook.data)).active.iter_rows(min_row=2))
    name = next(cell for cell in cells if cell.value == '=HYPERLINK("http://x")')
    assert name.data_type == "s"  # stored as text, not as a formula
    again = upload(client, admin, "units", workbook.data, filename="units.xlsx", mode="upsert")
    assert again.status_code == 200 and again.json["unchanged"] == 1
    listed = client.get(f"{API}/units", headers=admin.headers).json
    assert [(u["name"], u["name_en"]) for u in listed] == [('=HYPERLINK("http://x")', "-pieces")]
