"""A gateway as a real child process (`merp run`), so a test can SIGKILL it mid-stream."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from twisted.internet import defer, protocol, reactor

ROOT = Path(__file__).resolve().parents[2]


def write_config(path: Path, url: str, smpp_port: int, lease: float = 2.0) -> Path:
    path.write_text(
        "[gateway]\n"
        f"database = {url}\n"
        "log_level = warn\n"
        "[inbox]\n"
        f"lease = {lease}\n"
        "[outbox]\n"
        f"lease = {lease}\n"
        "retry_initial = 0.2\n"
        "poll_interval = 0.2\n"
        "[link:sim]\n"
        f"endpoint = tcp:host=127.0.0.1:port={smpp_port}\n"
        "reconnect_initial = 0.2\n"
        "reconnect_max = 1\n",
        encoding="utf-8",
    )
    return path


class _Watch(protocol.ProcessProtocol):
    def __init__(self):
        self.ended = defer.Deferred()
        self.output = bytearray()

    def outReceived(self, data):
        self.output += data

    errReceived = outReceived

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode if hasattr(reason.value, "exitCode") else None)


class GatewayProcess:
    def __init__(self, config: Path):
        self.config = config
        self.watch: _Watch | None = None
        self.transport = None

    def start(self) -> None:
        self.watch = _Watch()
        args = [sys.executable, "-m", "gateway.cli", "run", "-c", str(self.config)]
        self.transport = reactor.spawnProcess(
            self.watch, sys.executable, args, env=dict(os.environ), path=str(ROOT)
        )

    def kill(self) -> defer.Deferred:
        """SIGKILL: no shutdown code runs, exactly like a crash or a power cut."""
        self.transport.signalProcess("KILL")
        return self.watch.ended

    def stop(self) -> defer.Deferred:
        if self.watch.ended.called:
            return defer.succeed(None)
        self.transport.signalProcess("TERM")
        return self.watch.ended

    @property
    def log(self) -> str:
        return self.watch.output.decode("utf-8", "replace") if self.watch else ""
