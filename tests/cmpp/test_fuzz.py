"""Random bytes into the CMPP framer, the SP protocol and the ISMG protocol never crash them:
a bad stream ends in a clear error or a dropped connection."""
from __future__ import annotations

import struct

from hypothesis import given, settings, strategies as st
from twisted.internet import task
from twisted.internet.testing import StringTransport

from gateway.cmpp.framing import FramingError, split_frames
from gateway.cmpp.pdu import CommandId, PduError, decode
from sim.ismg import Ismg, IsmgSettings
from sim.ismg_session import IsmgFactory
from tests.cmpp.helpers import FakeIsmgEnd

# Plausible headers make the fuzzing reach the body decoders, not only the length check.
headers = st.builds(
    lambda length, cid, seq, body: struct.pack(">III", 12 + len(body) if length else 12 + length,
                                                cid, seq) + body,
    st.integers(0, 1), st.sampled_from([int(c) for c in CommandId] + [0, 0x99]),
    st.integers(0, 2**32 - 1), st.binary(max_size=300))
streams = st.lists(st.one_of(st.binary(max_size=200), headers), max_size=8).map(b"".join)


@given(streams, st.sampled_from([0x20, 0x30]))
@settings(max_examples=300, deadline=None)
def test_the_framer_and_decoder_give_frames_or_clear_errors(data, version):
    try:
        frames, rest = split_frames(data)
    except FramingError:
        return
    assert sum(map(len, frames)) + len(rest) == len(data)
    for frame in frames:
        try:
            decode(frame, version)
        except PduError:
            pass


@given(streams, st.integers(1, 50), st.sampled_from([0x20, 0x30]))
@settings(max_examples=200, deadline=None)
def test_the_sp_protocol_survives_random_bytes_after_connecting(data, chunk, version):
    end = FakeIsmgEnd(version=version)
    end.accept_connect()
    for i in range(0, len(data), chunk):
        end.protocol.dataReceived(data[i:i + chunk])
    end.clock.advance(1000)


@given(streams, st.integers(1, 50))
@settings(max_examples=200, deadline=None)
def test_the_ismg_protocol_survives_random_bytes(data, chunk):
    ismg = Ismg(task.Clock(), IsmgSettings(seed=1))
    protocol = IsmgFactory(ismg).buildProtocol(None)
    protocol.makeConnection(StringTransport())
    for i in range(0, len(data), chunk):
        protocol.dataReceived(data[i:i + chunk])
    ismg.clock.advance(1000)
