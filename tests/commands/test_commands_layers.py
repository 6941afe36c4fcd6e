"""Layers point one way: commands/ and erpcore/ never import Twisted or gateway/."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MODULES = [
    "commands", "commands.help", "commands.stock", "commands.registry", "commands.normalize",
    "commands.length", "commands.replies", "erpcore.db", "erpcore.models", "erpcore.demo",
]


def test_commands_and_erpcore_load_without_twisted_or_gateway():
    probe = (
        "import sys\n"
        f"for name in {MODULES!r}: __import__(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('twisted', 'gateway'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""
