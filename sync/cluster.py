"""The cluster's side of sync inside the gateway: one Side, endpoints and peer per
enterprise in the peers file, served under /sync/<code>/ on the gateway's web server.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from twisted.application.service import MultiService
from twisted.web.resource import Resource

from sync import settings as sync_settings
from sync.alarms import Alarms, cluster_sink
from sync.client import SyncClient
from sync.cluster_tables import StockSource, items_source
from sync.http import SyncEndpoints
from sync.nonces import StoredNonces
from sync.peer import SyncPeer
from sync.side import Side
from sync.signing import Verifier
from sync.spec import Role

log = logging.getLogger(__name__)


class ClusterSync(MultiService):
    """Everything the gateway runs for sync; ``resource`` is mounted at /sync."""

    def __init__(self, peers_path: str, engine, sessionmaker, reactor, threads: int = 2):
        super().__init__()
        from erpcore.tenants import Enterprise
        from sync.agent import SchedulerService
        from sync.threads import runner

        defaults, peers = sync_settings.load(peers_path, sync_settings.parse_peers)
        self.run, pool = runner(reactor, threads, "merp-sync")
        pool.setServiceParent(self)
        scheduler = SchedulerService(reactor)
        scheduler.setServiceParent(self)
        self.resource = Resource()
        self.peers: dict[str, SyncPeer] = {}
        with engine.connect() as conn:
            ids = dict(conn.execute(select(Enterprise.code, Enterprise.id)).all())
        for peer in peers:
            if peer.code not in ids:
                raise sync_settings.SettingsError(f"{peers_path}: no enterprise {peer.code!r}")
            eid = ids[peer.code]
            side = Side(engine, Role.CLUSTER, peer.code, {
                "items": items_source(eid, peer.spec("items")),
                "stock": StockSource(eid, peer.spec("stock")),
            })
            secret = peer.secret.encode()
            client = SyncClient(reactor, peer.agent_url, secret, tls_policy=sync_settings.tls_policy(
                peer.ca_file, f"{peers_path}: [enterprise:{peer.code}]"))
            driver = SyncPeer(side, client, reactor, defaults,
                              Alarms(peer.code, cluster_sink(sessionmaker, eid, self.run)),
                              run=self.run)
            verifier = Verifier(secret, reactor, nonces=StoredNonces(engine, peer.code))
            endpoints = SyncEndpoints(side, verifier, run=self.run,
                                      on_received=driver.note_received,
                                      on_heard=driver.note_heard)
            self.resource.putChild(peer.code.encode(), endpoints)
            driver.schedule(scheduler.scheduler, reactor)
            self.peers[peer.code] = driver
        log.info("sync with %d enterprises: %s", len(self.peers), ", ".join(self.peers) or "-")
