"""Spreadsheet import and export of every master-data kind (CSV and XLSX).

Import is all or nothing: the whole file is read and every row checked, through the same services the API uses,
inside a savepoint; any error (or a dry run) rolls the savepoint back, so nothing is written. Errors name the row
as the spreadsheet shows it (the header is row 1) and the column as the file spells it.

* Text files may be UTF-8 (with or without the BOM Excel writes), GBK/GB18030 (what Chinese Excel saves as
  "CSV") or UTF-16 with a BOM (Excel's "Unicode text"); commas, semicolons or tabs separate the cells.
* XLSX workbooks are read with openpyxl: the sheet named like the kind (``machines`` or ``设备``), else the first.
* The header row holds the English column keys (what export writes) or their Chinese names; unknown, missing or
  repeated columns are refused before any row is read.
* ``mode="insert"`` refuses codes that exist; ``mode="upsert"`` updates them (columns left out stay as they are).
* Export writes UTF-8 with a BOM, so that Excel opens Chinese text correctly, or XLSX.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from platform_core.csvsafe import csv_bytes, unescape_cell
from platform_core.errors import DomainError
from platform_core.identity.models import Employee, Membership, User
from platform_core.masterdata import calendar as cal
from platform_core.masterdata import services
from platform_core.masterdata.models import (
    CalendarException,
    ExceptionKind,
    Machine,
    Product,
    ProductFamily,
    ReasonCode,
    ReasonKind,
    ShiftCalendar,
    Unit,
    WorkCenter,
    Workshop,
)

MAX_ROWS = 10_000
MAX_ERRORS = 200
FORMATS = ("csv", "xlsx")


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, format, header)."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


class CellProblem(ValueError):
    """One cell's value is not acceptable; the message is for people."""


# --- cell parsers -----------------------------------------------------------------------------------------------

TRUE = {"true", "1", "yes", "y", "t", "是", "启用", "有效", "√", "✓", "x"}
FALSE = {"false", "0", "no", "n", "f", "否", "停用", "无效", "×", "✗"}


def as_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise CellProblem(_("Write true or false (是 or 否)."))


def as_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            number = float(text.strip())
        except ValueError:
            raise CellProblem(_("Not a whole number.")) from None
        if not number.is_integer() or not low <= number <= high:
            raise CellProblem(_("A whole number from %(low)d to %(high)d.", low=low, high=high))
        return int(number)

    return parse


def as_seconds(text: str) -> float:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        raise CellProblem(_("Not a number.")) from None
    if not 0 < number <= 86400:
        raise CellProblem(_("A number of seconds above 0 and at most 86400."))
    return number


def as_text(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        text = text.strip()
        if len(text) > limit:
            raise CellProblem(_("At most %(n)d characters.", n=limit))
        return text

    return parse


def as_date(text: str) -> dt.date:
    value = text.strip().split(" ")[0].replace("/", "-").replace(".", "-")
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", value) or re.match(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$", value)
    try:
        if match is None:
            raise ValueError
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise CellProblem(_("Not a date; write it as 2026-10-01.")) from None


def as_time(text: str) -> dt.time:
    try:
        return cal.parse_time(text)
    except ValueError:
        raise CellProblem(_("Not a time of day; write it as 08:00.")) from None


WEEKDAY_WORDS = {
    **{w: i for i, w in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), start=1)},
    **{w: i for i, w in enumerate(("一", "二", "三", "四", "五", "六", "日"), start=1)},
    "天": 7,
    **{str(i): i for i in range(1, 8)},
}


def _weekday(token: str) -> int:
    token = token.strip().lower().removeprefix("周").removeprefix("星期")[:3]
    if token not in WEEKDAY_WORDS:
        raise CellProblem(_("Weekdays are 1 (Monday) to 7 (Sunday), e.g. 1-5 or 1,2,3,4,5,6."))
    return WEEKDAY_WORDS[token]


