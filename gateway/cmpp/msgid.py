"""The CMPP Msg_Id: 64 bits of month, day, hour, minute, second, gateway code and sequence.

Bit layout (most significant first): month 4, day 5, hour 5, minute 6, second 6,
ISMG/gateway code 22, sequence 16. The gateway uses the decimal string of the whole
uint64 as the id it stores at submit and looks up when the status report comes back.
"""
from __future__ import annotations

from dataclasses import dataclass

_FIELDS = (("month", 4), ("day", 5), ("hour", 5), ("minute", 6), ("second", 6),
           ("gateway", 22), ("sequence", 16))


@dataclass(frozen=True)
class MsgIdParts:
    month: int
    day: int
    hour: int
    minute: int
    second: int
    gateway: int
    sequence: int


def pack_msg_id(parts: MsgIdParts) -> int:
    """The uint64 Msg_Id; raises ValueError when a part does not fit its bits."""
    value = 0
    for name, bits in _FIELDS:
        part = getattr(parts, name)
        if not 0 <= part < 1 << bits:
            raise ValueError(f"Msg_Id {name} {part} does not fit in {bits} bits")
        value = (value << bits) | part
    return value


def parse_msg_id(value: int) -> MsgIdParts:
    if not 0 <= value < 1 << 64:
        raise ValueError(f"Msg_Id {value} is not a uint64")
    parts = {}
    shift = 64
    for name, bits in _FIELDS:
        shift -= bits
        parts[name] = (value >> shift) & ((1 << bits) - 1)
    return MsgIdParts(**parts)


def msg_id_text(value: int) -> str:
    """The form stored in the outbox and matched against reports: decimal of the uint64."""
    return str(value)
