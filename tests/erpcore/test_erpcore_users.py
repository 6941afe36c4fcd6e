"""Users and MSISDN binding: one number, however it is written, is one user per tenant."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from erpcore.tenants import Enterprise, find_by_extension
from erpcore.users import InvalidMsisdn, User, effective_lang, find_by_msisdn, normalize_msisdn


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("13800000001", "13800000001"),
        ("+8613800000001", "13800000001"),
        ("8613800000001", "13800000001"),
        ("008613800000001", "13800000001"),
        ("+86 138-0000-0001", "13800000001"),
        ("+447700900123", "447700900123"),  # foreign numbers keep their country code
        ("861380000000", "861380000000"),  # 86 + 10 digits is not a Chinese mobile
        ("01012345678", "01012345678"),  # a Beijing fixed line stays as it is
    ],
)
def test_msisdn_normalisation(raw, canonical):
    assert normalize_msisdn(raw) == canonical


@pytest.mark.parametrize("raw", ["", "+", "abc", "138abc", "１３８００００００01", "1" * 21])
def test_text_that_is_not_a_phone_number_is_refused(raw):
    with pytest.raises(InvalidMsisdn):
        normalize_msisdn(raw)


def _demo(session) -> Enterprise:
    return find_by_extension(session, "01")


@pytest.mark.parametrize("sender", ["13800000001", "+8613800000001", "008613800000001"])
def test_find_by_msisdn_accepts_any_spelling_of_the_number(session, sender):
    user = find_by_msisdn(session, _demo(session).id, sender)
    assert user is not None and user.username == "zhang" and user.enterprise.code == "DEMO"


def test_find_by_msisdn_is_scoped_to_the_enterprise(session):
    other = find_by_extension(session, "02")
    assert find_by_msisdn(session, other.id, "13800000001").display_name == "Other Zhang"
    assert find_by_msisdn(session, other.id, "13800000002") is None


def test_find_by_msisdn_returns_none_for_garbage(session):
    assert find_by_msisdn(session, _demo(session).id, "not a number") is None


def test_numbers_are_stored_normalised(session):
    demo = _demo(session)
    session.add(User(enterprise_id=demo.id, username="new", display_name="N", msisdn="+8613900000009"))
    session.flush()
    assert session.scalars(select(User.msisdn).where(User.username == "new")).one() == "13900000009"


def test_one_number_binds_one_user_per_enterprise(session):
    demo = _demo(session)
    session.add(User(enterprise_id=demo.id, username="dup", display_name="D", msisdn="+8613800000001"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_language_falls_back_from_user_to_enterprise_to_chinese(session):
    demo, other = _demo(session), find_by_extension(session, "02")
    assert effective_lang(find_by_msisdn(session, demo.id, "13800000002"), demo) == "en"
    assert effective_lang(find_by_msisdn(session, other.id, "13800000001"), other) == "en"
    assert effective_lang(None, None) == "zh"


def test_find_by_extension(session):
    assert find_by_extension(session, "01").code == "DEMO"
    assert find_by_extension(session, "99") is None
    assert find_by_extension(session, "") is None
