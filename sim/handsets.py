"""Virtual handsets: a number with an inbox.

The simulator gives every complete message that the gateway submits to the handset it is
addressed to; the control API, the phone console and the load runner read the inbox (or
listen to it) instead of speaking SMPP themselves.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

#: Messages a handset keeps (the newest). A real phone's inbox is bounded too; without a
#: bound a long load run kept every reply (~1.4 a command) for the whole run, and each
#: full garbage collection walked them all.
KEEP = 1000


@dataclass(frozen=True)
class HandsetMessage:
    """One complete (reassembled) message as the handset shows it."""

    seq: int  # 1-based, per handset, increasing: the long-poll cursor
    sender: str
    text: str
    time: float  # clock.seconds() when it arrived

    def as_json(self) -> dict:
        return {"seq": self.seq, "from": self.sender, "text": self.text, "time": self.time}


Listener = Callable[["Handset", HandsetMessage], None]


class Handset:
    """A phone number and the newest `KEEP` messages it has received, in order. Sequence
    numbers go on counting past the ones dropped, so a reader's cursor stays valid."""

    def __init__(self, msisdn: str, keep: int = KEEP):
        self.msisdn = msisdn
        self.inbox: deque[HandsetMessage] = deque(maxlen=keep)
        self.last_seq = 0  # of the newest message: every message ever received counts
        self._listeners: list[Listener] = []

    def receive(self, sender: str, text: str, time: float) -> HandsetMessage:
        """Store a message and tell the listeners (a copy of the list: they may unsubscribe)."""
        self.last_seq += 1
        message = HandsetMessage(self.last_seq, sender, text, time)
        self.inbox.append(message)
        for listener in list(self._listeners):
            listener(self, message)
        return message

    def messages_after(self, seq: int) -> list[HandsetMessage]:
        """Kept messages with a sequence number above `seq`."""
        first_kept = self.last_seq - len(self.inbox) + 1
        return list(islice(self.inbox, max(seq + 1 - first_kept, 0), None))

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)


class Phonebook:
    """Every handset the simulator knows, created on first use.

    Phonebook listeners hear about messages to any handset (the load runner uses this).
    """

    def __init__(self):
        self._handsets: dict[str, Handset] = {}
        self._listeners: list[Listener] = []

    def get(self, msisdn: str) -> Handset:
        handset = self._handsets.get(msisdn)
        if handset is None:
            handset = Handset(msisdn)
            handset.add_listener(self._notify)
            self._handsets[msisdn] = handset
        return handset

    def __contains__(self, msisdn: str) -> bool:
        return msisdn in self._handsets

    def __len__(self) -> int:
        return len(self._handsets)

    def deliver(self, msisdn: str, sender: str, text: str, time: float) -> HandsetMessage:
        """Give a complete message to the handset `msisdn` (created if new)."""
        return self.get(msisdn).receive(sender, text, time)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, handset: Handset, message: HandsetMessage) -> None:
        for listener in list(self._listeners):
            listener(handset, message)
