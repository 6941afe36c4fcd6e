"""Sync alarms reach the enterprise's administrators as SMS through the gateway's own
notifier and outbox, over SMPP to the simulator's handsets: when the gateway cannot reach
the agent, and when the agent cannot reach the gateway (its requests stop arriving), each
followed by an all-clear when it recovers."""
from __future__ import annotations


import pytest_twisted
from sqlalchemy import select
from twisted.internet import defer, reactor, task

from erpcore import rbac
from erpcore.users import User
from gateway.config import NotifySection, SyncSection, WebSection
from sync import example
from sync.agent import AgentService
from sync.alarms import PEER_DOWN, PEER_SILENT
from sync.settings import parse_agent
from tests.e2e.harness import Spine, seed
from tests.sync.harness import make_enterprise_db

ADMIN = "13800000009"      # an administrator by primary role (Chinese)
MANAGER = "13800000002"    # smith, the manager, given the admin role as an extra role (English)
CLERK = "13800000001"      # no admin: gets nothing


def add_admins(session, enterprise):
    session.add(User(enterprise_id=enterprise.id, username="boss", display_name="老板",
                     msisdn=ADMIN, role="admin", lang="zh"))
    smith = session.scalars(select(User).where(User.msisdn == MANAGER)).one()
    rbac.grant_role(session, smith, "admin")


class SyncSpine(Spine):
    """The spine (simulator, gateway over SMPP) with the web server, sync with one agent,
    quiet hours off and a fast notifier."""

    @defer.inlineCallbacks
    def start_with_sync(self, peers_path: str):
        yield self.start(
            web=WebSection(listen="tcp:0:interface=127.0.0.1"), sync=SyncSection(peers=peers_path),
            notify=NotifySection(quiet_start="00:00", quiet_end="00:00", interval=0.2))
        port = yield self.gateway.when_web_listening()
        self.web_base = f"http://127.0.0.1:{port.getHost().port}"

    def received(self, msisdn: str) -> list[str]:
        return [m.text for m in self.smsc.phonebook.get(msisdn).inbox]


@defer.inlineCallbacks
def start_agent(settings):
    agent = AgentService(settings, reactor)
    agent.startService()
    port = yield agent.when_listening()
    return agent, f"http://127.0.0.1:{port.getHost().port}/sync"


@pytest_twisted.inlineCallbacks
def test_both_failure_kinds_send_an_alarm_sms_to_every_admin_and_an_all_clear(db_url, tmp_path):
    seed(db_url, add_admins)
    enterprise_url = f"sqlite:///{tmp_path / 'enterprise.db'}"
    make_enterprise_db(enterprise_url).dispose()
    settings = parse_agent(example.EXAMPLE_INI.replace("sqlite:///enterprise.db", enterprise_url)
                           .replace("change-me", "k").replace("tcp:8090", "tcp:0"))
    agent, agent_base = yield start_agent(settings)
    peers = tmp_path / "peers.ini"
    peers.write_text("[defaults]\nheartbeat_interval = 3600\nfast_scan_interval = 3600\n"
                     "alarm_after_failures = 2\nsilence_alarm_seconds = 90\n"
                     f"[enterprise:DEMO]\nsecret = k\nagent_url = {agent_base}\n")
    spine = SyncSpine(db_url)
    yield spine.start_with_sync(str(peers))
    try:
        agent.client.base_url = f"{spine.web_base}/sync/DEMO"
        gateway_peer = spine.gateway.sync.peers["DEMO"]
        assert (yield gateway_peer.heartbeat()) and (yield agent.peer.heartbeat())

        # 1. The gateway cannot reach the agent: it is gone.
        yield agent.stopService()
        yield gateway_peer.client.close()  # its connections die with the process
        alarms = defer.gatherResults([spine.expect(ADMIN), spine.expect(MANAGER)])
        for _ in range(2):
            assert not (yield gateway_peer.heartbeat())
        [[to_admin], [to_manager]] = yield alarms
        assert to_admin.startswith("同步告警(连不上对方): peer unreachable 2 times")
        assert to_manager.startswith("Sync alarm (peer down): peer unreachable 2 times")
        assert PEER_DOWN in gateway_peer.alarms.active

        agent, agent_base = yield start_agent(settings)  # back, at its (new) address
        gateway_peer.client.base_url = agent_base
        clear = defer.gatherResults([spine.expect(ADMIN), spine.expect(MANAGER)])
        assert (yield gateway_peer.heartbeat())
        [[to_admin], [to_manager]] = yield clear
        assert to_admin == "同步恢复(连不上对方): the peer answers again; sync resumed"
        assert to_manager == "Sync all-clear (peer down): the peer answers again; sync resumed"

        # 2. The agent cannot reach the gateway: its requests stop arriving.
        agent.client.base_url = "http://127.0.0.1:1/sync/DEMO"
        clock = task.Clock()
        clock.advance(reactor.seconds())
        gateway_peer.clock = clock
        gateway_peer.note_heard()  # the last request from the agent, now
        assert not (yield agent.peer.heartbeat())
        clock.advance(60)
        assert (yield gateway_peer.heartbeat())  # the gateway still reaches the agent
        assert PEER_SILENT not in gateway_peer.alarms.active  # 60 s of silence: not yet
        silent = spine.expect(ADMIN)
        clock.advance(31)
        assert (yield gateway_peer.heartbeat())
        [to_admin] = yield silent
        assert to_admin.startswith("同步告警(对方无音讯): no request from the peer for 91 s")

        agent.client.base_url = f"{spine.web_base}/sync/DEMO"  # the agent's way is open again
        clear = spine.expect(ADMIN)
        assert (yield agent.peer.heartbeat())
        [to_admin] = yield clear
        assert to_admin == "同步恢复(对方无音讯): requests from the peer arrive again"
        assert PEER_SILENT not in gateway_peer.alarms.active
        assert spine.received(CLERK) == []
        assert len(spine.received(ADMIN)) == len(spine.received(MANAGER)) == 4
    finally:
        if agent.running:
            yield agent.stopService()
        yield spine.stop()
