"""Cut a byte stream into whole SMPP PDUs, refusing lengths that mean a corrupt stream."""
from __future__ import annotations

import struct

HEADER_LENGTH = 16
DEFAULT_MAX_LENGTH = 64 * 1024


class FramingError(Exception):
    """command_length below the header or above the maximum: the stream cannot be trusted.

    The caller answers generic_nack ESME_RINVCMDLEN and drops the connection.
    """

    def __init__(self, length: int, sequence: int | None, message: str):
        super().__init__(message)
        self.length = length
        self.sequence = sequence  # from the bad header when it was readable, else None


def split_frames(buf: bytes, max_length: int = DEFAULT_MAX_LENGTH) -> tuple[list[bytes], bytes]:
    """Whole PDUs at the start of `buf` (header included) and the bytes left over."""
    frames: list[bytes] = []
    pos = 0
    end = len(buf)
    while end - pos >= 4:
        (length,) = struct.unpack_from(">L", buf, pos)
        if length < HEADER_LENGTH or length > max_length:
            sequence = None
            if end - pos >= HEADER_LENGTH:
                (sequence,) = struct.unpack_from(">L", buf, pos + 12)
            raise FramingError(length, sequence,
                               f"command_length {length} outside 16..{max_length}")
        if end - pos < length:
            break
        frames.append(bytes(buf[pos:pos + length]))
        pos += length
    return frames, bytes(buf[pos:])
