"""Socket options every merp connection wants."""
from __future__ import annotations

from twisted.internet.interfaces import ITCPTransport


def set_nodelay(transport) -> bool:
    """Turn Nagle's algorithm off (TCP_NODELAY) on a TCP transport; True when done.

    SMPP and CMPP are request/response protocols with small PDUs: with Nagle on, each
    receipt round trip stalls ~40 ms behind delayed ACKs and throughput falls by an order
    of magnitude (ARCHITECTURE.md, "Performance notes"). Transports that are not TCP
    (StringTransport in tests, a UNIX socket) are left alone, as is one already closed.
    """
    if not (ITCPTransport.providedBy(transport) or hasattr(transport, "setTcpNoDelay")):
        return False
    try:
        transport.setTcpNoDelay(True)
    except OSError:
        return False
    return True
