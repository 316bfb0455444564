"""Identity services: users and roles, employees and PINs, API tokens, sign-in throttling.

Plain functions, session first; they flush but never commit (the request or command that calls them does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from platform_core.db import SKIP_TENANT_FILTER, utcnow
from platform_core.errors import Conflict, NotFound, ValidationFailed
from platform_core.identity.models import ApiToken, Employee, LoginFailure, Membership, TokenKind, User
from platform_core.rbac import Role
from platform_core.tenants.models import Tenant

TOKEN_PREFIX = "mes"  # noqa: S105 - the public prefix of token secrets


# --- secrets ---------------------------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return generate_password_hash(secret, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_secret(hashed: str | None, secret: str) -> bool:
    if not hashed:
        return False
    return check_password_hash(hashed, secret)


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Why a password is refused (empty when acceptable)."""
    problems = []
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        problems.append(_("Use at least %(n)d characters.", n=min_length))
    if len(password) > 256:
        problems.append(_("Use at most 256 characters."))
    if password.isdigit():
        problems.append(_("Do not use digits only."))
    if username and username.lower() in password.lower():
        problems.append(_("Do not include the username."))
    return problems


def pin_problems(pin: str) -> list[str]:
    low, high = current_app.config["PIN_LENGTH_MIN"], current_app.config["PIN_LENGTH_MAX"]
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        return [_("A PIN is %(low)d to %(high)d digits.", low=low, high=high)]
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return [_("Choose a PIN that is not a run or a repeated digit.")]
    return []


# --- users and roles -------------------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str | None,
    email: str | None = None,
    preferred_locale: str | None = None,
    is_platform_operator: bool = False,
) -> User:
    """Create a user with a checked, hashed password (None for shop-floor accounts that sign in by PIN)."""
    username = username.strip().lower()
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(_("The username %(u)s is taken.", u=username), errors={"username": [_("Already taken.")]})
    if password is not None and (problems := password_problems(password, username=username)):
        raise ValidationFailed(_("The password is too weak."), errors={"password": problems})
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email,
        preferred_locale=preferred_locale,
        password_hash=hash_secret(password) if password else None,
        is_platform_operator=is_platform_operator,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if problems := password_problems(password, username=user.username):
        raise ValidationFailed(_("The password is too weak."), errors={"password": problems})
    user.password_hash = hash_secret(password)
    from platform_core.identity.sessions import end_sessions

    end_sessions(session, user_id=user.id)


def roles_of(session: Session, user_id: int) -> set[Role]:
    """The user's roles in the session's tenant."""
    return set(session.scalars(sa.select(Membership.role).where(Membership.user_id == user_id)))


def set_roles(session: Session, user: User, roles: Iterable[Role]) -> None:
    """Make the user's roles in the session's tenant exactly ``roles``."""
    wanted = set(roles)
    current = {m.role: m for m in session.scalars(sa.select(Membership).where(Membership.user_id == user.id))}
    for role in current.keys() - wanted:
        session.delete(current[role])
    for role in wanted - current.keys():
        session.add(Membership(user=user, role=role))
    session.flush()


def tenant_users(session: Session) -> sa.Select:
    """Users holding at least one role in the session's tenant."""
    members = sa.select(Membership.user_id)
    return sa.select(User).where(User.id.in_(members)).order_by(User.username)


def get_tenant_user(session: Session, user_id: int) -> User:
    """A user of the session's tenant; users of other tenants read as not found."""
    user = session.scalar(sa.select(User).where(User.id == user_id, User.id.in_(sa.select(Membership.user_id))))
    if user is None:
        raise NotFound(_("No such user."))
    return user


# --- employees and PINs ----------------------------------------------------------------------------------------


def create_employee(
    session: Session, *, employee_no: str, name: str, user: User | None = None, pin: str | None = None
) -> Employee:
    employee_no = employee_no.strip()
    if session.scalar(sa.select(Employee.id).where(Employee.employee_no == employee_no)) is not None:
        raise Conflict(
            _("Employee number %(no)s exists.", no=employee_no), errors={"employee_no": [_("Already taken.")]}
        )
    employee = Employee(employee_no=employee_no, name=name.strip(), user=user)
    session.add(employee)
    if pin is not None:
        set_pin(session, employee, pin)
    session.flush()
    return employee


def set_pin(session: Session, employee: Employee, pin: str) -> None:
    """Set (or reset) a PIN; also lifts a lockout."""
    if problems := pin_problems(pin):
        raise ValidationFailed(_("The PIN is not acceptable."), errors={"pin": problems})
    employee.pin_hash = hash_secret(pin)
    session.flush()
    clear_failures(session, pin_key(employee.tenant_id, employee.employee_no))


def pin_key(tenant_id: int, employee_no: str) -> str:
    return f"pin:{tenant_id}:{employee_no}"