def as_weekdays(text: str) -> list[int]:
    days: set[int] = set()
    for part in re.split(r"[,;，；、\s]+", text.strip()):
        if not part:
            continue
        ends = re.split(r"[-–~～至到]", part)
        if len(ends) == 2:
            first, last = _weekday(ends[0]), _weekday(ends[1])
            if last < first:
                raise CellProblem(_("Write a range of weekdays from the earlier day, e.g. 1-5."))
            days.update(range(first, last + 1))
        elif len(ends) == 1:
            days.add(_weekday(part))
        else:
            raise CellProblem(_("Weekdays are 1 (Monday) to 7 (Sunday), e.g. 1-5 or 1,2,3,4,5,6."))
    if not days:
        raise CellProblem(_("Choose at least one weekday."))
    return sorted(days)


def format_weekdays(days: Iterable[int]) -> str:
    days = sorted(set(days))
    parts, run = [], []
    for day in days:
        if run and day == run[-1] + 1:
            run.append(day)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
        run = [day]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
    return ",".join(parts)


def as_breaks(text: str) -> list[tuple[dt.time, dt.time]]:
    breaks = []
    for part in re.split(r"[,;，；、\n]+", text.strip()):
        if not part.strip():
            continue
        ends = re.split(r"\s*[-–~～至到]\s*", part.strip())
        if len(ends) != 2:
            raise CellProblem(_("Write breaks as 12:00-12:30; 19:30-20:00."))
        try:
            breaks.append((cal.parse_time(ends[0]), cal.parse_time(ends[1])))
        except ValueError:
            raise CellProblem(_("Write breaks as 12:00-12:30; 19:30-20:00.")) from None
    return breaks


def format_breaks(breaks: Iterable[Iterable[str]]) -> str:
    return "; ".join(f"{a}-{b}" for a, b in breaks)


