"""Fixed-width CMPP fields: octet strings padded with NUL, big-endian unsigned integers.
The writer refuses a value that does not fit; the reader raises PduError (with the
PDU's command id, sequence and, once read, its Msg_Id) when the body ends early."""
from __future__ import annotations

from gateway.cmpp.spec import PduError, Result


class FieldWriter:
    def __init__(self, command_id: int):
        self.command_id = command_id
        self.parts: list[bytes] = []

    def octets(self, value: str | bytes, size: int, name: str) -> None:
        raw = value.encode("ascii") if isinstance(value, str) else value
        if len(raw) > size:
            raise ValueError(f"{name} longer than {size} octets: {value!r}")
        self.parts.append(raw.ljust(size, b"\0"))

    def uint(self, value: int, size: int, name: str) -> None:
        if not 0 <= value < 1 << (8 * size):
            raise ValueError(f"{name} out of range for {size} octets: {value}")
        self.parts.append(value.to_bytes(size, "big"))

    def raw(self, data: bytes) -> None:
        self.parts.append(data)

    def bytes(self) -> bytes:
        return b"".join(self.parts)


class FieldReader:
    def __init__(self, data: bytes, command_id: int, sequence: int):
        self.data = data
        self.pos = 0
        self.command_id = command_id
        self.sequence = sequence
        self.msg_id = 0

    def fail(self, message: str, result: int = Result.BAD_STRUCTURE) -> PduError:
        return PduError(result, self.command_id, self.sequence, message, self.msg_id)

    def take(self, size: int, name: str) -> bytes:
        if self.pos + size > len(self.data):
            raise self.fail(f"body ends inside {name}")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def text(self, size: int, name: str) -> str:
        return self.take(size, name).split(b"\0", 1)[0].decode("ascii", errors="replace")

    def uint(self, size: int, name: str) -> int:
        return int.from_bytes(self.take(size, name), "big")

    def done(self) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} octets after the last field")
