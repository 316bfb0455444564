"""Master-data models shared by the apps: the factory's data dictionary.

Every kind carries a per-tenant ``code`` (what spreadsheets, ERP exports and labels use), a Chinese ``name`` and
an optional English ``name_en``; :meth:`Named.label` picks the reader's language. Records are deactivated
rather than deleted once other records use them.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.db import Base, TenantScoped, created_at, enum_type, intpk, str_name


class Named:
    """Code, bilingual name, active flag and creation time, as every master-data kind has them."""

    # negative sort_order: these columns come first in every table, before the kind's own
    id: Mapped[intpk] = mapped_column(sort_order=-2)
    code: Mapped[str] = mapped_column(sa.String(32), sort_order=-1)
    name: Mapped[str] = mapped_column(sa.String(200), sort_order=-1)
    name_en: Mapped[str | None] = mapped_column(sa.String(200), sort_order=-1)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[created_at]

    def label(self, locale: str) -> str:
        """The name in the reader's language when one is recorded."""
        return self.name_en if locale == "en" and self.name_en else self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"


class Workshop(Named, TenantScoped, Base):
    """A site or workshop of the factory (车间)."""

    __tablename__ = "platform_workshops"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)


class ShiftCalendar(Named, TenantScoped, Base):
    """A weekly shift pattern with its exceptions, assigned to work centers and machines (班次日历).

    Times are wall-clock times of the tenant's time zone. The default calendar applies to every machine whose
    work center has none; with no calendar at all a machine counts as always available.
    """

    __tablename__ = "platform_shift_calendars"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    is_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    # No "expunge" cascade: db.set_tenant expunges every row of another tenant one by one.
    shifts: Mapped[list[CalendarShift]] = relationship(
        back_populates="calendar",
        cascade="save-update, merge, delete, delete-orphan",
        order_by="CalendarShift.position",
    )
    exceptions: Mapped[list[CalendarException]] = relationship(
        back_populates="calendar",
        cascade="save-update, merge, delete, delete-orphan",
        order_by="CalendarException.start_date",
    )


class CalendarShift(TenantScoped, Base):
    """One shift of a weekly pattern: on these weekdays from ``start_time`` to ``end_time``, minus its breaks.

    An end at or before the start means the shift ends on the next day (22:00-06:00); equal times make a 24-hour
    shift. Breaks are ``[["12:00", "12:30"], ...]`` wall-clock pairs inside the shift.
    """

    __tablename__ = "platform_calendar_shifts"
    __table_args__ = (sa.UniqueConstraint("calendar_id", "code"),)

    id: Mapped[intpk]
    calendar_id: Mapped[int] = mapped_column(sa.ForeignKey(ShiftCalendar.id, ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str_name]
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    weekdays: Mapped[list[int]] = mapped_column(sa.JSON)  # ISO weekdays: 1 = Monday ... 7 = Sunday
    start_time: Mapped[dt.time] = mapped_column(sa.Time)
    end_time: Mapped[dt.time] = mapped_column(sa.Time)
    breaks: Mapped[list[list[str]]] = mapped_column(sa.JSON, default=list)

    calendar: Mapped[ShiftCalendar] = relationship(back_populates="shifts")

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


class ExceptionKind(enum.StrEnum):
    HOLIDAY = "holiday"  # not working
    SHUTDOWN = "shutdown"  # not working (maintenance, power cut, stock-taking)
    OVERTIME = "overtime"  # extra working time, also on holidays (a make-up working day)

    @property
    def working(self) -> bool:
        return self is ExceptionKind.OVERTIME


class CalendarException(TenantScoped, Base):
    """A dated exception to a calendar's pattern, from ``start_date start_time`` to ``end_date end_time``.

    Without times the exception covers whole days (``end_date`` included).
    """

    __tablename__ = "platform_calendar_exceptions"
    __table_args__ = (sa.CheckConstraint("end_date >= start_date", name="dates_ordered"),)

    id: Mapped[intpk]
    calendar_id: Mapped[int] = mapped_column(sa.ForeignKey(ShiftCalendar.id, ondelete="CASCADE"), index=True)
    kind: Mapped[ExceptionKind] = mapped_column(enum_type(ExceptionKind))
    name: Mapped[str_name]
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    start_time: Mapped[dt.time | None] = mapped_column(sa.Time)
    end_time: Mapped[dt.time | None] = mapped_column(sa.Time)
    created_at: Mapped[created_at]

    calendar: Mapped[ShiftCalendar] = relationship(back_populates="exceptions")

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


class WorkCenter(Named, TenantScoped, Base):
    """A group of interchangeable machines or workplaces that routings name (工作中心)."""

    __tablename__ = "platform_work_centers"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    workshop_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Workshop.id, ondelete="RESTRICT"), index=True)
    calendar_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ShiftCalendar.id, ondelete="RESTRICT"), index=True)

    workshop: Mapped[Workshop | None] = relationship()
    calendar: Mapped[ShiftCalendar | None] = relationship()


class Machine(Named, TenantScoped, Base):
    """A machine or workplace (设备); its own calendar overrides its work center's."""

    __tablename__ = "platform_machines"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "code"),
        sa.CheckConstraint("ideal_cycle_time_s > 0", name="cycle_time_positive"),
    )

    work_center_id: Mapped[int] = mapped_column(sa.ForeignKey(WorkCenter.id, ondelete="RESTRICT"), index=True)
    model: Mapped[str | None] = mapped_column(sa.String(100))
    ideal_cycle_time_s: Mapped[float | None] = mapped_column(sa.Float)
    calendar_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ShiftCalendar.id, ondelete="RESTRICT"), index=True)

    work_center: Mapped[WorkCenter] = relationship()
    calendar: Mapped[ShiftCalendar | None] = relationship()


class Unit(Named, TenantScoped, Base):
    """A unit of measure (单位): pieces, kilograms, metres, sets."""

    __tablename__ = "platform_units"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "code"),
        sa.CheckConstraint("decimals >= 0 AND decimals <= 6", name="decimals_range"),
    )

    decimals: Mapped[int] = mapped_column(default=0, server_default="0")  # decimal places quantities may have


class ProductFamily(Named, TenantScoped, Base):
    """Products that share a set-up (产品族): changing over inside a family is quick, between families not."""

    __tablename__ = "platform_product_families"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)


class Product(Named, TenantScoped, Base):
    """A product, part or material the factory makes or uses (物料/产品)."""

    __tablename__ = "platform_products"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(sa.String(64), sort_order=-1)  # ERP item numbers run longer than other codes

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey(Unit.id, ondelete="RESTRICT"), index=True)
    family_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ProductFamily.id, ondelete="RESTRICT"), index=True)
    drawing_no: Mapped[str | None] = mapped_column(sa.String(64))

    unit: Mapped[Unit] = relationship()
    family: Mapped[ProductFamily | None] = relationship()


class ReasonKind(enum.StrEnum):
    DOWNTIME = "downtime"
    PAUSE = "pause"
    SCRAP = "scrap"  # scrap and defects
    REWORK = "rework"


class ReasonCode(Named, TenantScoped, Base):
    """A reason in a per-kind tree (category → reason), e.g. downtime › mechanical › tool breakage."""

    __tablename__ = "platform_reason_codes"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "kind", "code"),)

    kind: Mapped[ReasonKind] = mapped_column(enum_type(ReasonKind))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("platform_reason_codes.id", ondelete="RESTRICT"), index=True
    )
    icon: Mapped[str | None] = mapped_column(sa.String(16))  # a symbol shown on the tablets' buttons
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")

    parent: Mapped[ReasonCode | None] = relationship(remote_side="ReasonCode.id")
