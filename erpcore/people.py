"""User management for an enterprise: create, update, deactivate, bind a number, roles.

Every function takes the tenant and the acting user: ``actor_user_id`` None is the
platform operator (already authenticated by its console), anybody else must be an active
user of the same enterprise holding `admin.users`. Every change is audited with the user
before and after (never a password or its hash).
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from erpcore import audit, auth, rbac
from erpcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from erpcore.sites import Site
from erpcore.tenants import LANGUAGES, Enterprise
from erpcore.users import InvalidMsisdn, User, normalize_msisdn

_USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
UPDATABLE = ("display_name", "lang", "site_id", "role", "push_capable")


class UserNotFound(NotFound):
    code = "user.not_found"


class UserExists(Conflict):
    code = "user.exists"


class MsisdnTaken(Conflict):
    code = "user.msisdn_taken"


def snapshot(user: User) -> dict:
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "msisdn": user.msisdn, "lang": user.lang, "site_id": user.site_id, "role": user.role,
        "active": bool(user.active), "push_capable": bool(user.push_capable),
    }


def get_user(session: Session, enterprise_id: int, user_id: int) -> User:
    """The user ``user_id`` of this enterprise; another tenant's user is not found."""
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.enterprise_id != enterprise_id:
        raise UserNotFound(f"no user {user_id!r}", user=user_id)
    return user


def get_actor(session: Session, enterprise_id: int, actor_user_id: int) -> User:
    """The acting user, who must be an active user of this enterprise."""
    actor = session.get(User, actor_user_id) if isinstance(actor_user_id, int) else None
    if actor is None or actor.enterprise_id != enterprise_id or not actor.active:
        raise PermissionDenied("not a user of this enterprise", code="rbac.denied")
    return actor


def _authorize(session: Session, enterprise_id: int, actor_user_id: int | None) -> None:
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"no enterprise {enterprise_id!r}", code="enterprise.not_found")
    if actor_user_id is not None:
        rbac.require(session, get_actor(session, enterprise_id, actor_user_id), "admin.users")


def _msisdn(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalize_msisdn(value)
    except InvalidMsisdn:
        raise InvalidInput(f"not a phone number: {value!r}", code="user.bad_msisdn") from None


def _check_msisdn_free(session: Session, enterprise_id: int, msisdn: str | None, user_id: int | None) -> None:
    if msisdn is None:
        return
    holder = session.scalars(
        select(User).where(User.enterprise_id == enterprise_id, User.msisdn == msisdn)
    ).first()
    if holder is not None and holder.id != user_id:
        raise MsisdnTaken(f"{msisdn} is bound to another user", msisdn=msisdn)


def _check_field(session: Session, enterprise_id: int, field: str, value: object) -> object:
    if field == "display_name":
        if not isinstance(value, str) or not value.strip() or len(value) > 128:
            raise InvalidInput("a display name has 1 to 128 characters", code="user.bad_display_name")
    elif field == "lang":
        if value is not None and value not in LANGUAGES:
            raise InvalidInput(f"lang is one of {', '.join(LANGUAGES)}", code="user.bad_lang")
    elif field == "role":
        rbac.check_role(value)
    elif field == "push_capable":
        if not isinstance(value, bool):
            raise InvalidInput("push_capable is true or false", code="user.bad_push_capable")
    elif field == "site_id" and value is not None:
        site = session.get(Site, value) if isinstance(value, int) else None
        if site is None or site.enterprise_id != enterprise_id:
            raise NotFound(f"no site {value!r}", code="site.not_found", site=value)
    return value


def check_new_user(username: str, display_name: str, msisdn: str | None, password: str | None) -> None:
    """The checks of a new user that need no database (so callers can run them first)."""
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise InvalidInput("a username is 1-64 letters, digits, '.', '_' or '-'", code="user.bad_username")
    _check_field(None, 0, "display_name", display_name)
    _msisdn(msisdn)
    if password is not None:
        auth.check_password_strength(password)


def create_user(
    session: Session, enterprise_id: int, actor_user_id: int | None, *, username: str,
    display_name: str, msisdn: str | None = None, role: str = "clerk", lang: str | None = None,
    site_id: int | None = None, password: str | None = None, push_capable: bool = False,
) -> User:
    _authorize(session, enterprise_id, actor_user_id)
    check_new_user(username, display_name, msisdn, password)
    for field, value in (("lang", lang), ("role", role), ("site_id", site_id), ("push_capable", push_capable)):
        _check_field(session, enterprise_id, field, value)
    number = _msisdn(msisdn)
    if session.scalars(
        select(User.id).where(User.enterprise_id == enterprise_id, User.username == username)
    ).first() is not None:
        raise UserExists(f"user {username!r} exists", username=username)
    _check_msisdn_free(session, enterprise_id, number, None)
    user = User(
        enterprise_id=enterprise_id, username=username, display_name=display_name, msisdn=number,
        role=role, lang=lang, site_id=site_id, active=True, push_capable=push_capable,
    )
    session.add(user)
    session.flush()
    if password is not None:
        auth.set_password(session, user, password)
    audit.record(session, enterprise_id, actor_user_id, "user.create", "user", user.id, None, snapshot(user))
    return user


def update_user(
    session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int, **changes
) -> User:
    """Change any of display_name, lang, site_id, role (the primary role), push_capable."""
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)}", code="user.bad_field", fields=unknown)
    for field, value in changes.items():
        _check_field(session, enterprise_id, field, value)
    before = snapshot(user)
    for field, value in changes.items():
        setattr(user, field, value)
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "user.update", "user", user.id, before, snapshot(user))
    return user


