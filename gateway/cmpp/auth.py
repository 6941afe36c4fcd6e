"""The CMPP CONNECT authenticators (MD5) and the MMDDHHMMSS timestamp they include."""
from __future__ import annotations

import hashlib

from gateway.cmpp.pdu import result_size



def authenticator_source(source_addr: str, secret: str, timestamp: str) -> bytes:
    """MD5(Source_Addr + 9 zero octets + shared secret + MMDDHHMMSS)."""
    data = source_addr.encode("ascii") + b"\0" * 9 + secret.encode("ascii") + timestamp.encode("ascii")
    return hashlib.md5(data).digest()


def authenticator_ismg(status: int, source_auth: bytes, secret: str, version: int) -> bytes:
    """MD5(Status + AuthenticatorSource + shared secret); Status as on the wire (1 or 4 octets)."""
    status_bytes = status.to_bytes(result_size(version), "big")
    return hashlib.md5(status_bytes + source_auth + secret.encode("ascii")).digest()


def timestamp_digits(month: int, day: int, hour: int, minute: int, second: int) -> str:
    return f"{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"