# --- throttling ------------------------------------------------------------------------------------------------


def failures_since(session: Session, key: str, window_seconds: int) -> int:
    since = utcnow() - dt.timedelta(seconds=window_seconds)
    return session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure).where(LoginFailure.key == key, LoginFailure.at > since)
    )


def record_failure(session: Session, *keys: str) -> None:
    now = utcnow()
    session.add_all(LoginFailure(key=key, at=now) for key in keys)
    session.flush()


def clear_failures(session: Session, key: str) -> None:
    session.execute(sa.delete(LoginFailure).where(LoginFailure.key == key))


def purge_failures(session: Session, older_than_seconds: int) -> int:
    cutoff = utcnow() - dt.timedelta(seconds=older_than_seconds)
    return session.execute(sa.delete(LoginFailure).where(LoginFailure.at < cutoff)).rowcount


# --- sign-in ---------------------------------------------------------------------------------------------------


class SignInRefused(Exception):
    """Sign-in refused; ``message`` is safe to show, ``throttled`` asks for a 429."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.throttled = throttled


def authenticate_password(session: Session, username: str, password: str, address: str) -> User:
    """The user for a username and password, or :class:`SignInRefused` (throttled per user and per address)."""
    config = current_app.config
    window = config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    user_key, address_key = f"user:{username.strip().lower()}", f"addr:{address}"
    if (
        failures_since(session, user_key, window) >= config["LOGIN_THROTTLE_MAX_PER_USER"]
        or failures_since(session, address_key, window) >= config["LOGIN_THROTTLE_MAX_PER_ADDRESS"]
    ):
        raise SignInRefused(_("Too many failed sign-ins; wait a few minutes and try again."), throttled=True)
    user = session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active or not verify_secret(user.password_hash, password):
        record_failure(session, user_key, address_key)
        raise SignInRefused(_("Wrong username or password."))
    clear_failures(session, user_key)
    return user


def authenticate_pin(session: Session, tenant_code: str, employee_no: str, pin: str, address: str) -> Employee:
    """The employee for factory code + employee number + PIN; locked after repeated failures."""
    config = current_app.config
    tenant = session.scalar(sa.select(Tenant).where(Tenant.code == tenant_code.strip().upper()))
    address_key = f"addr:{address}"
    if (
        failures_since(session, address_key, config["LOGIN_THROTTLE_WINDOW_SECONDS"])
        >= config["LOGIN_THROTTLE_MAX_PER_ADDRESS"]
    ):
        raise SignInRefused(_("Too many failed sign-ins; wait a few minutes and try again."), throttled=True)
    if tenant is None:
        record_failure(session, address_key)
        raise SignInRefused(_("Unknown factory code."))
    key = pin_key(tenant.id, employee_no.strip())
    if failures_since(session, key, config["PIN_LOCK_MINUTES"] * 60) >= config["PIN_MAX_FAILURES"]:
        raise SignInRefused(
            _("This employee number is locked after too many wrong PINs; ask a supervisor to reset the PIN."),
            throttled=True,
        )
    employee = session.scalar(
        sa.select(Employee)
        .where(Employee.tenant_id == tenant.id, Employee.employee_no == employee_no.strip())
        .execution_options(**{SKIP_TENANT_FILTER: True})  # sign-in precedes the tenant context
    )
    ok = employee is not None and employee.active and employee.user is not None and employee.user.active
    if not ok or not verify_secret(employee.pin_hash, pin):
        record_failure(session, key, address_key)
        raise SignInRefused(_("Wrong employee number or PIN."))
    clear_failures(session, key)
    return employee


# --- API tokens ------------------------------------------------------------------------------------------------


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    name: str,
    kind: TokenKind,
    scopes: Iterable[str],
    user: User | None,
    created_by: User | None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    if kind is TokenKind.PERSONAL and user is None:
        raise ValidationFailed(_("A personal token needs a user."), errors={"user_id": [_("Required.")]})
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name.strip(),
        kind=kind,
        user=user,
        prefix=prefix,
        secret_hash=_token_digest(secret),
        scopes=sorted(set(scopes)),
        created_by_id=created_by.id if created_by else None,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The live token for a bearer secret, or None. Runs before the tenant is known."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(secret) > 200:
        return None
    # One round trip for what every API call needs next: the token, its user, its tenant and the tenant's apps.
    statement = (
        sa.select(ApiToken)
        .where(ApiToken.prefix == parts[1])
        .options(joinedload(ApiToken.user), joinedload(ApiToken.tenant).joinedload(Tenant.apps))
        .execution_options(**{SKIP_TENANT_FILTER: True})
    )
    token = session.scalars(statement).unique().one_or_none()
    if token is None or not hmac.compare_digest(token.secret_hash, _token_digest(secret)):
        return None
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= utcnow()):
        return None
    return token


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
