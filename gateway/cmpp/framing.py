"""Cut a byte stream into whole CMPP PDUs, refusing lengths that mean a corrupt stream."""
from __future__ import annotations

import struct

from gateway.cmpp.pdu import HEADER_LENGTH, max_frame_length

DEFAULT_MAX_LENGTH = max_frame_length()  # the 3.0 maximum, which covers 2.0 too


class FramingError(Exception):
    """Total_Length below the header or above the maximum: the stream cannot be trusted.

    CMPP has no generic_nack: the caller drops the connection.
    """

    def __init__(self, length: int, message: str):
        super().__init__(message)
        self.length = length


def split_frames(buf: bytes, max_length: int = DEFAULT_MAX_LENGTH) -> tuple[list[bytes], bytes]:
    """Whole PDUs at the start of `buf` (header included) and the bytes left over."""
    frames: list[bytes] = []
    pos = 0
    end = len(buf)
    while end - pos >= 4:
        (length,) = struct.unpack_from(">L", buf, pos)
        if length < HEADER_LENGTH or length > max_length:
            raise FramingError(length, f"Total_Length {length} outside {HEADER_LENGTH}..{max_length}")
        if end - pos < length:
            break
        frames.append(bytes(buf[pos:pos + length]))
        pos += length
    return frames, bytes(buf[pos:])
