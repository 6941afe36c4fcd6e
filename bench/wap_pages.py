#!/usr/bin/env python3
"""Benchmark of the WAP pending-approvals page: the pages (Twisted, web thread pool,
SQLite) in one process, N keep-alive HTTP clients in another, on loopback, each client
logged in as its own manager (seed 004: 200 concurrent users). Prints pages/s, latency
percentiles and the server's CPU time per page (target: >= 1,000 pages/s, p99 < 200 ms).

    python3 bench/wap_pages.py                        # 200 managers, 10 s, WML
    python3 bench/wap_pages.py --churn 1              # an order submitted and one approved each second
    python3 bench/wap_pages.py --ttl 0                # no pending-page cache at all
    python3 bench/wap_pages.py --clients 50 --seconds 5 --fmt html
    python3 bench/wap_pages.py --cold                 # the 200 first pages inside the measurement

Before the clock starts every manager logs in and (unless --cold) opens the list once.

``--churn`` runs a writer inside the server process that submits an order and approves
the oldest one R times a second, so every manager's cached list is invalidated 2R times a
second (what SMS approvals do to a busy enterprise).
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
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MANAGER_PASSWORD = "smith-pass"


def serve(url: str, port: int, threads: int, ttl: float | None, churn: float, default_gc: bool) -> None:
    """The server side: the WAP pages on 127.0.0.1:port over a migrated, seeded database."""
    from twisted.internet import reactor
    from twisted.python.threadpool import ThreadPool
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    from erpcore import db
    from gateway import runner
    from gateway.web.wap.resource import WapPages

    # As `merp run` does: a short GIL switch interval, so the reactor serving cached pages
    # is not held 5 ms behind a thread rebuilding one.
    sys.setswitchinterval(getattr(runner, "GIL_SWITCH_INTERVAL", sys.getswitchinterval()))
    maker = db.make_sessionmaker(db.make_engine(url))
    pool = ThreadPool(minthreads=threads, maxthreads=threads, name="wap-bench")
    pool.start()
    root = Resource()
    pages = WapPages(maker, reactor, pool, secret=b"bench",
                     **({"pending_ttl": ttl} if ttl is not None else {}))
    root.putChild(b"wap", pages)
    site = Site(root)
    site.noisy = False
    site.log = lambda request: None  # no access log in the measurement
    reactor.listenTCP(port, site, backlog=1024, interface="127.0.0.1")
    if churn > 0:
        _start_churn(reactor, pool, maker, churn)
    print("ready", flush=True)
    cache = pages.pending_cache
    reactor.addSystemEventTrigger("before", "shutdown", lambda: print(
        f"  cache:   {cache.hits} hits, {cache.misses} misses "
        f"({100 * cache.hits / max(1, cache.hits + cache.misses):.1f}% hits, warm-up included)", flush=True))
    if not default_gc:  # as `merp run` does once it has started
        _settle_heap(runner)
    pauses = _watch_gc()
    reactor.addSystemEventTrigger("before", "shutdown", lambda: print(
        "  GC:      " + "; ".join(
            f"gen {g}: {len(p)} runs, {1000 * sum(c for _w, c in p):.0f} ms CPU in all,"
            f" max {1000 * max((w for w, _c in p), default=0):.1f} ms"
            f" ({1000 * max((c for _w, c in p), default=0):.1f} CPU)"
            for g, p in enumerate(pauses)), flush=True))
    reactor.addSystemEventTrigger("before", "shutdown", pool.stop)
    reactor.run()


def _settle_heap(runner) -> None:
    """gateway.heap.settle where the tree measured has it (older trees: the runner's freeze)."""
    try:
        from gateway import heap
    except ImportError:
        getattr(runner, "freeze_start_up_heap", lambda: None)()
    else:
        heap.settle()


def _watch_gc() -> list[list[tuple[float, float]]]:
    """(wall, CPU) seconds of each garbage collection, per generation (server side, from
    start-up on). A collection holds the GIL throughout, so its CPU time is its own."""
    import gc

    pauses: list[list[tuple[float, float]]] = [[], [], []]
    started = [0.0, 0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = time.perf_counter(), time.thread_time()
        else:
            pauses[info["generation"]].append(
                (time.perf_counter() - started[0], time.thread_time() - started[1]))

    gc.callbacks.append(watch)
    return pauses


def _start_churn(reactor, pool, maker, rate: float) -> None:
    """Every 1/rate s, on the web pool: zhang submits an order, smith approves the oldest."""
    from sqlalchemy import select
    from twisted.internet.task import LoopingCall
    from twisted.internet.threads import deferToThreadPool

    from erpcore import approvals, orders
    from erpcore.db import session_scope
    from erpcore.items import Item
    from erpcore.orders import LineIn
    from erpcore.sites import Site as ErpSite
    from erpcore.tenants import Enterprise
    from erpcore.users import User

    with session_scope(maker) as s:
        demo = s.scalars(select(Enterprise.id).where(Enterprise.code == "DEMO")).one()
        ids = dict(s.execute(select(User.username, User.id).where(User.enterprise_id == demo)).all())
        item = s.scalars(select(Item.id).where(Item.enterprise_id == demo, Item.sku == "X100")).one()
        site = s.scalars(select(ErpSite.id).where(ErpSite.enterprise_id == demo, ErpSite.code == "WH1")).one()

    def tick():
        with session_scope(maker) as s:
            order = orders.create_order(s, demo, kind="purchase", requester_user_id=ids["zhang"],
                                        lines=[LineIn(item, 1, "100.00")], to_site_id=site)
            orders.submit(s, demo, order.number, ids["zhang"])
        with session_scope(maker) as s:
            oldest = approvals.pending_for(s, demo, ids["smith"])[0]
            approvals.approve(s, demo, oldest.number, ids["smith"], "bench")

    LoopingCall(lambda: deferToThreadPool(reactor, pool, tick)).start(1.0 / rate, now=False)


def seed(url: str, managers: int, page_size: int) -> dict[str, tuple[int, list[str]]]:
    """The WAP test world, plus managers mgr002.. with smith's password, hashed with a
    small scrypt cost (the hash carries its parameters) so 200 logins take seconds, not
    minutes; the page under test never checks a password. Managers mgr002..mgr011 have
    each requested an order of their own, which everybody else sees waiting and they do
    not. Returns what each manager's first page must list, as ``approvals.pending_for``
    says: (documents waiting, the numbers shown)."""
    from sqlalchemy import select

    from erpcore import approvals, auth, db, orders
    from erpcore.db import session_scope
    from erpcore.items import Item
    from erpcore.orders import LineIn
    from erpcore.sites import Site as ErpSite
    from erpcore.users import User
    from tests.web.world import build

    db.upgrade(url)
    with session_scope(db.make_sessionmaker(db.make_engine(url))) as session:
        world = build(session)
        password_hash = auth.hash_password(MANAGER_PASSWORD, n=2**8)
        ids = {"smith": world.users["smith"]}
        for n in range(2, managers + 1):
            user = User(enterprise_id=world.demo, username=f"mgr{n:03d}", display_name=f"Manager {n}",
                        role="manager")
            session.add(user)
            session.flush()
            session.add(auth.UserCredential(user_id=user.id, password_hash=password_hash,
                                            changed_at=auth.clock()))
            ids[user.username] = user.id
        item = session.scalars(select(Item.id).where(Item.enterprise_id == world.demo, Item.sku == "X100")).one()
        site = session.scalars(select(ErpSite.id).where(ErpSite.enterprise_id == world.demo,
                                                        ErpSite.code == "WH1")).one()
        for n in range(2, min(managers, 11) + 1):
            requester = ids[manager_name(n)]
            order = orders.create_order(session, world.demo, kind="purchase", requester_user_id=requester,
                                        lines=[LineIn(item, 1, "50.00")], to_site_id=site)
            orders.submit(session, world.demo, order.number, ids[manager_name(n)])
        expected = {}
        for name, user_id in ids.items():
            waiting = approvals.pending_for(session, world.demo, user_id)
            expected[name] = (len(waiting), [o.number for o in waiting[:page_size]])
        return expected


def page_ok(page: bytes, session: str, fmt: str, expected: tuple[int, list[str]] | None, page_size: int) -> bool:
    """Whether ``page`` is the manager's real first page of the pending list: the count and
    the document numbers ``expected`` (None while orders come and go: then a well-formed
    list of as many documents as the count says), and in WML the session's own links."""
    count = re.search(rb"(\d+) waiting", page)
    numbers = [n.decode() for n in re.findall(rb"/wap/doc/(\d+)", page)]
    if count is None or (fmt == "wml" and f"s={session}".encode() not in page):
        return False
    if expected is not None:
        return (int(count.group(1)), numbers) == expected
    return len(numbers) == min(int(count.group(1)), page_size) and numbers == sorted(numbers, key=int)


def manager_name(n: int) -> str:
    return "smith" if n == 1 else f"mgr{n:03d}"


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


async def _login(port: int, username: str) -> str:
    """The session token of a fresh login (always taken from the WML-style URL)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _, form = await _request(reader, writer, "/wap/?fmt=wml")
    token = re.search(rb'name="t" value="([^"]+)"', form).group(1).decode()
    body = urlencode({"ent": "DEMO", "user": username, "pw": MANAGER_PASSWORD, "t": token}).encode()
    _, menu = await _request(reader, writer, "/wap/login?fmt=wml", body)
    writer.close()
    return re.search(rb"[?;]s=([A-Za-z0-9_-]+)", menu).group(1).decode()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(port: int, server_pid: int, clients: int, managers: int, seconds: float, fmt: str,
               warm: bool, expected: dict, exact: bool) -> None:
    from gateway.web.wap.markup import PAGE_SIZE

    page_size = PAGE_SIZE[fmt]
    gate = asyncio.Semaphore(8)

    async def login(n: int) -> str:
        async with gate:
            return await _login(port, manager_name(n))

    sessions = await asyncio.gather(*(login(n) for n in range(1, managers + 1)))
    if warm:  # each manager has opened the list once since logging in, as after the menu
        async def first_look(session: str):
            async with gate:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                await _request(r, w, f"/wap/pending?fmt={fmt}&s={session}")
                w.close()

        await asyncio.gather(*(first_look(s) for s in sessions))
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(number: int):
        nonlocal errors
        session = sessions[number % managers]
        want = expected[manager_name(number % managers + 1)] if exact else None
        path = f"/wap/pending?fmt={fmt}&s={session}"
        r, w = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, page = await _request(r, w, path)
            latencies.append(time.perf_counter() - started)
            if status != 200 or not page_ok(page, session, fmt, want, page_size):
                errors += 1
        w.close()

    server_cpu, client_cpu = _cpu_seconds(server_pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    server_cpu, client_cpu = _cpu_seconds(server_pid) - server_cpu, time.process_time() - client_cpu
    latencies.sort()

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    count = len(latencies)
    print(f"pending-approvals page ({fmt}), {clients} concurrent clients as {managers} managers, {elapsed:.1f} s")
    print(f"  pages:   {count}  errors: {errors} (status not 200, or not the manager's own list"
          f"{'' if exact else ' well formed'})")
    print(f"  rate:    {count / elapsed:.0f} pages/s   (target >= 1000)")
    print(f"  latency: p50 {pct(0.50):.1f} ms  p90 {pct(0.90):.1f} ms  p99 {pct(0.99):.1f} ms"
          f"  max {1000 * latencies[-1]:.1f} ms   (target p99 < 200 ms)")
    print(f"  CPU:     server {server_cpu:.2f} s = {1000 * server_cpu / max(1, count):.3f} ms/page"
          f" ({100 * server_cpu / elapsed:.0f}% of a core);"
          f" load client {client_cpu:.2f} s ({100 * client_cpu / elapsed:.0f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--managers", type=int, default=None,
                        help="distinct manager logins the clients share (default: one per client)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--fmt", choices=("wml", "xhtml", "html"), default="wml")
    parser.add_argument("--ttl", type=float, default=None,
                        help="pending-page cache backstop seconds (0: no cache; default: the pages' own)")
    parser.add_argument("--churn", type=float, default=0.0,
                        help="orders submitted and approved per second during the run")
    parser.add_argument("--cold", action="store_true",
                        help="no first look at the list before the clock starts: all first pages at once")
    parser.add_argument("--default-gc", action="store_true",
                        help="leave the server's garbage collector as Python sets it (no start-up freeze)")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.threads, args.ttl, args.churn, args.default_gc)
        return
    managers = max(1, min(args.managers or args.clients, args.clients))
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'wap.db'}"
        from gateway.web.wap.markup import PAGE_SIZE

        expected = seed(url, managers, PAGE_SIZE[args.fmt])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ttl = [] if args.ttl is None else ["--ttl", str(args.ttl)]
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", url, str(port), "--threads", str(args.threads),
             "--churn", str(args.churn), *ttl, *(["--default-gc"] if args.default_gc else [])],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert server.stdout.readline().strip() == "ready"
            asyncio.run(load(port, server.pid, args.clients, managers, args.seconds, args.fmt, not args.cold,
                             expected, exact=args.churn == 0))
        finally:
            server.terminate()
            print(server.communicate(timeout=10)[0], end="")


if __name__ == "__main__":
    main()
