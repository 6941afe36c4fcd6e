"""One side of a sync pairing, in plain blocking code: its database, its role, its scope
(the enterprise) and its synced tables. Everything the daemons schedule, and everything
the HTTP endpoints answer, is one call here, each its own transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from sync import apply, digest, sender
from sync.clock import now_ms
from sync.models import DIRTY, SENT, MirrorRow
from sync.scan import FULL, ScanReport, Scanner
from sync.spec import Role

M = MirrorRow.__table__


class UnknownTable(LookupError):
    """A request named a table this pairing does not sync."""


@dataclass
class SideSettings:
    chunk_rows: int = 500      # rows per data request
    batch_rows: int = 5000     # rows per batch
    scan_chunk: int = 5000     # rows per scan query


@dataclass
class Side:
    engine: Engine
    role: Role
    scope: str
    sources: dict = field(default_factory=dict)  # table name -> source
    settings: SideSettings = field(default_factory=SideSettings)

    def source(self, table: str):
        try:
            return self.sources[table]
        except KeyError:
            raise UnknownTable(f"table {table!r} is not synced here") from None

    # -- scans -------------------------------------------------------------------------
    def scanner(self, table: str, mode: str = FULL) -> Scanner:
        """A scan of one table, to be run a chunk at a time with `scan_step`."""
        return Scanner(self.source(table), self.scope, mode, self.settings.scan_chunk, now_ms())

    def scan_step(self, scanner: Scanner) -> bool:
        """One chunk of a scan in its own transaction; True while there is more."""
        with self.engine.begin() as conn:
            return scanner.step(conn)

    def scan(self, table: str, mode: str = FULL) -> ScanReport:
        """A whole scan in this thread, each chunk's marks committed on their own."""
        scanner = self.scanner(table, mode)
        while self.scan_step(scanner):
            pass
        return scanner.report

    # -- sending -----------------------------------------------------------------------
    def pending_batches(self, table: str) -> list[sender.Batch]:
        with self.engine.connect() as conn:
            return sender.pending_batches(conn, self.scope, table)

    def claim(self, table: str, after_id: int = 0) -> sender.Batch | None:
        with self.engine.begin() as conn:
            return sender.claim_batch(conn, self.scope, table, self.settings.batch_rows,
                                      self.settings.chunk_rows, after_id=after_id)

    def chunk(self, table: str, batch_id: str, seq: int) -> list[dict]:
        with self.engine.begin() as conn:
            return sender.chunk_rows(conn, self.source(table), self.scope, batch_id, seq)

    def take(self, table: str, batch_id: str, results: list[dict],
             outcome: sender.Outcome | None = None) -> sender.Outcome:
        with self.engine.begin() as conn:
            return sender.take_results(conn, self.source(table), self.scope, batch_id, results,
                                       outcome)

    def backlog(self) -> tuple[int, int | None]:
        """(rows waiting to be sent or confirmed, ms timestamp of the oldest)."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(select(func.count(), func.min(M.c.changed_ms)).where(
                M.c.scope == self.scope, M.c.flag.in_([DIRTY, SENT]))).one()
        return int(count), oldest

    # -- receiving ---------------------------------------------------------------------
    def received(self, batch_id: str) -> list[int]:
        with self.engine.connect() as conn:
            return apply.received_seqs(conn, self.scope, batch_id)

    def receive(self, table: str, batch_id: str, seq: int, rows: list[dict]) -> list[dict]:
        source = self.source(table)
        with self.engine.begin() as conn:
            return apply.apply_chunk(conn, source, self.role, self.scope, batch_id, seq, rows)

    def results(self, batch_id: str, seq: int) -> list[dict] | None:
        with self.engine.connect() as conn:
            return apply.stored_results(conn, self.scope, batch_id, seq)

    # -- full sync ---------------------------------------------------------------------
    def digest_pass(self, table: str, buckets: int, wanted: list[int] | None = None,
                    keep_rows: bool = False) -> digest.DigestPass:
        """A pass over one table for the full sync, to be run with `digest_step`."""
        return digest.DigestPass(self.source(table), buckets, wanted, keep_rows,
                                 self.settings.scan_chunk)

    def digest_step(self, digest_pass: digest.DigestPass) -> bool:
        """One chunk of a digest pass; True while there is more."""
        with self.engine.connect() as conn:
            return digest_pass.step(conn)

    def mark_differing(self, table: str, theirs: dict[str, str], buckets: int,
                       wanted: list[int], ours: dict | None = None) -> int:
        with self.engine.begin() as conn:
            return digest.mark_differing(conn, self.source(table), self.scope, buckets, wanted,
                                         theirs, ours)
