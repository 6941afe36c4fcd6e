"""Compact numbers, dates, names and order summaries for replies and notifications.

SMS room is scarce: amounts drop ".00", dates drop the year (``03-05 14:20``, in the
enterprise's local time), an order is summarised by its first line (``X100x2 +1``).
English texts keep to the GSM alphabet.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from commands.registry import Context

from erpcore.items import Item
from erpcore.orders import Order
from erpcore.sites import Site
from erpcore.users import User


def money(amount: Decimal | int | None) -> str:
    """``4999`` for 4999.00, ``12.50`` otherwise."""
    value = Decimal(amount or 0)
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value:.2f}"


def when(at: datetime | None, utc_offset_hours: float = 0.0) -> str:
    """A stored (UTC) time as the reader's local ``03-05 14:20``."""
    return (at + timedelta(hours=utc_offset_hours)).strftime("%m-%d %H:%M") if at is not None else ""


def utc_offset_hours(ctx: Context) -> float:
    """The asking enterprise's local time: its own offset, else the gateway's."""
    own = ctx.enterprise.utc_offset_minutes
    if own is not None:
        return own / 60
    return ctx.options.utc_offset_hours if ctx.options is not None else 0.0


def number_arg(text: str) -> str | None:
    """A document or task number as typed (``1001``, ``#1001``, ``NO.1001``); None if not one."""
    digits = text.strip().lstrip("#").upper().removeprefix("NO.").removeprefix("NO")
    return digits if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None


def whole(text: str) -> int | None:
    """A positive whole number as typed, or None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


def sentences(lang: str, *parts: str) -> str:
    """Sentences one after another: spaced in English, not after a Chinese full stop."""
    return ("" if lang == "zh" else " ").join(part for part in parts if part)


def user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user is not None else "?"


def site_name(site: Site | None, lang: str) -> str:
    if site is None:
        return "?"
    return site.code if lang == "en" else site.name


def lines_summary(session: Session, order: Order) -> str:
    """``X100x2`` for one line, ``X100x2 +1`` when more follow."""
    lines = list(order.lines)
    if not lines:
        return "-"
    first = lines[0]
    item = session.get(Item, first.item_id)
    text = f"{item.sku if item else '?'}x{first.quantity}"
    return text if len(lines) == 1 else f"{text} +{len(lines) - 1}"
