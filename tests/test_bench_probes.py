"""bench/probes: the counters a benchmark's processes write when asked for."""
import os
import subprocess
import sys
from pathlib import Path

PROBES = Path(__file__).resolve().parent.parent / "bench" / "probes"

_WORK = """
import gc
from sqlalchemy import create_engine, text
gc.collect(); gc.collect(1)
engine = create_engine("sqlite://")
with engine.connect() as conn:
    for _ in range(3):
        conn.execute(text("SELECT 1"))
"""


def _run(tmp_path, **env):
    subprocess.run([sys.executable, "-c", _WORK], check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(PROBES), "MERP_PROBE_DIR": str(tmp_path), **env})
    return {path.name.partition(".")[0]: path.read_text(encoding="utf-8") for path in tmp_path.iterdir()}


def test_counts_collections_and_statements_when_asked(tmp_path):
    written = _run(tmp_path, MERP_PROBE_GC="1", MERP_PROBE_SQL="1")

    gc_lines = written["gc"].splitlines()[1:]
    assert [line.split(":")[0] for line in gc_lines] == ["gen 0", "gen 1", "gen 2"]
    assert int(gc_lines[2].split()[2]) >= 1  # the full collection the script asked for
    sql_lines = written["sql"].splitlines()[1:]
    assert sorted(line.split() for line in sql_lines) == [["1", "CACHE_MISS", "SELECT", "1"],
                                                          ["2", "CACHE_HIT", "SELECT", "1"]]


def test_writes_nothing_unless_asked(tmp_path):
    assert _run(tmp_path) == {}
