"""Which service code an MO was sent to, and which link carries an MT.

Each link may serve its own service codes (an SMPP link for one operator's number range,
a CMPP link for China Mobile's): an MO's destination address is the service code plus an
enterprise extension, and a reply or notification leaves by the link that serves the
address it is sent from. The longest matching code wins.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


class Router:
    def __init__(self, default_code: str, link_codes: Mapping[str, Sequence[str]] | None = None):
        self.default_code = default_code
        self.link_codes = {name: tuple(codes) for name, codes in (link_codes or {}).items()}
        self._all = sorted(
            {(code, name) for name, codes in self.link_codes.items() for code in codes},
            key=lambda pair: -len(pair[0]),
        )

    def service_code(self, link: str | None, recipient: str) -> str:
        """The service code at the front of an MO's destination address: the longest of the
        codes its link serves (or any link's, or the default) that the address starts with."""
        candidates = list(self.link_codes.get(link or "", ())) + [c for c, _ in self._all]
        candidates.append(self.default_code)
        matching = [code for code in candidates if code and recipient.startswith(code)]
        return max(matching, key=len) if matching else self.default_code

    def links_for(self, sender: str) -> tuple[str, ...]:
        """Names of the links serving the address an MT is sent from, best match first;
        empty when no link claims it (then any link may carry it)."""
        best = None
        names: list[str] = []
        for code, name in self._all:
            if sender.startswith(code):
                if best is None:
                    best = len(code)
                if len(code) == best:
                    names.append(name)
        return tuple(names)

    def choose(self, sender: str, preferred: str | None, ready: Iterable) -> object | None:
        """The link for an MT among `ready` links (bound, with a free slot): the one it
        came by when that still serves its address, else one that serves the address,
        else — when no link claims the address — the first ready link."""
        ready = list(ready)
        serving = self.links_for(sender)
        allowed = [link for link in ready if not serving or link.name in serving]
        for link in allowed:
            if link.name == preferred:
                return link
        return allowed[0] if allowed else None