def as_choice(choices: dict[str, Any], hint: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = choices.get(text.strip().lower())
        if value is None:
            raise CellProblem(_("Write one of: %(choices)s.", choices=hint))
        return value

    return parse


REASON_KINDS = {
    **{k.value: k for k in ReasonKind},
    "停机": ReasonKind.DOWNTIME,
    "暂停": ReasonKind.PAUSE,
    "报废": ReasonKind.SCRAP,
    "缺陷": ReasonKind.SCRAP,
    "报废/缺陷": ReasonKind.SCRAP,
    "defect": ReasonKind.SCRAP,
    "返工": ReasonKind.REWORK,
}
EXCEPTION_KINDS = {
    **{k.value: k for k in ExceptionKind},
    "节假日": ExceptionKind.HOLIDAY,
    "假日": ExceptionKind.HOLIDAY,
    "放假": ExceptionKind.HOLIDAY,
    "停产": ExceptionKind.SHUTDOWN,
    "停机": ExceptionKind.SHUTDOWN,
    "加班": ExceptionKind.OVERTIME,
    "调休上班": ExceptionKind.OVERTIME,
}


# --- file formats -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of a kind's spreadsheet: its key (the English header), Chinese headers and how to read a cell."""

    key: str
    aliases: tuple[str, ...]
    help: Any
    parse: Callable[[str], Any] | None = None  # None: a reference, resolved by the sheet
    required: bool = False  # the column must be there and its cells filled
    attribute: str | None = None  # the model attribute it fills (default: the key)
    blank_keeps: bool = False  # an empty cell means "leave as it is" (defaults), not "no value"

    @property
    def target(self) -> str:
        return self.attribute or self.key


CODE = Column("code", ("编码", "代码"), _l("Unique code"), as_text(64), required=True)
NAME = Column("name", ("名称",), _l("Name (Chinese)"), as_text(200), required=True)
NAME_EN = Column("name_en", ("英文名称", "英文名"), _l("Name in English"), as_text(200))
ACTIVE = Column("active", ("启用", "是否启用", "有效"), _l("true or false (default true)"), as_bool, blank_keeps=True)


@dataclass(frozen=True)
class Sheet:
    """A master-data kind as a spreadsheet."""

    slug: str
    model: type
    label: Any
    columns: tuple[Column, ...]
    references: dict[str, type] = field(default_factory=dict)  # column key -> model referenced by code
    key: tuple[str, ...] = ("code",)  # columns that identify a record for upsert

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def title_aliases(self) -> set[str]:
        return {self.slug, self.slug.replace("-", "_"), str(self.label)}


SHEETS: dict[str, Sheet] = {
    sheet.slug: sheet
    for sheet in (
        Sheet("units", Unit, _l("Units"), (
            CODE, NAME, NAME_EN,
            Column("decimals", ("小数位", "小数位数"), _l("Decimal places of quantities, 0 to 6"), as_int(0, 6),
                   blank_keeps=True),
            ACTIVE,
        )),
        Sheet("product-families", ProductFamily, _l("Product families"), (CODE, NAME, NAME_EN, ACTIVE)),
        Sheet("workshops", Workshop, _l("Workshops"), (CODE, NAME, NAME_EN, ACTIVE)),
        Sheet("calendars", ShiftCalendar, _l("Shift calendars"), (
            Column("calendar", ("班次日历", "日历", "日历编码"), _l("Calendar code"), as_text(32), required=True),
            Column("calendar_name", ("日历名称",), _l("Calendar name"), as_text(200), required=True),
            Column("calendar_name_en", ("日历英文名称",), _l("Calendar name in English"), as_text(200)),
            Column("default", ("默认",), _l("true for the factory's default calendar"), as_bool, blank_keeps=True),
            Column("shift", ("班次", "班次编码"), _l("Shift code, e.g. A"), as_text(16)),
            Column("shift_name", ("班次名称",), _l("Shift name"), as_text(200)),
            Column("shift_name_en", ("班次英文名称",), _l("Shift name in English"), as_text(200)),
            Column("weekdays", ("工作日", "星期"), _l("Weekdays, 1 = Monday: 1-5, 1-6 or 1,3,5"), as_weekdays),
            Column("start", ("开始时间", "上班时间"), _l("Start, e.g. 08:00"), as_time),
            Column("end", ("结束时间", "下班时间"), _l("End, e.g. 16:00 (before the start: next day)"), as_time),
            Column("breaks", ("休息", "休息时间"), _l("Breaks inside the shift: 12:00-12:30; 19:30-20:00"), as_breaks),
        ), key=("calendar",)),
        Sheet("calendar-exceptions", CalendarException, _l("Holidays and exceptions"), (
            Column("calendar", ("班次日历", "日历", "日历编码"), _l("Calendar code"), required=True),
            Column("kind", ("类型",), _l("holiday, shutdown or overtime (节假日, 停产, 加班)"),
                   as_choice(EXCEPTION_KINDS, "holiday, shutdown, overtime"), required=True),
            Column("name", ("名称",), _l("Name, e.g. 国庆节"), as_text(200), required=True),
            NAME_EN,
            Column("start_date", ("开始日期",), _l("First day, e.g. 2026-10-01"), as_date, required=True),
            Column("end_date", ("结束日期",), _l("Last day (default: the first day)"), as_date),
            Column("start_time", ("开始时间",), _l("Start time on the first day (default: 00:00)"), as_time),
            Column("end_time", ("结束时间",), _l("End time on the last day (default: 24:00)"), as_time),
        ), references={"calendar": ShiftCalendar}, key=("calendar", "kind", "start_date", "start_time")),
        Sheet("work-centers", WorkCenter, _l("Work centers"), (
            CODE, NAME, NAME_EN,
            Column("workshop", ("车间", "车间编码"), _l("Workshop code")),
            Column("calendar", ("班次日历", "日历", "日历编码"), _l("Shift calendar code")),
            ACTIVE,
        ), references={"workshop": Workshop, "calendar": ShiftCalendar}),
        Sheet("machines", Machine, _l("Machines"), (
            CODE, NAME, NAME_EN,
            Column("work_center", ("工作中心", "工作中心编码"), _l("Work center code"), required=True),
            Column("model", ("型号", "设备型号"), _l("Machine model"), as_text(100)),
            Column("ideal_cycle_time_s", ("标准节拍(秒)", "节拍(秒)", "理想节拍(秒)"),
                   _l("Default ideal cycle time in seconds per piece"), as_seconds),
            Column("calendar", ("班次日历", "日历", "日历编码"), _l("Own calendar code (default: the work center's)")),
            ACTIVE,
        ), references={"work_center": WorkCenter, "calendar": ShiftCalendar}),
        Sheet("products", Product, _l("Products"), (
            CODE, NAME, NAME_EN,
            Column("unit", ("单位",), _l("Unit code, e.g. pcs"), required=True),
            Column("family", ("产品族",), _l("Product family code")),
            Column("drawing_no", ("图号",), _l("Drawing number"), as_text(64)),
            ACTIVE,
        ), references={"unit": Unit, "family": ProductFamily}),
        Sheet("reasons", ReasonCode, _l("Reason codes"), (
            Column("kind", ("类型",), _l("downtime, pause, scrap or rework (停机, 暂停, 报废, 返工)"),
                   as_choice(REASON_KINDS, "downtime, pause, scrap, rework"), required=True),
            CODE,
            Column("name", ("名称",), _l("Name (Chinese)"), as_text(200), required=True),
            NAME_EN,
            Column("parent", ("上级", "上级编码"), _l("Code of the category it belongs to (same kind)")),
            Column("icon", ("图标",), _l("A symbol for the tablet button, e.g. 🔧"), as_text(16)),
            Column("sort_order", ("排序",), _l("Position in lists (smaller first)"), as_int(-9999, 9999),
                   blank_keeps=True),
            ACTIVE,
        ), references={"parent": ReasonCode}, key=("kind", "code")),
        Sheet("employees", Employee, _l("Employees"), (
            Column("employee_no", ("工号",), _l("Employee number"), as_text(32), required=True),
            Column("name", ("姓名", "名称"), _l("Name"), as_text(200), required=True),
            Column("username", ("用户名", "登录名"), _l("Username of the factory's user who signs in as this employee"),
                   attribute="user"),
            Column("skills", ("技能", "资质"), _l("Skills separated by ; or 、"), services.split_skills),
            ACTIVE,
        ), key=("employee_no",)),
    )
}  # fmt: skip

SHIFT_KEYS = ("shift", "shift_name", "shift_name_en", "weekdays", "start", "end", "breaks")


# --- reading files ----------------------------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """The text of a CSV file: UTF-16 with BOM, UTF-8 (BOM or not) or GB18030 (which covers GBK)."""
    if b"\x00" in content[:4096] and not content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(_("This is not a text file. Upload a CSV file (UTF-8 or GBK) or an XLSX workbook."))
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise FileProblem(
        _(
            "The file is neither UTF-8 nor GBK text. In Excel choose Save As → “CSV UTF-8 (comma delimited)”, "
            "or upload the .xlsx workbook."
        )
    )


def read_csv(text: str) -> list[list[str]]:
    """The cells of a CSV file, with the prefix our exports put before formula-like text taken off again."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [[unescape_cell(cell) for cell in row] for row in rows]
    except csv.Error as error:
        raise FileProblem(_("The CSV file is malformed: %(error)s.", error=str(error))) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def read_xlsx(content: bytes, sheet: Sheet) -> list[list[str]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as error:
        raise FileProblem(
            _("The workbook cannot be read (%(error)s). Save it again as .xlsx.", error=str(error))
        ) from None
    try:
        titles = {name.strip().lower(): name for name in workbook.sheetnames}
        chosen = next((titles[t.lower()] for t in sheet.title_aliases if t.lower() in titles), workbook.sheetnames[0])
        rows = []
        for row in workbook[chosen].iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in row])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def read_table(content: bytes, sheet: Sheet) -> list[list[str]]:
    """Rows of cells (header first) from CSV or XLSX content, told apart by the bytes, not the file name."""
    if content.startswith(b"PK\x03\x04"):
        return read_xlsx(content, sheet)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_("This is an old Excel .xls file. Save it as .xlsx or as CSV UTF-8 and upload that."))
    return read_csv(decode(content))


def _normal(header: str) -> str:
    header = header.strip().strip("*").strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"[\s\-]+", "_", header)


def map_header(sheet: Sheet, header: list[str]) -> dict[int, Column]:
    """File column index → column, refusing unknown, repeated or missing columns."""
    names = {}
    for column in sheet.columns:
        for name in (column.key, *column.aliases):
            names[_normal(name)] = column
    mapping: dict[int, Column] = {}
    problems = []
    for index, text in enumerate(header):
        if not text.strip():
            continue
        column = names.get(_normal(text))
        if column is None:
            problems.append((text, _("Unknown column %(name)s.", name=text)))
        elif column in mapping.values():
            problems.append((text, _("The column %(name)s appears twice.", name=text)))
        else:
            mapping[index] = column
    for column in sheet.columns:
        if column.required and column not in mapping.values():
            problems.append((column.key, _("The column %(name)s is missing.", name=column.key)))
    if problems:
        expected = _("Expected columns: %(cols)s.", cols=", ".join(c.key for c in sheet.columns))
        raise HeaderProblems([{"row": 1, "column": col, "message": f"{msg} {expected}"} for col, msg in problems])
    return mapping


class HeaderProblems(Exception):
    def __init__(self, errors: list[dict]) -> None:
        super().__init__("header")
        self.errors = errors


# --- import -----------------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did, or would do (dry run), or why it did nothing."""

    kind: str
    mode: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.more_errors += 1
            return
        self.errors.append({"row": row, "column": column, "message": message})

    def summary(self) -> dict:
        return {
            "kind": self.kind,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass
class Row:
    number: int  # as the spreadsheet shows it
    cells: dict[str, str]  # column key -> text
    headers: dict[str, str]  # column key -> header as written in the file


def _tenant_user(session: Session, username: str) -> User | None:
    members = sa.select(Membership.user_id)
    return session.scalar(sa.select(User).where(User.username == username.strip().lower(), User.id.in_(members)))


class Importer:
    """One import of one file of one kind."""

    def __init__(self, session: Session, sheet: Sheet, *, mode: str, dry_run: bool) -> None:
        self.session, self.sheet = session, sheet
        self.result = ImportResult(kind=sheet.slug, mode=mode, dry_run=dry_run)
        self.upsert = mode == "upsert"

    # reading and checking cells

    def rows(self, content: bytes) -> list[Row]:
        table = read_table(content, self.sheet)
        skipped = 0
        while table and not any(c.strip() for c in table[0]):
            table.pop(0)  # blank lines above the header are tolerated; row numbers still count them
            skipped += 1
        if not table:
            raise FileProblem(_("The file is empty."))
        header = table[0]
        mapping = map_header(self.sheet, header)
        headers = {column.key: header[i].strip() for i, column in mapping.items()}
        rows = []
        for number, cells in enumerate(table[1:], start=skipped + 2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise FileProblem(_("The file has more than %(n)d rows; split it.", n=MAX_ROWS))
            if any(c.strip() for i, c in enumerate(cells) if i not in mapping):
                self.result.error(number, None, _("This row has values in columns without a header."))
            values = {column.key: (cells[i] if i < len(cells) else "") for i, column in mapping.items()}
            rows.append(Row(number, values, headers))
        if not rows:
            raise FileProblem(_("The file has a header but no rows."))
        return rows

    def cell_error(self, row: Row, key: str | None, message: str) -> None:
        column = row.headers.get(key, key) if key else None
        self.result.error(row.number, column, message)

    def parse(self, row: Row, keys: Iterable[str] | None = None) -> dict[str, Any] | None:
        """The row's values by model attribute; None (with errors recorded) when a cell is bad."""
        data: dict[str, Any] = {}
        ok = True
        for column in self.sheet.columns:
            if column.key not in row.cells or (keys is not None and column.key not in keys):
                continue
            text = row.cells[column.key].strip()
            if not text:
                if column.required:
                    self.cell_error(row, column.key, _("Required."))
                    ok = False
                elif not column.blank_keeps:
                    data[column.target] = [] if column.key == "skills" else None
                continue
            try:
                data[column.target] = self.reference(row, column, text) if column.parse is None else column.parse(text)
            except CellProblem as problem:
                self.cell_error(row, column.key, str(problem))
                ok = False
        return data if ok else None

    def reference(self, row: Row, column: Column, code: str):
        if column.key == "username":
            user = _tenant_user(self.session, code)
            if user is None:
                raise CellProblem(_("No user %(u)s in this factory; create the user first.", u=code))
            return user
        model = self.sheet.references[column.key]
        scope = {}
        if model is ReasonCode:
            kind = REASON_KINDS.get(row.cells.get("kind", "").strip().lower())
            if kind is None:
                raise CellProblem(_("Give the row's kind first."))
            scope["kind"] = kind
        record = services.by_code(self.session, model, code, **scope)
        if record is None:
            raise CellProblem(_("No %(kind)s with code %(code)s.", kind=services.kind_label(model), code=code))
        return record

    def domain_errors(self, row: Row, error: DomainError, columns: dict[str, str]) -> None:
        """A service's field errors as cell errors of ``row``."""
        if not error.errors:
            self.cell_error(row, None, error.message)
            return
        for name, messages in error.errors.items():
            key = columns.get(name, name)
            for message in flatten(messages):
                self.cell_error(row, key if key in row.cells else None, message)

    # running

    def run(self, content: bytes) -> ImportResult:
        try:
            rows = self.rows(content)
        except FileProblem as problem:
            self.result.error(problem.row, problem.column, problem.message)
            return self.result
        except HeaderProblems as problems:
            for error in problems.errors:
                self.result.error(**error)
            return self.result
        self.result.rows = len(rows)
        savepoint = self.session.begin_nested()
        try:
            if self.sheet.model is ShiftCalendar:
                self.import_calendars(rows)
            else:
                self.import_records(rows)
        finally:
            if self.result.errors or self.result.dry_run:
                savepoint.rollback()
            else:
                savepoint.commit()
        if self.result.errors:
            self.result.created = self.result.updated = self.result.unchanged = 0
        return self.result

    def key_of(self, row: Row) -> tuple:
        values = []
        for key in self.sheet.key:
            text = row.cells.get(key, "").strip()
            if key == "kind":
                text = str(REASON_KINDS.get(text.lower()) or EXCEPTION_KINDS.get(text.lower()) or text)
            values.append(text)
        return tuple(values)

    def without_duplicates(self, rows: list[Row]) -> list[Row]:
        """The rows whose key is the first of its kind in the file; the others are reported."""
        seen: dict[tuple, int] = {}
        kept = []
        for row in rows:
            key = self.key_of(row)
            if all(key[:1]) and key in seen:
                self.cell_error(
                    row, self.sheet.key[-1], _("Appears already in row %(row)d of this file.", row=seen[key])
                )
                continue
            seen.setdefault(key, row.number)
            kept.append(row)
        return kept

    def existing(self, data: dict[str, Any]):
        model = self.sheet.model
        if model is CalendarException:
            conditions = [
                CalendarException.calendar_id == data["calendar"].id,
                CalendarException.kind == data["kind"],
                CalendarException.start_date == data["start_date"],
            ]
            start_time = data.get("start_time")
            conditions.append(
                CalendarException.start_time.is_(None)
                if start_time is None
                else CalendarException.start_time == start_time
            )
            return self.session.scalar(sa.select(CalendarException).where(*conditions))
        if model is Employee:
            return services.by_code(self.session, Employee, data["employee_no"])
        scope = {"kind": data["kind"]} if model is ReasonCode else {}
        return services.by_code(self.session, model, data["code"], **scope)

    def import_records(self, rows: list[Row]) -> None:
        rows = self.without_duplicates(rows)
        if self.sheet.model is ReasonCode:
            rows = self.parents_first(rows)
        columns = {c.target + "_id": c.key for c in self.sheet.columns if c.parse is None}
        columns.update({c.target: c.key for c in self.sheet.columns})
        for row in rows:
            data = self.parse(row)
            if data is None:
                continue
            if self.sheet.model is CalendarException and data.get("end_date") is None:
                data["end_date"] = data["start_date"]
            record = self.existing(data)
            if record is not None and not self.upsert:
                key = self.sheet.key[-1] if self.sheet.model is not CalendarException else "start_date"
                self.cell_error(row, key, _("Already exists; import with “update existing” to change it."))
                continue
            try:
                with self.session.begin_nested():
                    if record is None:
                        services.create(self.session, self.sheet.model, data)
                        self.result.created += 1
                    elif services.update(self.session, record, data):
                        self.result.updated += 1
                    else:
                        self.result.unchanged += 1
            except DomainError as error:
                self.domain_errors(row, error, columns)

    def parents_first(self, rows: list[Row]) -> list[Row]:
        """Reason rows ordered so that a category defined in the file comes before the reasons under it."""
        by_key = {self.key_of(row): row for row in rows}
        ordered: list[Row] = []
        state: dict[int, str] = {}
        looped: set[int] = set()

        def visit(row: Row, path: list[Row]) -> None:
            if state.get(row.number) == "done":
                return
            if state.get(row.number) == "visiting":
                loop = [*path[path.index(row) :], row]
                text = " → ".join(r.cells.get("code", "").strip() for r in loop)
                for member in loop[:-1]:
                    if member.number not in looped:
                        looped.add(member.number)
                        self.cell_error(member, "parent", _("The parents form a cycle: %(path)s.", path=text))
                return
            state[row.number] = "visiting"
            parent_code = row.cells.get("parent", "").strip()
            parent = by_key.get((self.key_of(row)[0], parent_code)) if parent_code else None
            if parent is not None:
                visit(parent, [*path, row])
            state[row.number] = "done"
            ordered.append(row)

        for row in rows:
            visit(row, [])
        return [row for row in ordered if row.number not in looped]

    def import_calendars(self, rows: list[Row]) -> None:
        """Calendar rows: one per shift, grouped by calendar code; upsert replaces a calendar's shifts."""
        groups: dict[str, list[Row]] = {}
        for row in rows:
            groups.setdefault(row.cells.get("calendar", "").strip(), []).append(row)
        shift_columns = {
            "code": "shift",
            "name": "shift_name",
            "name_en": "shift_name_en",
            "weekdays": "weekdays",
            "start_time": "start",
            "end_time": "end",
            "breaks": "breaks",
        }
        for code, group in groups.items():
            first = group[0]
            if not code:
                self.cell_error(first, "calendar", _("Required."))
                continue
            data = self.calendar_values(group)
            shifts, shift_rows = self.shift_values(group)
            if data is None or shifts is None:
                continue
            if any(key in first.cells for key in SHIFT_KEYS):  # without shift columns the shifts stay as they are
                data["shifts"] = shifts
            record = services.by_code(self.session, ShiftCalendar, code)
            if record is not None and not self.upsert:
                self.cell_error(first, "calendar", _("Already exists; import with “update existing” to change it."))
                continue
            try:
                with self.session.begin_nested():
                    if record is None:
                        services.create(self.session, ShiftCalendar, data)
                        self.result.created += 1
                    elif services.update(self.session, record, data):
                        self.result.updated += 1
                    else:
                        self.result.unchanged += 1
            except DomainError as error:
                for name, messages in (error.errors or {"": [error.message]}).items():
                    if name == "shifts" and isinstance(messages, dict):
                        for index, fields in messages.items():
                            for field_name, texts in fields.items():
                                for text in flatten(texts):
                                    self.cell_error(shift_rows[int(index)], shift_columns.get(field_name), text)
                    else:
                        key = {"code": "calendar", "name": "calendar_name", "name_en": "calendar_name_en"}.get(name)
                        for text in flatten(messages):
                            self.cell_error(first, key, text)

    def calendar_values(self, group: list[Row]) -> dict[str, Any] | None:
        data: dict[str, Any] = {"code": group[0].cells["calendar"].strip()}
        ok = True
        for key, target in (("calendar_name", "name"), ("calendar_name_en", "name_en"), ("default", "is_default")):
            values = [(row, row.cells.get(key, "").strip()) for row in group if row.cells.get(key, "").strip()]
            if not values:
                if key == "calendar_name":
                    self.cell_error(group[0], key, _("Required."))
                    ok = False
                elif key == "calendar_name_en" and key in group[0].cells:
                    data[target] = None
                continue
            if len({v for _row, v in values}) > 1:
                self.cell_error(values[1][0], key, _("Differs from an earlier row of the same calendar."))
                ok = False
                continue
            try:
                data[target] = self.sheet.column(key).parse(values[0][1])
            except CellProblem as problem:
                self.cell_error(values[0][0], key, str(problem))
                ok = False
        return data if ok else None

    def shift_values(self, group: list[Row]) -> tuple[list[dict] | None, list[Row]]:
        shifts, shift_rows, ok = [], [], True
        for row in group:
            if not any(row.cells.get(k, "").strip() for k in SHIFT_KEYS):
                continue  # a calendar without shifts, or a row that only names the calendar
            shift: dict[str, Any] = {}
            for key, target in (
                ("shift", "code"),
                ("shift_name", "name"),
                ("shift_name_en", "name_en"),
                ("weekdays", "weekdays"),
                ("start", "start_time"),
                ("end", "end_time"),
                ("breaks", "breaks"),
            ):
                text = row.cells.get(key, "").strip()
                if not text:
                    if key in ("shift", "shift_name", "weekdays", "start", "end"):
                        self.cell_error(row, key, _("Required."))
                        ok = False
                    continue
                try:
                    shift[target] = self.sheet.column(key).parse(text)
                except CellProblem as problem:
                    self.cell_error(row, key, str(problem))
                    ok = False
            shifts.append(shift)
            shift_rows.append(row)
        return (shifts if ok else None), shift_rows


def flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in flatten(value)]
    return [str(m) for value in messages for m in flatten(value)] if isinstance(messages, list) else [str(messages)]


def run_import(session: Session, kind: str, content: bytes, *, mode: str = "insert", dry_run: bool = False):
    """Check a whole file and, when every row is good and it is no dry run, write it; see :class:`ImportResult`."""
    return Importer(session, SHEETS[kind], mode=mode, dry_run=dry_run).run(content)


# --- export -----------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, dt.time):
        return cal.format_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_rows(session: Session, kind: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a kind as its import reads them back."""
    sheet = SHEETS[kind]
    header = [c.key for c in sheet.columns]
    model = sheet.model
    rows: list[list[str]] = []
    if model is ShiftCalendar:
        for calendar in session.scalars(sa.select(ShiftCalendar).order_by(ShiftCalendar.code)):
            base = [calendar.code, calendar.name, calendar.name_en, calendar.is_default]
            for shift in calendar.shifts or [None]:
                if shift is None:
                    rows.append([_text(v) for v in base] + [""] * 7)
                    continue
                rows.append(
                    [_text(v) for v in base]
                    + [shift.code, shift.name, shift.name_en or "", format_weekdays(shift.weekdays)]
                    + [_text(shift.start_time), _text(shift.end_time), format_breaks(shift.breaks)]
                )
        return header, rows
    if model is ReasonCode:
        records = [r for kind in ReasonKind for r, _depth in services.reason_tree(session, kind)]
    elif model is CalendarException:
        statement = sa.select(CalendarException).join(CalendarException.calendar)
        records = session.scalars(statement.order_by(ShiftCalendar.code, CalendarException.start_date)).all()
    else:
        records = session.scalars(services.search(model)).all()
    for record in records:
        rows.append([_text(_export_value(record, column)) for column in sheet.columns])
    return header, rows


def _export_value(record, column: Column) -> Any:
    value = getattr(record, column.target)
    if column.key == "username":
        return value.username if value is not None else None
    if column.key == "skills":
        return "; ".join(value or [])
    if column.parse is None:
        return value.code if value is not None else None
    if isinstance(value, ReasonKind | ExceptionKind):
        return value.value
    return value


def export_file(session: Session, kind: str, file_format: str) -> bytes:
    """A kind's records as CSV (UTF-8 with BOM, for Excel) or XLSX bytes."""
    header, rows = export_rows(session, kind)
    if file_format == "xlsx":
        return _xlsx(kind, header, rows)
    return csv_bytes(header, rows)


def _xlsx(kind: str, header: list[str], rows: list[list[str]]) -> bytes:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(kind)

    def text_cells(values: list[str]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            # a workbook cannot hold control characters (older rows may carry them): leave them out
            cell = WriteOnlyCell(worksheet, value=ILLEGAL_CHARACTERS_RE.sub("", value) if value else value)
            cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
            cells.append(cell)
        return cells

    worksheet.append(text_cells(header))
    for row in rows:
        worksheet.append(text_cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
