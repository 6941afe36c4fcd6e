"""The operator console end to end: the whole gateway (web server with an operator token,
SMPP link to the simulator) on loopback. The operator signs in, creates an enterprise
platform, opens its stock service and adds a clerk; the clerk's handset is answered; the
operator closes the service and the same SMS is refused as a closed service."""
from __future__ import annotations

import dataclasses

import pytest_twisted
from twisted.internet import defer, reactor

from erpcore import db, services
from erpcore.demo import DEMO_SERVICE_CODE
from gateway.config import Config, GatewaySection, NotifySection, WebSection
from gateway.service import build_gateway
from tests.e2e.harness import Spine, gateway_config, seed, within
from tests.web.console_client import ConsoleClient

TOKEN = "e2e-operator-token"
CLERK = "13700000008"
ACME_NUMBER = DEMO_SERVICE_CODE + "07"


class ConsoleSpine(Spine):
    """The spine with the web server on an ephemeral port and the operator token set."""

    @defer.inlineCallbacks
    def start(self):
        self.simulator.startService()
        yield self.simulator.when_listening()
        config = dataclasses.replace(
            gateway_config(self.url, self.simulator, self.protocol),
            notify=NotifySection(quiet_start="00:00", quiet_end="00:00", interval=0.2),
            web=WebSection(listen="tcp:0:interface=127.0.0.1", operator_token=TOKEN))
        self.gateway = build_gateway(config, reactor)
        self.gateway.startService()
        yield within(self.bound(), 10, "the gateway to bind")
        port = yield self.gateway.when_web_listening()
        self.web = f"http://127.0.0.1:{port.getHost().port}"

    def text_from(self, msisdn: str, recipient: str, text: str, seconds: float = 10) -> defer.Deferred:
        """Send an MO to ``recipient``; fires with the text of the handset's next message."""
        handset = self.smsc.phonebook.get(msisdn)
        d = defer.Deferred()

        def listener(_handset, message):
            handset.remove_listener(listener)
            d.callback(message.text)

        handset.add_listener(listener)
        self.smsc.queue_mo(msisdn, recipient, text)
        return within(d, seconds, f"a reply to {text!r} on {msisdn}")


def stock_open(url: str) -> bool:
    engine = db.make_engine(url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as s:
            return services.is_open(s, services.get_enterprise_by_code(s, "ACME").id, "stock")
    finally:
        engine.dispose()


@pytest_twisted.ensureDeferred
async def test_a_service_closed_in_the_console_is_refused_on_the_sms_side(db_url):
    seed(db_url)
    spine = ConsoleSpine(db_url)
    await spine.start()
    try:
        operator = ConsoleClient(spine.web)
        assert (await operator.get("/console/")).location == "/console/sign-in"
        assert (await operator.sign_in(TOKEN)).location == "/console/"
        created = await operator.form_post("/console/new-enterprise", "/console/enterprises", {
            "code": "ACME", "name": "顶点公司", "extension": "07", "lang": "en", "admin_username": "boss"})
        assert created.location == "/console/enterprises/ACME"
        opened = await operator.form_post(created.location, "/console/enterprises/ACME/services/stock",
                                          {"action": "open"})
        added = await operator.form_post(created.location, "/console/enterprises/ACME/users", {
            "username": "li", "display_name": "Li", "msisdn": CLERK, "role": "clerk"})
        assert opened.status == added.status == 303 and stock_open(db_url)

        answered = await spine.text_from(CLERK, ACME_NUMBER, "STOCK X100")
        assert answered.startswith("No item X100."), answered  # open: the stock service answers

        closed = await operator.form_post(created.location, "/console/enterprises/ACME/services/stock",
                                          {"action": "close"})
        assert closed.status == 303 and not stock_open(db_url)
        page = await operator.get(created.location)
        assert '<td id="state-stock">closed</td>' in page.text
        refused = await spine.text_from(CLERK, ACME_NUMBER, "STOCK X100")
        assert refused == "Your company's stock service is closed; ask your admin to open it."
    finally:
        await spine.stop()


@pytest_twisted.ensureDeferred
async def test_without_an_operator_token_there_is_no_console(tmp_path):
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    seed(url)
    gateway = build_gateway(Config(gateway=GatewaySection(database=url),
                                   web=WebSection(listen="tcp:0:interface=127.0.0.1")), reactor)
    gateway.startService()
    try:
        port = await gateway.when_web_listening()
        answer = await ConsoleClient(f"http://127.0.0.1:{port.getHost().port}").get("/console/sign-in")
    finally:
        await gateway.stopService()
    assert answer.status == 404
