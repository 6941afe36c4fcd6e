"""The table of commands: their words in three forms, usage texts and handlers.

Every command has an English keyword, a pinyin abbreviation and a Chinese word
(PRODUCT.md section 2), plus optional extra aliases (``?`` for HELP). A Chinese word, or
any alias that does not end in an ASCII letter or digit, may be typed glued to its first
argument (``库存X100``, ``?KC``): the boundary cannot be mistaken there, while ``KCX100``
could be a keyword of its own and is not split.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from commands import replies
from commands.normalize import fold, split_args

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from erpcore.tenants import Enterprise
    from erpcore.users import User

SUGGESTION_CUTOFF = 0.6


@dataclass(frozen=True)
class Reply:
    """What a handler answers; ``ok`` is False when the request was refused."""

    text: str
    ok: bool = True


@dataclass(frozen=True)
class Context:
    """Who is asking, in which enterprise and language, with the session to work in."""

    session: Session
    enterprise: Enterprise
    user: User
    lang: str
    registry: Registry
    options: Options = None  # type: ignore[assignment]  # handle() always passes one

    def t(self, key: str, **values: object) -> str:
        return replies.text(key, self.lang, **values)


Handler = Callable[[Context, list[str]], Reply]


@dataclass(frozen=True)
class Options:
    """Deployment choices the gateway passes in (gateway.config [commands])."""

    # Approving an order whose total is at least this needs the approver's PIN
    # (``Y 1001 PIN``); None = never.
    pin_above: Decimal | None = None
    # Local time (hours east of UTC) of enterprises that set none of their own
    # (gateway.config [notify] utc_offset_hours): dates in replies are shown in it.
    utc_offset_hours: float = 8.0


@dataclass(frozen=True)
class Group:
    """A writing command split so that a dispatcher batch can carry out many at once: ``plan``
    checks and reads (no writes; a Reply refuses), ``carry_out`` writes the plans of many
    users and enterprises in one set of statements, all or none, and ``answer`` words each
    result. The command's handler is the same three steps for one plan (commands.groups),
    so both paths share every check and every word."""

    plan: Callable[[Context, list[str]], object]
    carry_out: Callable[[Session, list[tuple[Context, object]]], list[object]]
    answer: Callable[[Context, object, object], Reply]
    # What a command would change that the next such command to the same enterprise may
    # read (APPROVE: the order numbered): one touching what a waiting plan touches waits
    # for the carrying out; None (ORDER): no plan reads what another writes.
    touches: Callable[[Context, list[str]], Hashable] | None = None
    # What carrying out locks that a batch may need in more than one round, locked for
    # the batch's enterprises before its first round (ORDER: their document numbers), so
    # that two batches at once take those rows in one order, not each some of them and
    # then the other's (a deadlock). None: nothing to lock ahead.
    hold: Callable[[Session, list[int]], None] | None = None


@dataclass(frozen=True)
class Command:
    name: str  # the English keyword, upper case: "STOCK"
    pinyin: str  # "KC"
    chinese: str  # "库存"
    handler: Handler
    synopsis: dict[str, str]  # per language, one line: "STOCK <item> [site]"
    usage: dict[str, str]  # per language, synopsis plus what it does and an example
    aliases: tuple[str, ...] = ()
    min_args: int = 0
    max_args: int | None = None
    # The erpcore.services module that must be open for the command (None: always runs).
    module: str | None = None
    # True when the handler writes: it then runs in a savepoint that an error rolls back.
    writes: bool = False
    # How a batch of MOs carries out many of these commands together (None: one by one).
    group: Group | None = None

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, self.pinyin, self.chinese, *self.aliases)

    def label(self, lang: str) -> str:
        """How HELP names the command to a reader of ``lang``."""
        return self.chinese if lang == "zh" else self.name

    def accepts(self, args: list[str]) -> bool:
        return len(args) >= self.min_args and (self.max_args is None or len(args) <= self.max_args)


@dataclass(frozen=True)
class Parsed:
    """A message split into its command (None if unknown), the word typed, and arguments."""

    command: Command | None
    word: str
    args: list[str] = field(default_factory=list)


class Registry:
    """Commands by every word that names them."""

    def __init__(self, commands: Iterable[Command] = ()):
        self._commands: list[Command] = []
        self._by_word: dict[str, Command] = {}
        for command in commands:
            self.register(command)

    def register(self, command: Command) -> None:
        for word in command.words:
            key = fold(word)
            if key in self._by_word:
                raise ValueError(f"{word!r} already names {self._by_word[key].name}")
            self._by_word[key] = command
        self._commands.append(command)

    @property
    def commands(self) -> tuple[Command, ...]:
        return tuple(self._commands)

    def lookup(self, word: str) -> Command | None:
        return self._by_word.get(fold(word))

    def parse(self, text: str) -> Parsed:
        words = split_args(text)
        if not words:
            return Parsed(None, "")
        first, rest = words[0], words[1:]
        command = self.lookup(first)
        if command is not None:
            return Parsed(command, first, rest)
        folded = fold(first)
        for alias in self._gluable_aliases():
            if folded.startswith(alias) and len(folded) > len(alias):
                return Parsed(self._by_word[alias], first[: len(alias)], [first[len(alias):], *rest])
        return Parsed(None, first, rest)

    def suggest(self, word: str) -> str | None:
        """The alias closest to a mistyped word (difflib), as it is normally written."""
        spelled = {fold(w): w for command in self._commands for w in command.words}
        close = difflib.get_close_matches(fold(word), list(spelled), n=1, cutoff=SUGGESTION_CUTOFF)
        return spelled[close[0]] if close else None

    def _gluable_aliases(self) -> list[str]:
        """Folded aliases that may touch their argument, longest first."""
        glued = [key for key in self._by_word if not (key[-1].isascii() and key[-1].isalnum())]
        return sorted(glued, key=len, reverse=True)
