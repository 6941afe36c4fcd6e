"""Counters for a benchmark's processes, loaded by Python at start-up when this folder is
on PYTHONPATH (bench/README.md "Profiling"). Each process writes what it counted to
``$MERP_PROBE_DIR/<what>.<pid>`` when it exits. Off unless asked for:

- ``MERP_PROBE_GC=1``: garbage collections per generation, and the CPU (thread time)
  they took; the collector's pauses are invisible to py-spy, which charges them to
  whatever line allocated last.
- ``MERP_PROBE_SQL=1``: statements run, by text and by SQLAlchemy's compiled-cache
  outcome (a statement compiled again on every batch shows as many misses).
"""
import atexit
import collections
import os
import re
import sys
import time

_DIR = os.environ.get("MERP_PROBE_DIR", "/tmp/merp-probe")
_WHO = " ".join(sys.argv)[:100]


def _write(what: str, lines) -> None:
    os.makedirs(_DIR, exist_ok=True)
    with open(os.path.join(_DIR, f"{what}.{os.getpid()}"), "w", encoding="utf-8") as out:
        out.write(_WHO + "\n")
        out.writelines(line + "\n" for line in lines)


if os.environ.get("MERP_PROBE_GC"):
    import gc

    _runs = [[0, 0.0] for _ in range(3)]
    _started = [0.0]

    def _on_gc(phase, info):
        if phase == "start":
            _started[0] = time.thread_time()
        else:
            _runs[info["generation"]][0] += 1
            _runs[info["generation"]][1] += time.thread_time() - _started[0]

    gc.callbacks.append(_on_gc)
    atexit.register(lambda: _write("gc", (f"gen {g}: {n} collections, {cpu:.3f} s CPU"
                                          for g, (n, cpu) in enumerate(_runs))))

if os.environ.get("MERP_PROBE_SQL"):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _statements = collections.Counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _on_statement(conn, cursor, statement, parameters, context, executemany):
        text = re.sub(r"\s+", " ", statement)[:100]
        _statements[(str(getattr(context, "cache_hit", "")).rpartition(".")[2], text)] += 1

    atexit.register(lambda: _write("sql", (f"{n:8d} {cache:14s} {text}"
                                           for (cache, text), n in _statements.most_common())))
