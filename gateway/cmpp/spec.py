"""CMPP 2.0 and 3.0 as the specification numbers them: header layout, command ids,
statuses and results, message formats, the field sizes that differ by version, and the
error a PDU that cannot be read raises (with the Result to answer it with)."""
from __future__ import annotations

import enum
import struct

HEADER = struct.Struct(">LLL")
HEADER_LENGTH = 12
MAX_SEQUENCE = 0xFFFFFFFF
RESPONSE_BIT = 0x80000000
MAX_DESTINATIONS = 100  # DestUsr_tl
MAX_CONTENT = 140  # Msg_Length for Msg_Fmt other than 0
MAX_ASCII_CONTENT = 160  # Msg_Length for Msg_Fmt 0: the text says "<160"; ISMGs take a full 160


class Version(enum.IntEnum):
    V20 = 0x20
    V30 = 0x30


class CommandId(enum.IntEnum):
    CONNECT = 0x00000001
    CONNECT_RESP = 0x80000001
    TERMINATE = 0x00000002
    TERMINATE_RESP = 0x80000002
    SUBMIT = 0x00000004
    SUBMIT_RESP = 0x80000004
    DELIVER = 0x00000005
    DELIVER_RESP = 0x80000005
    QUERY = 0x00000006
    QUERY_RESP = 0x80000006
    CANCEL = 0x00000007
    CANCEL_RESP = 0x80000007
    ACTIVE_TEST = 0x00000008
    ACTIVE_TEST_RESP = 0x80000008


class ConnectStatus(enum.IntEnum):
    OK = 0
    BAD_STRUCTURE = 1
    BAD_SOURCE_ADDR = 2
    AUTH_FAILED = 3
    VERSION_TOO_HIGH = 4
    OTHER = 5


class Result(enum.IntEnum):
    """SUBMIT_RESP / DELIVER_RESP Result (9..13 are 3.0 additions)."""

    OK = 0
    BAD_STRUCTURE = 1
    BAD_COMMAND = 2
    DUPLICATE_SEQUENCE = 3
    BAD_LENGTH = 4
    BAD_FEE_CODE = 5
    TOO_LONG = 6
    BAD_SERVICE_ID = 7
    FLOW_CONTROL = 8
    NOT_SERVED = 9
    BAD_SRC_ID = 10
    BAD_MSG_SRC = 11
    BAD_FEE_TERMINAL = 12
    BAD_DEST_TERMINAL = 13


class MsgFmt(enum.IntEnum):
    ASCII = 0
    WRITE_CARD = 3
    BINARY = 4
    UCS2 = 8
    GBK = 15


class PduError(Exception):
    """A frame whose body cannot be read; `result` is what to answer it with."""

    def __init__(self, result: int, command_id: int, sequence: int, message: str,
                 msg_id: int = 0):
        super().__init__(message)
        self.result = result
        self.command_id = command_id
        self.sequence = sequence
        self.msg_id = msg_id  # of a DELIVER/SUBMIT when readable, for the resp


def terminal_id_size(version: int) -> int:
    return 32 if version == Version.V30 else 21


def result_size(version: int) -> int:
    return 4 if version == Version.V30 else 1


def report_size(version: int) -> int:
    """The status report in a DELIVER's Msg_Content: 60 octets in 2.0, 71 in 3.0."""
    return 8 + 7 + 10 + 10 + terminal_id_size(version) + 4
