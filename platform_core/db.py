"""Database: declarative base, shared column types, engines and sessions, and the tenant filter.

Tenant isolation is enforced here and nowhere else:

* every tenant-owned model mixes in :class:`TenantScoped` (a NOT NULL ``tenant_id``);
* a ``do_orm_execute`` listener adds ``tenant_id = <current tenant>`` to every ORM SELECT, UPDATE and DELETE,
  including relationship lazy loads and ``Session.get``;
* a ``before_flush`` listener stamps ``tenant_id`` on new rows and refuses rows or links that cross tenants;
* with no tenant in the session's context, touching a tenant-owned model raises :class:`TenantContextError`
  instead of returning everything;
* the only way around the filter is the execution option ``skip_tenant_filter=True``, used by platform-operator
  code alone (``grep -rn skip_tenant_filter`` lists every use).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event, orm
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SKIP_TENANT_FILTER = "skip_tenant_filter"
TENANT_KEY = "tenant_id"
ACTOR_KEY = "actor"


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime (the only clock the database sees)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite stores no zone, so naive values are read back as UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone first")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Store a string enum by value as VARCHAR with a CHECK constraint (portable, readable in SQL)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


intpk = Annotated[int, mapped_column(primary_key=True)]
str_code = Annotated[str, mapped_column(sa.String(64))]
str_name = Annotated[str, mapped_column(sa.String(200))]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]


class Base(DeclarativeBase):
    """Declarative base for every model of the platform and the apps."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: sa.JSON(), list[str]: sa.JSON()}


class TenantScoped:
    """Mixin for every tenant-owned table: a NOT NULL ``tenant_id`` the session filter and stamper rely on."""

    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("platform_tenants.id", ondelete="RESTRICT"), index=True, nullable=False
    )


class TenantContextError(RuntimeError):
    """A tenant-owned model was touched with no tenant in context, or across tenants."""


# --- tenant context on a session -------------------------------------------------------------------------------


def current_tenant_id(session: Session) -> int | None:
    """The tenant the session is scoped to, or None."""
    return session.info.get(TENANT_KEY)


def set_tenant(session: Session, tenant_id: int | None) -> None:
    """Scope the session to one tenant; rows of any other tenant leave the identity map.

    ``Session.get`` answers from the identity map without SQL, so a row loaded under one tenant must not stay
    there when the session moves to another.
    """
    if session.info.get(TENANT_KEY) != tenant_id:
        for state in list(session.identity_map.all_states()):
            obj = state.obj()
            # Read the loaded value without triggering a refresh; an expired row is dropped to be safe.
            stale = isinstance(obj, TenantScoped) and state.dict.get("tenant_id") != tenant_id
            if stale and obj in session:  # an earlier expunge may have cascaded to it already
                session.expunge(obj)
    session.info[TENANT_KEY] = tenant_id


@contextlib.contextmanager
def tenant_context(session: Session, tenant_id: int) -> Iterator[Session]:
    """Run a block scoped to ``tenant_id`` and restore the previous scope afterwards."""
    previous = session.info.get(TENANT_KEY)
    set_tenant(session, tenant_id)
    try:
        yield session
    finally:
        set_tenant(session, previous)


@dataclass(frozen=True)
class Actor:
    """Who a session's changes are attributed to (audit trail, events)."""

    label: str
    user_id: int | None = None
    token_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "user_id": self.user_id, "token_id": self.token_id}


SYSTEM = Actor("system")


def set_actor(session: Session, actor: Actor | None) -> None:
    session.info[ACTOR_KEY] = actor


def current_actor(session: Session) -> Actor:
    return session.info.get(ACTOR_KEY) or SYSTEM


def _is_scoped(mapper) -> bool:
    return issubclass(mapper.class_, TenantScoped)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: orm.ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.execution_options.get(SKIP_TENANT_FILTER, False):
        return  # column loads refresh rows that were already loaded through the filter
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        if any(_is_scoped(m) for m in state.all_mappers):
            raise TenantContextError("no tenant in context for a query on tenant-owned data")
        # A tenant-owned model joined into a platform query still yields nothing without a tenant.
        state.statement = state.statement.options(
            orm.with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id.is_(None), include_aliases=True)
        )
        return
    state.statement = state.statement.options(
        orm.with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session: Session, flush_context, instances) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantContextError(f"cannot create {type(obj).__name__} with no tenant in context")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantContextError(f"{type(obj).__name__} belongs to another tenant than the session's")
        _check_links(obj)
    for obj in session.dirty:
        if not isinstance(obj, TenantScoped):
            continue
        history = sa.inspect(obj).attrs.tenant_id.history
        if history.deleted and history.deleted[0] is not None:
            raise TenantContextError(f"{type(obj).__name__}.tenant_id cannot change")
        _check_links(obj)


def _check_links(obj: TenantScoped) -> None:
    """Refuse a many-to-one link from a row of one tenant to a row of another."""
    state = sa.inspect(obj)
    for rel in state.mapper.relationships:
        if rel.direction is not orm.interfaces.MANYTOONE:
            continue
        target = state.dict.get(rel.key)
        if isinstance(target, TenantScoped) and target.tenant_id not in (None, obj.tenant_id):
            raise TenantContextError(f"{type(obj).__name__}.{rel.key} points to another tenant's row")


# --- engines and sessions --------------------------------------------------------------------------------------


def create_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """An engine with the settings the product relies on for each backend."""
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # the embedded default lives in ./var
        engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (needed for SAVEPOINT).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout instead of one failing later.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Engines per Flask app and one scoped session per app context (request, CLI command or job)."""

    def __init__(self) -> None:
        self.session = orm.scoped_session(self._new_session, scopefunc=_app_context_id)

    def init_app(self, app: Flask) -> None:
        app.extensions["mes.engine"] = create_engine(app.config["DATABASE_URL"], echo=app.config["DATABASE_ECHO"])
        app.extensions["mes.bind_override"] = None  # tests bind sessions to an outer transaction here
        app.teardown_appcontext(self._remove_session)

    @property
    def engine(self) -> sa.Engine:
        return current_app.extensions["mes.engine"]

    def _new_session(self) -> Session:
        override = current_app.extensions.get("mes.bind_override")
        if override is not None:
            return Session(bind=override, join_transaction_mode="create_savepoint", expire_on_commit=False)
        return Session(bind=self.engine, expire_on_commit=False)

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.session.remove()  # rolls back whatever the request did not commit

    @contextlib.contextmanager
    def unit_of_work(self, tenant_id: int | None = None, actor: Actor | None = None) -> Iterator[Session]:
        """A fresh session and transaction for a job or command: committed on success, rolled back on error."""
        session = self._new_session()
        session.info[TENANT_KEY] = tenant_id
        session.info[ACTOR_KEY] = actor
        try:
            with session.begin():
                yield session
        finally:
            session.close()


def _app_context_id() -> int:
    return id(g._get_current_object())


db = Database()
