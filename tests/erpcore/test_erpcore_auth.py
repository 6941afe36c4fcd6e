"""Passwords are scrypt hashes; wrong passwords lock the account for a while."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from erpcore import auth
from erpcore.auth import AccountLocked, AuthenticationFailed, UserCredential, WeakPassword
from erpcore.db import session_scope
from erpcore.users import User


class FakeClock:
    def __init__(self):
        self.now = datetime(2024, 5, 1, 9, 0, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(auth, "clock", fake)
    return fake


def _zhang(session, code="DEMO"):
    from erpcore.tenants import Enterprise

    return session.scalars(
        select(User).join(Enterprise).where(Enterprise.code == code, User.username == "zhang")
    ).one()


def test_a_hash_is_salted_scrypt_with_its_parameters():
    first, second = auth.hash_password("秘密password"), auth.hash_password("秘密password")
    assert first != second  # salted
    scheme, n, r, p, _salt, _digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", auth.SCRYPT_N, auth.SCRYPT_R, auth.SCRYPT_P)
    assert auth.check_hash("秘密password", first) and not auth.check_hash("秘密passwore", first)


def test_a_hash_made_with_other_parameters_still_verifies():
    stored = auth.hash_password("letmein!", n=2**10, r=4, p=2)
    assert auth.check_hash("letmein!", stored)


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$x$8$1$AA==$AA==", "md5$1$1$1$AA==$AA==",
                                    "scrypt$16384$8$1$!!$AA==", "scrypt$4294967296$8$1$AA==$AA=="])
def test_a_malformed_hash_never_matches(stored):
    assert not auth.check_hash("anything", stored)


def test_too_short_a_password_is_refused():
    with pytest.raises(WeakPassword):
        auth.hash_password("abc")


def test_authenticate_with_the_right_and_a_wrong_password(seeded, clock):
    with session_scope(seeded) as session:
        auth.set_password(session, _zhang(session), "zhang-secret")
    with session_scope(seeded) as session:
        assert auth.authenticate(session, "DEMO", "zhang", "zhang-secret").display_name == "张伟"
        for args in (("DEMO", "zhang", "wrong-secret"), ("DEMO", "nobody", "zhang-secret"),
                     ("NOPE", "zhang", "zhang-secret"), ("OTHER", "zhang", "zhang-secret")):
            with pytest.raises(AuthenticationFailed) as failed:
                auth.authenticate(session, *args)
            assert failed.value.code == "auth.failed"


def test_an_inactive_user_cannot_log_in(seeded, clock):
    with session_scope(seeded) as session:
        zhang = _zhang(session)
        auth.set_password(session, zhang, "zhang-secret")
        zhang.active = False
    with session_scope(seeded) as session, pytest.raises(AuthenticationFailed):
        auth.authenticate(session, "DEMO", "zhang", "zhang-secret")


def _fail(seeded, password="wrong-guess"):
    """One login attempt in its own unit of work, the failure caught inside it (so it commits)."""
    with session_scope(seeded) as session:
        try:
            auth.authenticate(session, "DEMO", "zhang", password)
            return "ok"
        except AuthenticationFailed:
            return "failed"
        except AccountLocked:
            return "locked"


def test_lockout_after_max_failures_refuses_even_the_right_password(seeded, clock):
    with session_scope(seeded) as session:
        auth.set_password(session, _zhang(session), "zhang-secret")
    results = [_fail(seeded) for _ in range(auth.MAX_FAILURES)]
    assert results == ["failed"] * auth.MAX_FAILURES
    assert _fail(seeded, "zhang-secret") == "locked"
    clock.now += auth.LOCKOUT + timedelta(seconds=1)
    assert _fail(seeded, "zhang-secret") == "ok"


def test_failures_spread_beyond_the_window_do_not_lock(seeded, clock):
    with session_scope(seeded) as session:
        auth.set_password(session, _zhang(session), "zhang-secret")
    for _ in range(auth.MAX_FAILURES + 2):
        assert _fail(seeded) == "failed"
        clock.now += auth.FAILURE_WINDOW / (auth.MAX_FAILURES - 1) + timedelta(seconds=1)


def test_a_right_password_clears_the_failure_count(seeded, clock):
    with session_scope(seeded) as session:
        auth.set_password(session, _zhang(session), "zhang-secret")
    for _ in range(auth.MAX_FAILURES - 1):
        _fail(seeded)
    assert _fail(seeded, "zhang-secret") == "ok"
    assert _fail(seeded) == "failed"
    with session_scope(seeded) as session:
        assert session.get(UserCredential, _zhang(session).id).failed_count == 1


def test_lockout_is_per_user_not_per_number_across_tenants(seeded, clock):
    """OTHER's zhang shares the number but not the lock."""
    with session_scope(seeded) as session:
        auth.set_password(session, _zhang(session), "zhang-secret")
        auth.set_password(session, _zhang(session, "OTHER"), "other-secret")
    for _ in range(auth.MAX_FAILURES):
        _fail(seeded)
    with session_scope(seeded) as session:
        assert auth.authenticate(session, "OTHER", "zhang", "other-secret").display_name == "Other Zhang"
