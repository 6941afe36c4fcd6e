"""WAP Push end to end over the simulator: an ORDER above the approval threshold reaches a
push-capable manager as the approval SMS and as a WAP Push SI carrying the same signed
document link; the simulated handset shows the SI as "[WAP Push] <text> <url>"."""
from __future__ import annotations


import pytest
import pytest_twisted
from sqlalchemy import update

from erpcore.users import User
from gateway.config import WebSection
from tests.commands.conftest import demo_rules
from tests.e2e.harness import seed
from tests.e2e.test_e2e_flows import CLERK, MANAGER, FlowSpine

PUBLIC_URL = "http://gw.example:8080"


class PushSpine(FlowSpine):
    """The flow spine with the WAP pages on (a loopback web server) so links are made."""

    def start(self, **config_changes):
        web = WebSection(listen="tcp:0:interface=127.0.0.1", public_url=PUBLIC_URL)
        return super().start(**{"web": web, **config_changes})


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
