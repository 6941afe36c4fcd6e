#!/usr/bin/env python3
"""Benchmark of the WAP pending-approvals page: the pages (Twisted, web thread pool,
SQLite) in one process, 200 keep-alive HTTP clients in another, on loopback. Prints
pages/s and latency percentiles (target: >= 1,000 pages/s, p99 < 200 ms).

    python3 bench/wap_pages.py                      # 200 clients, 10 s, WML
    python3 bench/wap_pages.py --clients 50 --seconds 5 --fmt html
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def serve(url: str, port: int, threads: int) -> None:
    """The server side: the WAP pages on 127.0.0.1:port over a migrated, seeded database."""
    from twisted.internet import reactor
    from twisted.python.threadpool import ThreadPool
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    from erpcore import db
    from gateway.web.wap.resource import WapPages

    maker = db.make_sessionmaker(db.make_engine(url))
    pool = ThreadPool(minthreads=threads, maxthreads=threads, name="wap-bench")
    pool.start()
    root = Resource()
    root.putChild(b"wap", WapPages(maker, reactor, pool, secret=b"bench"))
    site = Site(root)
    site.noisy = False
    site.log = lambda request: None  # no access log in the measurement
    reactor.listenTCP(port, site, backlog=1024, interface="127.0.0.1")
    print("ready", flush=True)
    reactor.addSystemEventTrigger("before", "shutdown", pool.stop)
    reactor.run()


def seed(url: str) -> None:
    from erpcore import db
    from erpcore.db import session_scope
    from tests.web.world import build

    db.upgrade(url)
    with session_scope(db.make_sessionmaker(db.make_engine(url))) as session:
        build(session)


async def _request(reader, writer, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    method = "POST" if body is not None else "GET"
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/vnd.wap.wml\r\n"
    if body is not None:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + (body or b""))
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return int(status_line.split()[1]), await reader.readexactly(length)


async def load(port: int, clients: int, seconds: float, fmt: str) -> None:
    from urllib.parse import urlencode

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _, form = await _request(reader, writer, f"/wap/?fmt={fmt}")
    token = re.search(rb'name="t" value="([^"]+)"', form).group(1).decode()
    body = urlencode({"ent": "DEMO", "user": "smith", "pw": "smith-pass", "t": token}).encode()
    _, menu = await _request(reader, writer, f"/wap/login?fmt={fmt}", body)
    session = re.search(rb"[?;]s=([A-Za-z0-9_-]+)", menu).group(1).decode()
    writer.close()
    path = f"/wap/pending?fmt={fmt}&s={session}"
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client():
        nonlocal errors
        r, w = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, page = await _request(r, w, path)
            latencies.append(time.perf_counter() - started)
            if status != 200 or b"waiting" not in page:
                errors += 1
        w.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    print(f"pending-approvals page ({fmt}), {clients} concurrent clients, {elapsed:.1f} s")
    print(f"  pages:   {len(latencies)}  errors: {errors}")
    print(f"  rate:    {len(latencies) / elapsed:.0f} pages/s   (target >= 1000)")
    print(f"  latency: p50 {pct(0.50):.1f} ms  p90 {pct(0.90):.1f} ms  p99 {pct(0.99):.1f} ms"
          f"  max {1000 * latencies[-1]:.1f} ms   (target p99 < 200 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--fmt", choices=("wml", "xhtml", "html"), default="wml")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.threads)
        return
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'wap.db'}"
        seed(url)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port),
                                   "--threads", str(args.threads)], stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert server.stdout.readline().strip() == "ready"
            asyncio.run(load(port, args.clients, args.seconds, args.fmt))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
