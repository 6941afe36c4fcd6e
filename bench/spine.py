#!/usr/bin/env python3
"""Benchmark of the spine: `merp sim load` (SMSC simulator + handsets) and `merp run` (the
gateway) as two processes on loopback, delivery receipts on. Prints the load report.

    python3 bench/spine.py sqlite              # embedded store
    python3 bench/spine.py mysql               # MariaDB at 127.0.0.1 (database merp_bench)
    python3 bench/spine.py sqlite --count 20000 --phones 1000 --text "STOCK X100"
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


def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS merp_bench")
        cur.execute("CREATE DATABASE merp_bench CHARACTER SET utf8mb4")
    conn.close()
    return "mysql+pymysql://root@127.0.0.1:3306/merp_bench?charset=utf8mb4"


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used (Linux /proc): a figure that stays honest
    when the machine is busy with other work, unlike wall-clock throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", choices=("sqlite", "mysql"))
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--text", default="STOCK X100")
    parser.add_argument("--rate", type=float, default=0, help="MO/s, 0 = as fast as the window allows")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--protocol", choices=("smpp", "cmpp2", "cmpp3"), default="smpp",
                        help="the gateway's link: SMPP to the SMSC or CMPP to the ISMG simulator")
    parser.add_argument("--profile", metavar="FILE", help="run the gateway under cProfile, stats to FILE")
    args = parser.parse_args()

    merp = [sys.executable, "-m", "gateway.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(args.store, workdir)
        subprocess.run([*merp, "db", "seed-demo", "--url", url, "--load-phones", str(args.phones)],
                       check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        cmpp_port = free_port() if args.protocol != "smpp" else None
        link = f"endpoint = tcp:host=127.0.0.1:port={cmpp_port or port}\nwindow = {args.window}\n"
        if cmpp_port:
            link += (f"protocol = {args.protocol}\nsp_id = 901234\nshared_secret = secret\n"
                     f"cmpp_window = {args.window}\n")
        config = workdir / "merp.ini"
        config.write_text(
            f"[gateway]\ndatabase = {url}\nlog_level = warn\n[link:sim]\n{link}",
            encoding="utf-8",
        )
        load = subprocess.Popen(
            [*merp, "sim", "load", "--listen", f"tcp:{port}:interface=127.0.0.1", "--control", "",
             "--count", str(args.count), "--phones", str(args.phones), "--text", args.text,
             "--rate", str(args.rate), "--receipt-delay", "0.05", "--window", str(args.window),
             "--wait-bind", "30", "--protocol", args.protocol,
             "--cmpp-listen", f"tcp:{cmpp_port}:interface=127.0.0.1" if cmpp_port else "",
             "--cmpp-window", str(max(args.window, 16))],
        )
        gateway_cmd = [*merp, "run", "-c", str(config)]
        if args.profile:
            gateway_cmd = [sys.executable, "-m", "cProfile", "-o", args.profile, "-m", "gateway.cli",
                           "run", "-c", str(config)]
        gateway = subprocess.Popen(gateway_cmd, env=dict(os.environ))
        try:
            status = load.wait()
            try:
                cpu = cpu_seconds(gateway.pid)
                print(f"gateway CPU: {cpu:.2f} s in all, {cpu / args.count * 1000:.2f} ms a command "
                      f"(start-up included)", flush=True)
            except OSError:
                pass
        finally:
            gateway.send_signal(2)  # SIGINT: a clean stop, so a profile is written
            try:
                gateway.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gateway.kill()
        return status


if __name__ == "__main__":
    sys.exit(main())
