"""WAP Push end to end over the simulator: an ORDER above the approval threshold reaches a
push-capable manager as the approval SMS and as a WAP Push SI carrying the same signed
document link; the simulated handset shows the SI as "[WAP Push] <text> <url>"."""
from __future__ import annotations

import dataclasses

import pytest
import pytest_twisted
from sqlalchemy import update
from twisted.internet import defer, reactor

from erpcore.users import User
from gateway.config import NotifySection, WebSection
from gateway.service import build_gateway
from tests.commands.conftest import demo_rules
from tests.e2e.harness import gateway_config, seed, within
from tests.e2e.test_e2e_flows import CLERK, MANAGER, FlowSpine

PUBLIC_URL = "http://gw.example:8080"


class PushSpine(FlowSpine):
    """The flow spine with the WAP pages on (a loopback web server) so links are made."""

    @defer.inlineCallbacks
    def start(self):
        self.simulator.startService()
        yield self.simulator.when_listening()
        config = gateway_config(self.url, self.simulator, self.protocol)
        config = dataclasses.replace(
            config, notify=NotifySection(quiet_start="00:00", quiet_end="00:00", interval=0.2),
            web=WebSection(listen="tcp:0:interface=127.0.0.1", public_url=PUBLIC_URL))
        self.gateway = build_gateway(config, reactor)
        self.gateway.startService()
        yield within(self.bound(), 10, "the gateway to bind")


def rules_and_push_capable_manager(session, enterprise):
    demo_rules(enterprise.id, session)
    session.execute(update(User).where(User.msisdn == MANAGER).values(push_capable=True))


@pytest.mark.parametrize("protocol", ["smpp", "cmpp3"])
@pytest_twisted.inlineCallbacks
def test_a_push_capable_manager_gets_the_approval_sms_and_a_wap_push(db_url, protocol):
    seed(db_url, rules_and_push_capable_manager)
    spine = PushSpine(db_url, protocol)
    yield spine.start()
    try:
        manager_told = spine.expect(MANAGER, count=2)
        yield spine.ask(CLERK, "订货 X100 2")
        messages = yield manager_told
    finally:
        yield spine.stop()
    [sms] = [m for m in messages if not m.startswith("[WAP Push]")]
    [push] = [m for m in messages if m.startswith("[WAP Push]")]
    link = sms.split()[-1]
    assert link.startswith(f"{PUBLIC_URL}/wap/doc/1001?")
    assert push.startswith("[WAP Push] To approve") and push.endswith(f" {link}")
