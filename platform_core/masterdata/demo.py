"""The demo factory's master data: 华达五金's machines, products, shift calendars, reason codes and employees.

Everything goes through the services, so the demo obeys the same rules as a real factory's data. Names are in
Chinese with English translations; holidays are those of this year and the next, and the shutdown and overtime
fall in the coming week so that the calendar preview shows them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from platform_core.identity.models import Employee
from platform_core.masterdata import services
from platform_core.masterdata.calendar import parse_time
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
from platform_core.tenants.models import Tenant

UNITS = [("pcs", "件", "pieces", 0), ("set", "套", "sets", 0), ("kg", "千克", "kilograms", 3), ("m", "米", "metres", 2)]

FAMILIES = [("FL", "法兰", "Flanges"), ("SH", "轴类", "Shafts"), ("BK", "支架组件", "Bracket assemblies")]

# code, name, English name, unit, family, drawing number
PRODUCTS = [
    ("HD-FL-080", "法兰盘 DN80", "Flange DN80", "pcs", "FL", "HD-2026-0101"),
    ("HD-FL-100", "法兰盘 DN100", "Flange DN100", "pcs", "FL", "HD-2026-0102"),
    ("HD-FL-150", "高压法兰 DN150", "High-pressure flange DN150", "pcs", "FL", "HD-2026-0103"),
    ("HD-SH-020", "传动轴 Φ20", "Drive shaft Ø20", "pcs", "SH", "HD-2026-0201"),
    ("HD-SH-032", "阶梯轴 Φ32", "Stepped shaft Ø32", "pcs", "SH", "HD-2026-0202"),
    ("HD-SH-045", "电机轴 Φ45", "Motor shaft Ø45", "pcs", "SH", "HD-2026-0203"),
    ("HD-SH-060", "主轴 Φ60", "Main shaft Ø60", "pcs", "SH", "HD-2026-0204"),
    ("HD-BK-200", "电机支架组件", "Motor bracket assembly", "set", "BK", "HD-2026-0301"),
    ("HD-BK-210", "轴承座组件", "Bearing housing assembly", "set", "BK", "HD-2026-0302"),
    ("HD-BK-300", "导轨支架组件", "Rail bracket assembly", "set", "BK", "HD-2026-0303"),
    ("RM-Q235-50", "Q235 圆钢 Φ50", "Q235 round bar Ø50", "kg", None, None),
]

# code, name, English name, [shifts: code, name, English name, weekdays, start, end, breaks]
CALENDARS = [
    (
        "2S",
        "两班制",
        "Two shifts",
        [
            ("A", "早班", "Early shift", range(1, 7), "08:00", "16:00", [("12:00", "12:30")]),
            ("B", "中班", "Late shift", range(1, 7), "16:00", "24:00", [("19:30", "20:00")]),
        ],
    ),
    ("DAY", "常日班", "Day shift", [("D", "白班", "Day shift", range(1, 6), "08:00", "17:00", [("12:00", "13:00")])]),
]

# code, name, English name, workshop, calendar
WORK_CENTERS = [
    ("CNC", "数控加工", "CNC machining", "JG", "2S"),
    ("GRD", "磨削", "Grinding", "JG", "2S"),
    ("ASM", "装配", "Assembly", "ZP", "DAY"),
]

# code, name, English name, work center, model, ideal cycle time (s)
MACHINES = [
    ("CNC-01", "数控车床 1 号", "CNC lathe 1", "CNC", "CK6150", 95),
    ("CNC-02", "数控车床 2 号", "CNC lathe 2", "CNC", "CK6150", 95),
    ("CNC-03", "数控车床 3 号", "CNC lathe 3", "CNC", "CAK6136", 80),
    ("CNC-04", "立式加工中心 1 号", "Vertical machining centre 1", "CNC", "VMC850", 180),
    ("CNC-05", "立式加工中心 2 号", "Vertical machining centre 2", "CNC", "VMC850", 180),
    ("CNC-06", "卧式加工中心", "Horizontal machining centre", "CNC", "HMC630", 240),
    ("CNC-07", "车铣复合中心", "Turn-mill centre", "CNC", "TMC-2000", 150),
    ("GR-01", "外圆磨床", "Cylindrical grinder", "GRD", "M1432", 120),
    ("GR-02", "平面磨床", "Surface grinder", "GRD", "M7130", 90),
    ("GR-03", "无心磨床", "Centreless grinder", "GRD", "M1080", 30),
    ("AS-01", "装配工位", "Assembly station", "ASM", None, 300),
    ("AS-02", "压装机", "Press-fit station", "ASM", "YJ-10T", 45),
]

# kind -> [(code, name, English name, icon, [children as (code, name, English name, icon)])]
REASONS = {
    ReasonKind.DOWNTIME: [
        (
            "MECH",
            "机械故障",
            "Mechanical failure",
            "⚙",
            [
                ("TOOL", "刀具破损", "Tool breakage", "🔧"),
                ("SPINDLE", "主轴故障", "Spindle failure", "🌀"),
                ("HYD", "液压故障", "Hydraulic failure", "💧"),
            ],
        ),
        (
            "ELEC",
            "电气故障",
            "Electrical failure",
            "⚡",
            [("SERVO", "伺服报警", "Servo alarm", "🚨"), ("POWER", "停电", "Power outage", "🔌")],
        ),
        (
            "ORG",
            "生产组织",
            "Organisational",
            "📋",
            [
                ("MAT", "待料", "Waiting for material", "📦"),
                ("SETUP", "换型调机", "Changeover and set-up", "🔄"),
                ("QC", "等待检验", "Waiting for inspection", "🔍"),
                ("PROG", "程序调试", "Program debugging", "💻"),
            ],
        ),
    ],
    ReasonKind.PAUSE: [
        ("BREAK", "休息", "Break", "☕", []),
        ("MEET", "班前会", "Shift meeting", "🗣", []),
        ("CLEAN", "5S 清扫", "5S cleaning", "🧹", []),
        ("TRAIN", "培训", "Training", "🎓", []),
    ],
    ReasonKind.SCRAP: [
        (
            "DIM",
            "尺寸超差",
            "Dimension out of tolerance",
            "📏",
            [
                ("OD", "外径超差", "Outer diameter out of tolerance", None),
                ("LEN", "长度超差", "Length out of tolerance", None),
                ("THREAD", "螺纹不合格", "Thread defect", None),
            ],
        ),
        (
            "SURF",
            "表面缺陷",
            "Surface defect",
            "✋",
            [("BURR", "毛刺", "Burr", None), ("SCRATCH", "划伤", "Scratch", None), ("RUST", "锈蚀", "Rust", None)],
        ),
        (
            "MATL",
            "材料缺陷",
            "Material defect",
            "🧱",
            [("PORE", "砂眼", "Porosity", None), ("CRACK", "裂纹", "Crack", None)],
        ),
    ],
    ReasonKind.REWORK: [
        ("DEBURR", "去毛刺", "Deburring", "🪚", []),
        ("REMACH", "返修尺寸", "Re-machining to size", "🔁", []),
        ("POLISH", "重新抛光", "Re-polishing", "✨", []),
        ("REASM", "重新装配", "Reassembly", "🔩", []),
    ],
}

SKILLS = {
    "1001": ["数控车", "加工中心"],
    "1002": ["数控车", "磨削"],
    "1003": ["数控车", "加工中心", "磨削", "班组管理"],
    "1004": ["检验", "三坐标测量"],
    "1005": ["设备维修", "电工证"],
}

# Employees without a tablet sign-in yet (the employee page creates one).
EMPLOYEES = [
    ("1006", "孙丽 (Sun Li)", ["装配"]),
    ("1007", "黄海 (Huang Hai)", ["磨削"]),
    ("1008", "吴静 (Wu Jing)", ["装配", "压装"]),
    ("1009", "郑涛 (Zheng Tao)", ["加工中心", "数控编程"]),
]


def _holidays(year: int) -> list[tuple[str, str, dt.date, dt.date]]:
    return [
        ("元旦", "New Year's Day", dt.date(year, 1, 1), dt.date(year, 1, 1)),
        ("劳动节", "Labour Day", dt.date(year, 5, 1), dt.date(year, 5, 5)),
        ("国庆节", "National Day", dt.date(year, 10, 1), dt.date(year, 10, 7)),
    ]


def seed_master_data(session: Session, tenant: Tenant, today: dt.date | None = None) -> None:
    """Fill the demo factory's data dictionary (the session is scoped to ``tenant``)."""
    today = today or dt.date.today()

    def by_code(model: type) -> dict:
        return {record.code: record for record in session.scalars(sa.select(model))}

    for code, name, name_en, decimals in UNITS:
        services.create(session, Unit, {"code": code, "name": name, "name_en": name_en, "decimals": decimals})
    for code, name, name_en in FAMILIES:
        services.create(session, ProductFamily, {"code": code, "name": name, "name_en": name_en})
    units, families = by_code(Unit), by_code(ProductFamily)
    for code, name, name_en, unit, family, drawing in PRODUCTS:
        data = {"code": code, "name": name, "name_en": name_en, "unit": units[unit], "drawing_no": drawing}
        services.create(session, Product, {**data, "family": families.get(family)})

    calendars = {}
    for code, name, name_en, shifts in CALENDARS:
        rows = [
            {
                "code": shift_code,
                "name": shift_name,
                "name_en": shift_name_en,
                "weekdays": list(days),
                "start_time": parse_time(start),
                "end_time": parse_time(end),
                "breaks": [(parse_time(a), parse_time(b)) for a, b in breaks],
            }
            for shift_code, shift_name, shift_name_en, days, start, end, breaks in shifts
        ]
        data = {"code": code, "name": name, "name_en": name_en, "shifts": rows, "is_default": code == "2S"}
        calendars[code] = services.create(session, ShiftCalendar, data)
    for calendar in calendars.values():
        for year in (today.year, today.year + 1):
            for name, name_en, first, last in _holidays(year):
                holiday = {"kind": ExceptionKind.HOLIDAY, "name": name, "name_en": name_en}
                services.create(
                    session, CalendarException, {**holiday, "calendar": calendar, "start_date": first, "end_date": last}
                )
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    machining = calendars["2S"]
    services.create(
        session,
        CalendarException,
        {
            "calendar": machining,
            "kind": ExceptionKind.SHUTDOWN,
            "name": "设备年检",
            "name_en": "Annual equipment inspection",
            "start_date": next_monday + dt.timedelta(days=2),
            "end_date": next_monday + dt.timedelta(days=2),
            "start_time": parse_time("13:00"),
            "end_time": parse_time("17:00"),
        },
    )
    services.create(
        session,
        CalendarException,
        {
            "calendar": machining,
            "kind": ExceptionKind.OVERTIME,
            "name": "周日加班",
            "name_en": "Sunday overtime",
            "start_date": next_monday + dt.timedelta(days=6),
            "end_date": next_monday + dt.timedelta(days=6),
            "start_time": parse_time("08:00"),
            "end_time": parse_time("16:00"),
        },
    )

    workshops = by_code(Workshop)
    for code, name, name_en, workshop, calendar in WORK_CENTERS:
        data = {"code": code, "name": name, "name_en": name_en}
        services.create(session, WorkCenter, {**data, "workshop": workshops[workshop], "calendar": calendars[calendar]})
    centers = by_code(WorkCenter)
    for code, name, name_en, center, model, cycle in MACHINES:
        data = {"code": code, "name": name, "name_en": name_en, "model": model, "ideal_cycle_time_s": float(cycle)}
        services.create(session, Machine, {**data, "work_center": centers[center]})

    for kind, categories in REASONS.items():
        for position, (code, name, name_en, icon, children) in enumerate(categories, start=1):
            data = {"kind": kind, "code": code, "name": name, "name_en": name_en, "icon": icon}
            category = services.create(session, ReasonCode, {**data, "sort_order": position})
            for child_position, (child, child_name, child_en, child_icon) in enumerate(children, start=1):
                data = {"kind": kind, "code": child, "name": child_name, "name_en": child_en, "icon": child_icon}
                services.create(session, ReasonCode, {**data, "parent": category, "sort_order": child_position})

    for employee in session.scalars(sa.select(Employee)):
        if employee.employee_no in SKILLS:
            services.update(session, employee, {"skills": SKILLS[employee.employee_no]})
    for employee_no, name, skills in EMPLOYEES:
        services.create(session, Employee, {"employee_no": employee_no, "name": name, "skills": skills})
