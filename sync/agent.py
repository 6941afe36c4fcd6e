"""`merp agent -c agent.ini`: the enterprise side, next to the enterprise's own database.

It creates the sync tables beside the enterprise's tables, serves its side of the three
interfaces, and pushes the enterprise's changes to the gateway on APScheduler's timers.
"""
from __future__ import annotations

import logging

from twisted.application.service import MultiService, Service
from twisted.internet.endpoints import serverFromString
from twisted.web.resource import Resource
from twisted.web.server import Site

from sync.client import SyncClient
from sync.http import SyncEndpoints
from sync.listening import ListeningService
from sync.models import create_tables
from sync.nonces import StoredNonces
from sync.peer import SyncPeer
from sync import example
from sync import settings as sync_settings
from sync.settings import AgentSettings
from sync.side import Side
from sync.signing import Verifier
from sync.source import TableSource
from sync.spec import Role

log = logging.getLogger(__name__)


def build_side(settings: AgentSettings, engine) -> Side:
    """The enterprise's side: its own tables read through the configured mapping."""
    with engine.begin() as conn:
        create_tables(conn)
        sources = {t.name: TableSource.reflect(t.spec(), conn, t.source, t.mapping)
                   for t in settings.tables}
    return Side(engine, Role.ENTERPRISE, settings.enterprise, sources)


class SchedulerService(Service):
    """APScheduler's TwistedScheduler, started and stopped with the service tree."""

    def __init__(self, reactor):
        from apscheduler.schedulers.twisted import TwistedScheduler

        # Each job run would log "Running job"/"executed successfully" at INFO: every few
        # seconds per job and enterprise. Failures are still logged (warnings, `_logged`).
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        self.scheduler = TwistedScheduler(reactor=reactor)

    def startService(self):
        super().startService()
        self.scheduler.start()

    def stopService(self):
        super().stopService()
        self.scheduler.shutdown(wait=False)


class AgentService(MultiService):
    def __init__(self, settings: AgentSettings, reactor, pool=None):
        super().__init__()
        from erpcore import db
        from sync.threads import runner

        self.engine = db.make_engine(settings.database)
        self.side = build_side(settings, self.engine)
        self.run, pool_service = runner(reactor, 1 if settings.database.startswith("sqlite") else 4,
                                        "merp-agent-db")
        pool_service.setServiceParent(self)
        self.client = SyncClient(reactor, settings.gateway_url, settings.secret.encode(),
                                 tls_policy=sync_settings.tls_policy(settings.ca_file, "[agent]"))
        self.peer = SyncPeer(self.side, self.client, reactor, settings.peer, run=self.run)
        verifier = Verifier(settings.secret.encode(), reactor,
                            nonces=StoredNonces(self.engine, settings.enterprise))
        self.endpoints = SyncEndpoints(self.side, verifier, run=self.run,
                                       on_heard=self.peer.note_heard)
        root = Resource()
        root.putChild(b"sync", self.endpoints)
        self.web = ListeningService(serverFromString(reactor, settings.listen),
                                               Site(root))
        self.web.setServiceParent(self)
        scheduler = SchedulerService(reactor)
        scheduler.setServiceParent(self)
        self.peer.schedule(scheduler.scheduler, reactor)

    def when_listening(self):
        """Fires with the listening port (useful with an ephemeral ``tcp:0``)."""
        return self.web.when_listening()

    def stopService(self):
        d = super().stopService()
        d.addBoth(lambda r: (self.engine.dispose(), r)[1])
        return d


def run_agent(settings: AgentSettings) -> int:
    from twisted.internet import reactor

    service = AgentService(settings, reactor)
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    log.info("merp agent for %s: serving %s, gateway %s", settings.enterprise, settings.listen,
             settings.gateway_url)
    reactor.callWhenRunning(service.peer.heartbeat)
    reactor.run()
    return 0


EXAMPLE_PEERS = """\
# merp cluster: enterprises whose own ERP servers sync with us ([sync] peers = this file)
[defaults]
heartbeat_interval = 30
fast_scan_interval = 10
full_scan_interval = 3600
full_sync_interval = 86400
# alarms, by SMS to the enterprise's administrators: after this many failed requests to the
# agent, when changes wait longer than lag_alarm_seconds, and when the agent has sent
# nothing for silence_alarm_seconds (0: alarm_after_failures + 1 heartbeat intervals)
alarm_after_failures = 3
lag_alarm_seconds = 600
silence_alarm_seconds = 0

[enterprise:DEMO]
secret = change-me
agent_url = http://127.0.0.1:8090/sync
# for an https agent_url with a private CA or self-signed certificate: its PEM file
# ca_file = /etc/merp/agent-DEMO.pem
# who wins a row changed on both sides: enterprise_wins, cluster_wins, newer_wins, manual
items_rule = enterprise_wins
stock_rule = enterprise_wins
# what the frequent fast scan watches (the hourly full scan watches every field)
items_key_fields = sku, name, unit_price
stock_key_fields = sku, site, quantity
"""


def add_agent_command(sub) -> None:
    """`merp agent -c agent.ini` (mounted by gateway.cli)."""
    agent = sub.add_parser("agent", help="run the enterprise sync agent next to the enterprise's database")
    agent.add_argument("-c", "--config", default="agent.ini", help="agent configuration (default: %(default)s)")
    agent.add_argument("--example-ini", action="store_true", help="print an example agent.ini and exit")
    agent.add_argument("--example-peers", action="store_true",
                       help="print an example cluster peers file ([sync] peers) and exit")
    agent.add_argument("--example-db", metavar="URL",
                       help="create the example enterprise database of --example-ini (tables "
                            "goods and inventory, holding the demo's items and stock) and exit")
    agent.set_defaults(func=cmd_agent)


def make_example_db(url: str) -> int:
    import sys

    from sqlalchemy import inspect

    from erpcore import db

    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            if {"goods", "inventory"} & set(inspect(conn).get_table_names()):
                print(f"merp agent: {db.describe(url)} already has goods or inventory; "
                      "nothing changed", file=sys.stderr)
                return 1
            example.fill_example_db(conn)
    finally:
        engine.dispose()
    print(f"example enterprise database created in {db.describe(url)}")
    return 0


def cmd_agent(args) -> int:
    import sys

    from sync.settings import SettingsError, load, parse_agent

    if args.example_ini:
        print(example.EXAMPLE_INI, end="")
        return 0
    if args.example_peers:
        print(EXAMPLE_PEERS, end="")
        return 0
    if args.example_db:
        return make_example_db(args.example_db)
    try:
        settings = load(args.config, parse_agent)
    except SettingsError as exc:
        print(f"merp agent: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return run_agent(settings)
