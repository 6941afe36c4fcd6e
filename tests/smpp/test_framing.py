"""split_frames: the same PDUs at any split of the stream; refuses corrupt lengths."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smpp.framing import FramingError, split_frames
from gateway.smpp.pdu import CommandId, Pdu, Sm, SmResp, encode

STREAM = b"".join([
    encode(Pdu(CommandId.ENQUIRE_LINK, 1)),
    encode(Pdu(CommandId.DELIVER_SM, 2, 0, Sm(source_addr="861", short_message=b"hello"))),
    encode(Pdu(CommandId.SUBMIT_SM_RESP, 3, 0, SmResp("abc"))),
])
FRAMES = split_frames(STREAM)[0]


def feed(chunks):
    out, rest = [], b""
    for chunk in chunks:
        frames, rest = split_frames(rest + chunk)
        out.extend(frames)
    return out, rest


def test_whole_stream_splits_into_its_three_pdus():
    frames, rest = split_frames(STREAM)
    assert len(frames) == 3 and rest == b""
    assert b"".join(frames) == STREAM


def test_one_byte_at_a_time_yields_the_same_pdus():
    out, rest = feed([STREAM[i:i + 1] for i in range(len(STREAM))])
    assert out == FRAMES and rest == b""


@pytest.mark.parametrize("offset", range(1, len(STREAM)))
def test_every_split_offset_yields_the_same_pdus(offset):
    out, rest = feed([STREAM[:offset], STREAM[offset:]])
    assert out == FRAMES and rest == b""


def test_partial_header_and_partial_body_are_kept_as_rest():
    frames, rest = split_frames(STREAM[:3])
    assert frames == [] and rest == STREAM[:3]
    frames, rest = split_frames(STREAM[:20])
    assert frames == [FRAMES[0]] and rest == STREAM[16:20]


@pytest.mark.parametrize("length", [0, 1, 15])
def test_length_below_the_header_is_a_corrupt_stream(length):
    with pytest.raises(FramingError) as info:
        split_frames(struct.pack(">LLLL", length, 0x15, 0, 9))
    assert info.value.length == length and info.value.sequence == 9


def test_length_above_the_maximum_is_refused_before_the_body_arrives():
    with pytest.raises(FramingError):
        split_frames(struct.pack(">L", 1025), max_length=1024)
    frames, rest = split_frames(struct.pack(">L", 1024), max_length=1024)
    assert frames == [] and len(rest) == 4


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=16, max_value=4096))
def test_random_bytes_never_crash_the_framer(data, max_length):
    try:
        frames, rest = split_frames(data, max_length)
    except FramingError:
        return
    assert b"".join(frames) + rest == data
    assert all(16 <= len(f) <= max_length for f in frames)
