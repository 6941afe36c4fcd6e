"""A cluster and an enterprise agent in one reactor, talking signed HTTP over loopback.

The cluster is erpcore (migrated, demo enterprise seeded) on ``cluster_url``; the
enterprise is the example schema (goods, inventory) in its own SQLite file.
"""
from __future__ import annotations

from sqlalchemy import select
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.web.resource import Resource
from twisted.web.server import Site

from erpcore import db, demo
from erpcore.tenants import Enterprise
from sync import example
from sync.client import SyncClient
from sync.cluster_tables import StockSource, items_source, items_spec, stock_spec
from sync.http import SyncEndpoints
from sync.nonces import StoredNonces
from sync.peer import PeerSettings, SyncPeer
from sync.side import Side, SideSettings
from sync.signing import Verifier
from sync.source import TableSource
from sync.spec import Role, Rule

SECRET = b"s3cret-DEMO"
SCOPE = "DEMO"


def enterprise_sources(engine, rule=Rule.ENTERPRISE_WINS):
    with engine.connect() as conn:
        return {
            "items": TableSource.reflect(items_spec(rule), conn, "goods", example.GOODS_MAPPING),
            "stock": TableSource.reflect(stock_spec(rule), conn, "inventory",
                                         example.INVENTORY_MAPPING),
        }


def make_cluster_db(url: str) -> None:
    """The gateway's store at ``url``: migrated, with the demo enterprise seeded."""
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(db.make_sessionmaker(engine)) as session:
        demo.seed_demo(session)
    engine.dispose()


def make_enterprise_db(url: str, seed_demo_copy: bool = True):
    engine = db.make_engine(url)
    with engine.begin() as conn:
        example.fill_example_db(conn, seed_demo_copy)
    return engine


class Pair:
    def __init__(self, cluster_url: str, enterprise_url: str, rule=Rule.ENTERPRISE_WINS,
                 settings: SideSettings | None = None, seed_enterprise: bool = True):
        db.upgrade(cluster_url)
        self.cluster_engine = db.make_engine(cluster_url)
        self.sessions = db.make_sessionmaker(self.cluster_engine)
        with db.session_scope(self.sessions) as session:
            demo.seed_demo(session)
        with self.cluster_engine.connect() as conn:
            self.enterprise_id = conn.scalar(select(Enterprise.id).where(Enterprise.code == SCOPE))
        self.enterprise_url = enterprise_url
        self.rule = rule
        self.settings = settings or SideSettings(chunk_rows=50, batch_rows=200, scan_chunk=100)
        self.cluster = Side(self.cluster_engine, Role.CLUSTER, SCOPE, {
            "items": items_source(self.enterprise_id, items_spec(rule)),
            "stock": StockSource(self.enterprise_id, stock_spec(rule)),
        }, self.settings)
        self.enterprise_engine = make_enterprise_db(enterprise_url, seed_enterprise)
        self.enterprise = self._enterprise_side()
        self.ports = []
        self.clients = []

    def _enterprise_side(self):
        return Side(self.enterprise_engine, Role.ENTERPRISE, SCOPE,
                    enterprise_sources(self.enterprise_engine, self.rule), self.settings)

    @defer.inlineCallbacks
    def start(self):
        self.cluster_endpoints = SyncEndpoints(self.cluster, self._verifier(self.cluster))
        sync_root = Resource()
        sync_root.putChild(SCOPE.encode(), self.cluster_endpoints)
        root = Resource()
        root.putChild(b"sync", sync_root)
        port = yield TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(root))
        self.ports.append(port)
        self.cluster_base = f"http://127.0.0.1:{port.getHost().port}/sync/{SCOPE}"
        yield self.start_agent()
        self.cluster_peer = SyncPeer(self.cluster, self._client(self.agent_base), reactor,
                                     PeerSettings(alarm_after_failures=2))
        self.cluster_endpoints.on_received = self.cluster_peer.note_received
        self.cluster_endpoints.on_heard = self.cluster_peer.note_heard

    @defer.inlineCallbacks
    def start_agent(self):
        """(Re)start the agent's service: its endpoints, its listening port, its peer."""
        self.agent_endpoints = SyncEndpoints(self.enterprise, self._verifier(self.enterprise))
        root = Resource()
        root.putChild(b"sync", self.agent_endpoints)
        port = yield TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(root))
        self.agent_port = port
        self.ports.append(port)
        self.agent_base = f"http://127.0.0.1:{port.getHost().port}/sync"
        self.agent_peer = SyncPeer(self.enterprise, self._client(self.cluster_base), reactor,
                                   PeerSettings(alarm_after_failures=2))
        self.agent_endpoints.on_heard = self.agent_peer.note_heard
        if hasattr(self, "cluster_peer"):
            self.cluster_peer.client = self._client(self.agent_base)

    @defer.inlineCallbacks
    def kill_agent(self):
        """Drop the agent: its port, its engine; a new Side and engine on the same file."""
        self.agent_endpoints.available = False  # a dead process answers nothing
        yield self.agent_port.stopListening()
        self.ports.remove(self.agent_port)
        if hasattr(self, "cluster_peer"):
            yield self.cluster_peer.client.close()
        self.enterprise_engine.dispose()
        self.enterprise_engine = db.make_engine(self.enterprise_url)
        self.enterprise = self._enterprise_side()

    @staticmethod
    def _verifier(side):
        """As the daemons do: nonces kept in the side's own database."""
        return Verifier(SECRET, reactor, nonces=StoredNonces(side.engine, side.scope))

    def _client(self, base):
        client = SyncClient(reactor, base, SECRET, timeout=5)
        self.clients.append(client)
        return client

    @defer.inlineCallbacks
    def converge(self, rounds: int = 6, mode="full"):
        """Run both sides' cycles until neither has anything to send."""
        for _ in range(rounds):
            yield self.agent_peer.cycle(mode).addTimeout(30, reactor)
            yield self.cluster_peer.cycle(mode).addTimeout(30, reactor)
            if self.cluster.backlog()[0] == 0 and self.enterprise.backlog()[0] == 0:
                return

    @defer.inlineCallbacks
    def stop(self):
        for client in self.clients:
            yield client.close()
        for port in self.ports:
            yield port.stopListening()
        self.cluster_engine.dispose()
        self.enterprise_engine.dispose()

    # -- reading both sides ------------------------------------------------------------
    def cluster_rows(self, table):
        with self.cluster_engine.connect() as conn:
            return {r[: len(self.cluster.sources[table].spec.pk)]: _norm(r)
                    for r in self.cluster.sources[table].read_chunk(conn, None, 10**6)}

    def enterprise_rows(self, table):
        with self.enterprise_engine.connect() as conn:
            return {r[: len(self.enterprise.sources[table].spec.pk)]: _norm(r)
                    for r in self.enterprise.sources[table].read_chunk(conn, None, 10**6)}

    def assert_converged(self):
        for table in ("items", "stock"):
            assert self.cluster_rows(table) == self.enterprise_rows(table), table


def _norm(row):
    from sync.spec import normal_text

    return tuple(normal_text(v) for v in row)
