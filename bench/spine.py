#!/usr/bin/env python3
"""Benchmark of the spine: `merp sim load` (SMSC simulator + handsets) and `merp run` (the
gateway) as two processes on loopback, delivery receipts on. Prints the load report and
the CPU each process used (gateway, load runner, and the MariaDB server when it is local).

    python3 bench/spine.py sqlite              # embedded store
    python3 bench/spine.py mysql               # MariaDB at 127.0.0.1 (database merp_bench)
    python3 bench/spine.py sqlite --count 20000 --phones 1000 --text "STOCK X100"
    # ORDER / APPROVE / STOCK: teams of 4, each manager approves its 3 clerks' orders
    python3 bench/spine.py mysql --count 6000 --phones 1000 --team-size 4 --text "ORDER X100 1=1;STOCK X100=3"
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(kind: str, workdir: Path, name: str = "merp_bench", driver: str = "pymysql") -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()
    return f"mysql+{driver}://root@127.0.0.1:3306/{name}?charset=utf8mb4"


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used (Linux /proc): a figure that stays honest
    when the machine is busy with other work, unlike wall-clock throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mariadb_pid() -> int | None:
    """The local MariaDB/MySQL server's pid, if one runs on this machine."""
    for name in ("mariadbd", "mysqld"):
        found = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
        if found:
            return int(found[0])
    return None


def wait_with_cpu(process: subprocess.Popen) -> tuple[int, float]:
    """Wait for a child; (exit status, CPU seconds it used) from wait4's resource usage."""
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def order_states(url: str) -> dict[str, int]:
    """Orders per state once the run is over (every order of the mix should be decided)."""
    from sqlalchemy import func, select

    from erpcore import db
    from erpcore.orders import Order

    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(Order.state, func.count()).group_by(Order.state)).all())
    finally:
        engine.dispose()


def deadlocks(url: str) -> int | None:
    """MariaDB's count of deadlocks since it started (its victims' batches run again, so
    a run shows them only as time lost); None where the server does not tell."""
    from sqlalchemy import text

    from erpcore import db

    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")).first()
            return int(row[1]) if row is not None else None
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", choices=("sqlite", "mysql"))
    parser.add_argument("--count", type=int, default=20000, help="commands drawn from the mix")
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--text", default="STOCK X100", help="a command or a weighted mix 'A=3;B=1'")
    parser.add_argument("--team-size", type=int, default=0,
                        help="handsets in teams with a manager each, who approves the orders (0: none)")
    parser.add_argument("--rate", type=float, default=0, help="commands/s, 0 = as fast as replies come")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--database", default="merp_bench",
                        help="MariaDB database to drop and create (default: %(default)s)")
    parser.add_argument("--driver", choices=("pymysql", "mysqldb"), default="pymysql",
                        help="MariaDB client library: PyMySQL (pure Python, the default dependency) or "
                             "mysqlclient (C; pip install mysqlclient)")
    parser.add_argument("--gateway-option", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="an extra merp.ini setting for the gateway, e.g. inbox.batch=400")
    parser.add_argument("--protocol", choices=("smpp", "cmpp2", "cmpp3"), default="smpp",
                        help="the gateway's link: SMPP to the SMSC or CMPP to the ISMG simulator")
    parser.add_argument("--binds", type=int, default=1,
                        help="SMPP binds (links) each gateway opens to the simulator, each with its window")
    parser.add_argument("--gateways", type=int, default=1,
                        help="gateway processes sharing the database, each with its own bind (MariaDB)")
    parser.add_argument("--profile", metavar="FILE", help="run the gateway under cProfile, stats to FILE")
    args = parser.parse_args()
    if args.gateways > 1 and args.store != "mysql":
        parser.error("--gateways above 1 needs mysql: SQLite serves one process")

    merp = [sys.executable, "-m", "gateway.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(args.store, workdir, args.database, args.driver)
        subprocess.run([*merp, "db", "seed-demo", "--url", url, "--load-phones", str(args.phones),
                        "--load-team-size", str(args.team_size)], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        cmpp_port = free_port() if args.protocol != "smpp" else None
        link = f"endpoint = tcp:host=127.0.0.1:port={cmpp_port or port}\nwindow = {args.window}\n"
        if cmpp_port:
            link += (f"protocol = {args.protocol}\nsp_id = 901234\nshared_secret = secret\n"
                     f"cmpp_window = {args.window}\n")
        config = workdir / "merp.ini"
        # No quiet hours: approval requests go out at any hour the benchmark runs.
        sections = {"gateway": {"database": url, "log_level": "warn"},
                    "notify": {"quiet_start": "00:00", "quiet_end": "00:00"}}
        for option in args.gateway_option:
            key, _, value = option.partition("=")
            section, _, name = key.partition(".")
            sections.setdefault(section, {})[name] = value
        text = "".join(f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
                       for section, values in sections.items())
        links = "".join(f"[link:sim{n or ''}]\n{link}" for n in range(args.binds))
        config.write_text(f"{text}{links}", encoding="utf-8")
        load = subprocess.Popen(
            [*merp, "sim", "load", "--listen", f"tcp:{port}:interface=127.0.0.1", "--control", "",
             "--count", str(args.count), "--phones", str(args.phones), "--text", args.text,
             "--team-size", str(args.team_size),
             "--rate", str(args.rate), "--receipt-delay", "0.05", "--window", str(args.window),
             "--wait-bind", "60", "--protocol", args.protocol,
             "--cmpp-listen", f"tcp:{cmpp_port}:interface=127.0.0.1" if cmpp_port else "",
             "--cmpp-window", str(max(args.window, 16))],
            stdout=subprocess.PIPE, text=True,
        )
        gateway_cmd = [*merp, "run", "-c", str(config)]
        if args.profile:
            gateway_cmd = [sys.executable, "-m", "cProfile", "-o", args.profile, "-m", "gateway.cli",
                           "run", "-c", str(config)]
        server = mariadb_pid() if args.store == "mysql" else None
        server_before = cpu_seconds(server) if server else 0.0
        deadlocks_before = deadlocks(url) if args.store == "mysql" else None
        gateways = [subprocess.Popen(gateway_cmd, env=dict(os.environ)) for _ in range(args.gateways)]
        try:
            replied = args.count
            for line in load.stdout:  # the runner's report, passed on
                print(line, end="", flush=True)
                if line.startswith("sent "):
                    replied = int(line.split("replied ")[1].split(",")[0]) or args.count
            status, load_cpu = wait_with_cpu(load)
            try:
                cpu = sum(cpu_seconds(gateway.pid) for gateway in gateways)
                print(f"gateway CPU ({args.gateways} process{'es' if args.gateways > 1 else ''}): "
                      f"{cpu:.2f} s in all, {cpu / replied * 1000:.2f} ms a command answered "
                      f"(start-up included)", flush=True)
            except OSError:
                pass
            print(f"load runner CPU (simulator and handsets): {load_cpu:.2f} s", flush=True)
            if server:
                print(f"MariaDB server CPU: {cpu_seconds(server) - server_before:.2f} s "
                      f"(any other client of the server included)", flush=True)
            if deadlocks_before is not None:
                print(f"MariaDB deadlocks: {deadlocks(url) - deadlocks_before} "
                      f"(any other client of the server included)", flush=True)
        finally:
            for gateway in gateways:
                gateway.send_signal(2)  # SIGINT: a clean stop, so a profile is written
            for gateway in gateways:
                try:
                    gateway.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    gateway.kill()
        if args.team_size:
            print("orders by state:", order_states(url), flush=True)
        return status


if __name__ == "__main__":
    sys.exit(main())