def deactivate_user(session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int) -> User:
    """The user can no longer log in nor act; rows that name them stay."""
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    if actor_user_id == user.id:
        raise Conflict("an admin cannot deactivate themselves", code="user.self")
    before = snapshot(user)
    user.active = False
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "user.deactivate", "user", user.id, before, snapshot(user))
    return user


def bind_msisdn(
    session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int, msisdn: str | None
) -> User:
    """Bind a handset number to the user (None unbinds). The same number may belong to
    users of other enterprises; within one enterprise it is unique."""
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    number = _msisdn(msisdn)
    _check_msisdn_free(session, enterprise_id, number, user.id)
    before = snapshot(user)
    user.msisdn = number
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "user.bind_msisdn", "user", user.id, before, snapshot(user))
    return user


def assign_role(
    session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int, role: str,
    *, primary: bool = False,
) -> User:
    """Give an extra role (or replace the primary one with ``primary=True``)."""
    if primary:
        return update_user(session, enterprise_id, actor_user_id, user_id, role=role)
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    rbac.check_role(role)
    before = sorted(rbac.roles_of(session, user))
    if rbac.grant_role(session, user, role):
        audit.record(session, enterprise_id, actor_user_id, "user.assign_role", "user", user.id,
                     {"roles": before}, {"roles": sorted(rbac.roles_of(session, user))})
    return user


def revoke_role(session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int, role: str) -> User:
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    before = sorted(rbac.roles_of(session, user))
    if rbac.revoke_role(session, user, role):
        audit.record(session, enterprise_id, actor_user_id, "user.revoke_role", "user", user.id,
                     {"roles": before}, {"roles": sorted(rbac.roles_of(session, user))})
    return user


def set_user_password(
    session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int, password: str
) -> None:
    """An admin (or the operator) sets a user's password; audited without the secret."""
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    auth.set_password(session, user, password)
    audit.record(session, enterprise_id, actor_user_id, "user.set_password", "user", user.id, None, None)


def unlock_user(session: Session, enterprise_id: int, actor_user_id: int | None, user_id: int) -> bool:
    """End a lockout after wrong passwords (and forget the failures); audited when there
    was something to clear. False when the user was neither locked nor had failures."""
    _authorize(session, enterprise_id, actor_user_id)
    user = get_user(session, enterprise_id, user_id)
    cleared = auth.unlock(session, user)
    if cleared:
        audit.record(session, enterprise_id, actor_user_id, "user.unlock", "user", user.id, None, None)
    return cleared


def list_users(session: Session, enterprise_id: int, actor_user_id: int | None = None) -> list[dict]:
    _authorize(session, enterprise_id, actor_user_id)
    users = session.scalars(select(User).where(User.enterprise_id == enterprise_id).order_by(User.id))
    return [snapshot(user) for user in users]
