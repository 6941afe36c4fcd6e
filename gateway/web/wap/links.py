"""Signed, expiring approval links sent by SMS: ``<base>/wap/doc/<number>?exp=..&sig=..``.

The signature covers the enterprise, the document number and the expiry, so a link
cannot be moved to another document or tenant, nor kept alive. A link is no login: the
page still asks who you are and checks your rights; the link only takes you there.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

DEFAULT_TTL = 72 * 3600


def sign(secret: bytes, enterprise_id: int, number: str, expires: int) -> str:
    message = f"doc:{enterprise_id}:{number}:{expires}".encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def approval_link(
    enterprise_id: int, number: str | int, *, secret: bytes, base_url: str,
    ttl: int = DEFAULT_TTL, now: float | None = None,
) -> str:
    """The absolute link an SMS carries to open document ``number`` of the enterprise."""
    number = str(number)
    expires = int((time.time() if now is None else now) + ttl)
    return (f"{base_url.rstrip('/')}/wap/doc/{quote(number, safe='')}"
            f"?exp={expires}&sig={sign(secret, enterprise_id, number, expires)}")


def check(secret: bytes, enterprise_id: int, number: str, expires: str | None, sig: str | None,
          now: float) -> str:
    """"ok", "expired" or "invalid" for the link parameters seen with this request."""
    if not expires or not expires.isdigit() or not sig:
        return "invalid"
    if not hmac.compare_digest(sign(secret, enterprise_id, number, int(expires)), sig):
        return "invalid"
    return "ok" if now < int(expires) else "expired"
