"""Passwords: scrypt hashes and login with a lockout against guessing.

A hash is stored as ``scrypt$n$r$p$salt$digest`` (base64), so the work factor can be
raised later without invalidating stored passwords. After MAX_FAILURES wrong passwords
within FAILURE_WINDOW the account is locked for LOCKOUT; a right password during the
lock is refused too (otherwise the lock would not slow guessing down).

Failures are written in the caller's transaction: a caller that catches AuthError must
still commit for the count to stick (catch it inside the unit of work).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import ErpError, InvalidInput
from erpcore.tenants import Enterprise
from erpcore.users import User

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
DIGEST_BYTES = 32
MIN_PASSWORD_LENGTH = 6
MAX_PASSWORD_LENGTH = 256
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
_MAX_N = 2**20  # refuse absurd stored parameters rather than exhaust memory


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


#: Replaced in tests that step through the lockout window.
clock: Callable[[], datetime] = _utcnow


class AuthError(ErpError):
    code = "auth.error"


class AuthenticationFailed(AuthError):
    """Unknown enterprise, unknown or inactive user, no password set or a wrong password:
    one answer for all, so that a guesser learns nothing about which part was wrong."""

    code = "auth.failed"


class AccountLocked(AuthError):
    code = "auth.locked"


class WeakPassword(InvalidInput):
    code = "auth.weak_password"


class UserCredential(Base):
    __tablename__ = "user_credentials"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    changed_at: Mapped[datetime] = mapped_column(DateTime)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    check_password_strength(password)
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
        maxmem=128 * r * (n + p + 2) + 1024 * 1024, dklen=DIGEST_BYTES,
    )


def check_hash(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        if scheme != "scrypt" or not (1 < n <= _MAX_N) or not (0 < r <= 32) or not (0 < p <= 16):
            return False
        salt_bytes = base64.b64decode(salt, validate=True)
        expected = base64.b64decode(digest, validate=True)
    except (ValueError, AttributeError):
        return False
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        actual = _scrypt(password, salt_bytes, n, r, p)
    except ValueError:  # n not a power of two, etc.
        return False
    return hmac.compare_digest(actual[: len(expected)], expected) and len(expected) == DIGEST_BYTES


def check_password_strength(password: str) -> None:
    if not isinstance(password, str) or not (MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise WeakPassword(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            min_length=MIN_PASSWORD_LENGTH,
        )


def set_password(session: Session, user: User, password: str) -> None:
    """Store a new hash for ``user`` and clear any failures and lock."""
    password_hash = hash_password(password)
    credential = session.get(UserCredential, user.id)
    if credential is None:
        credential = UserCredential(user_id=user.id, password_hash=password_hash, changed_at=clock())
        session.add(credential)
    credential.password_hash = password_hash
    credential.failed_count = 0
    credential.first_failed_at = None
    credential.locked_until = None
    credential.changed_at = clock()
    session.flush()


def unlock(session: Session, user: User) -> bool:
    """Clear a lock and the failure count; False when there was neither."""
    credential = session.get(UserCredential, user.id)
    if credential is None or (not credential.failed_count and credential.locked_until is None):
        return False
    credential.failed_count = 0
    credential.first_failed_at = None
    credential.locked_until = None
    session.flush()
    return True


def locked_until(session: Session, user_ids: list[int]) -> dict[int, datetime]:
    """The users among ``user_ids`` locked out right now, with the end of their lock."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(UserCredential.user_id, UserCredential.locked_until)
        .where(UserCredential.user_id.in_(user_ids), UserCredential.locked_until > clock())
    )
    return dict(rows.all())


def has_password(session: Session, user: User) -> bool:
    return session.get(UserCredential, user.id) is not None


def verify_password(session: Session, user: User, password: str) -> bool:
    """Check the password, counting a failure and locking after too many; raises
    AccountLocked while the lock lasts (whatever the password)."""
    credential = session.get(UserCredential, user.id)
    if credential is None:
        return False
    now = clock()
    if credential.locked_until is not None and now < credential.locked_until:
        raise AccountLocked("too many wrong passwords; try later", until=credential.locked_until)
    if check_hash(password, credential.password_hash):
        credential.failed_count = 0
        credential.first_failed_at = None
        credential.locked_until = None
        session.flush()
        return True
    if credential.first_failed_at is None or now - credential.first_failed_at > FAILURE_WINDOW:
        credential.first_failed_at = now
        credential.failed_count = 0
    credential.failed_count += 1
    if credential.failed_count >= MAX_FAILURES:
        credential.locked_until = now + LOCKOUT
        credential.failed_count = 0
        credential.first_failed_at = None
    session.flush()
    return False


def authenticate(session: Session, enterprise_code: str, username: str, password: str) -> User:
    """The active user ``username`` of the active enterprise ``enterprise_code`` whose
    password this is; AuthenticationFailed or AccountLocked otherwise."""
    user = session.scalars(
        select(User)
        .join(Enterprise, Enterprise.id == User.enterprise_id)
        .where(
            Enterprise.code == enterprise_code, Enterprise.active.is_(True),
            User.username == username,
        )
    ).first()
    if user is None or not user.active:
        raise AuthenticationFailed("wrong enterprise, user or password")
    if not verify_password(session, user, password):
        raise AuthenticationFailed("wrong enterprise, user or password")
    return user
