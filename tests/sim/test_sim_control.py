"""The control API: in memory with a task.Clock for the long-poll timing, and over
loopback HTTP for the whole path (POST /mo reaches a bound ESME, a reply ends a poll)."""
from __future__ import annotations

import io
import json

import pytest
import pytest_twisted
from twisted.internet import defer, task
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from gateway.smpp.pdu import MERP_MO_ID_TAG, CommandId
from sim.cli import build_smsc_service, smsc_options
from sim.control import ControlApi
from sim.testing import FakeEsme, make_smsc


def call(api, method, path, body=None, **args):
    request = DummyRequest([part.encode() for part in path.strip("/").split("/")])
    request.method = method.encode()
    for name, value in args.items():
        request.addArg(name.encode(), str(value).encode())
    if body is not None:
        request.content = io.BytesIO(body if isinstance(body, bytes) else json.dumps(body).encode())
    result = api.render(request)
    if result is not NOT_DONE_YET:
        request.write(result)
        request.finish()
    return request


def answer(request):
    assert request.finished, "the request is still waiting"
    return request.responseCode or 200, json.loads(b"".join(request.written))


@pytest.fixture
def clock():
    return task.Clock()


@pytest.fixture
def smsc(clock):
    return make_smsc(clock)


@pytest.fixture
def api(smsc, clock):
    return ControlApi(smsc, clock)


def test_post_mo_queues_it_and_answers_its_id(api, smsc):
    esme = FakeEsme(smsc)
    esme.bind()
    code, data = answer(call(api, "POST", "mo", {"from": "13800000001", "to": "10657123450", "text": "KC X100"}))
    assert code == 200 and data["parts"] == 1
    (pdu,) = esme.received()
    assert pdu.body.tlv(MERP_MO_ID_TAG) == data["id"].encode()
    assert pdu.body.destination_addr == "10657123450"


def test_post_mo_without_to_goes_to_the_default_service_number(api, smsc):
    answer(call(api, "POST", "mo", {"from": "13800000001", "text": "HELP"}))
    assert smsc.ready[0].body.destination_addr == "106571234501"


@pytest.mark.parametrize("body, fragment", [
    (b"not json", "JSON object"),
    ([1, 2], "JSON object"),
    ({"from": "abc", "text": "x"}, "from must be a phone number"),
    ({"from": "13800000001"}, "text must be"),
    ({"from": "13800000001", "text": ""}, "text must be"),
    ({"from": "13800000001", "text": "x" * 1001}, "longer than"),
])
def test_bad_mo_requests_get_400_with_a_reason(api, smsc, body, fragment):
    code, data = answer(call(api, "POST", "mo", body))
    assert code == 400 and fragment in data["error"]
    assert not smsc.ready


def test_unknown_paths_and_wrong_methods_are_refused(api):
    assert answer(call(api, "GET", "nothing"))[0] == 404
    assert answer(call(api, "GET", "mo"))[0] == 405
    assert answer(call(api, "POST", "status"))[0] == 405


def test_messages_are_returned_at_once_when_there_are_some_after_the_cursor(api, smsc):
    smsc.phonebook.deliver("13800000001", "10657", "one", 0.0)
    smsc.phonebook.deliver("13800000001", "10657", "two", 0.0)
    code, data = answer(call(api, "GET", "phones/13800000001/messages", after=1, wait=30))
    assert [m["text"] for m in data["messages"]] == ["two"]
    assert data["messages"][0]["seq"] == 2 and data["last"] == 2


def test_a_long_poll_waits_for_a_message_and_returns_as_it_arrives(api, smsc, clock):
    request = call(api, "GET", "phones/13800000001/messages", after=0, wait=30)
    clock.advance(10)
    assert not request.finished
    esme = FakeEsme(smsc)
    esme.bind()
    esme.submit(b"X100: 42 at WH1", to="13800000001", registered_delivery=0)
    code, data = answer(request)
    assert [(m["from"], m["text"]) for m in data["messages"]] == [("106571234501", "X100: 42 at WH1")]
    assert not clock.getDelayedCalls()


def test_a_long_poll_with_nothing_new_ends_empty_after_the_wait(api, clock):
    request = call(api, "GET", "phones/13800000001/messages", after=0, wait=5)
    clock.advance(4.9)
    assert not request.finished
    clock.advance(0.1)
    assert answer(request)[1]["messages"] == []


def test_a_client_that_goes_away_stops_its_long_poll(api, smsc, clock):
    request = call(api, "GET", "phones/13800000001/messages", after=0, wait=30)
    request.processingFailed(Exception("client went away"))
    assert not clock.getDelayedCalls()
    smsc.phonebook.deliver("13800000001", "10657", "late", 0.0)  # nobody to write to; no error
    assert request.written == []


def test_bad_poll_arguments_get_400(api):
    assert answer(call(api, "GET", "phones/13800000001/messages", after="x"))[0] == 400
    assert answer(call(api, "GET", "phones/13800000001/messages", wait=-1))[0] == 400
    assert answer(call(api, "GET", "phones/abc/messages"))[0] == 400


def test_control_changes_settings_at_run_time(api, smsc):
    code, data = answer(call(api, "POST", "control", {
        "throttle": True, "fail_rate": 0.25, "receipt_delay": 3, "outcomes": {"DELIVRD": 1, "EXPIRED": 1},
        "throttle_rate": 50,
    }))
    assert code == 200
    assert data["settings"]["fail_rate"] == 0.25 and data["settings"]["throttle"] is True
    assert smsc.settings.receipt_delay == 3.0 and smsc.limiter.rate == 50
    assert smsc.settings.outcomes == {"DELIVRD": 1.0, "EXPIRED": 1.0}


@pytest.mark.parametrize("body", [
    {"fail_rate": 2}, {"fail_rate": "x"}, {"throttle": "yes"}, {"outcomes": {"BOGUS": 1}},
    {"outcomes": {"DELIVRD": 0}}, {"password": "x"}, {"window": 0},
])
def test_bad_control_values_are_refused_and_change_nothing(api, smsc, body):
    before = dict(smsc.settings.__dict__)
    code, data = answer(call(api, "POST", "control", body))
    assert code == 400 and data["error"]
    assert smsc.settings.__dict__ == before


def test_status_shows_binds_and_counters(api, smsc):
    esme = FakeEsme(smsc)
    esme.bind()
    esme.submit()
    smsc.queue_mo("13800000001", None, "HELP")
    code, data = answer(call(api, "GET", "status"))
    assert data["binds"][0]["mode"] == "transceiver" and data["binds"][0]["system_id"] == "merp"
    assert data["counters"]["submits_ok"] == 1 and data["counters"]["mos_queued"] == 1
    assert data["mos_in_flight"] == 1


# -- over loopback ----------------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def http(method, url, body=None):
    from twisted.internet import reactor
    from twisted.web.client import Agent, FileBodyProducer, readBody
    from twisted.web.http_headers import Headers

    producer = None if body is None else FileBodyProducer(io.BytesIO(json.dumps(body).encode()))
    headers = Headers({b"content-type": [b"application/json"]})
    response = yield Agent(reactor).request(method.encode(), url.encode(), headers, producer)
    data = yield readBody(response)
    return response.code, json.loads(data)


@pytest.fixture
def live():
    """A simulator on ephemeral loopback ports, on the real reactor."""
    from twisted.internet import reactor

    options = smsc_options(listen="tcp:0:interface=127.0.0.1", control="tcp:0:interface=127.0.0.1", seed=5)
    service = build_smsc_service(options, reactor)
    service.startService()
    yield service
    pytest_twisted.blockon(defer.maybeDeferred(service.stopService))


@pytest.mark.filterwarnings("ignore:Using readBody:DeprecationWarning")
@pytest_twisted.inlineCallbacks
def test_over_http_an_mo_reaches_a_bound_esme_and_a_reply_ends_a_long_poll(live):
    yield live.when_listening()
    base = live.control_url()
    esme = FakeEsme(live.smsc)
    esme.bind()
    code, data = yield http("POST", base + "/mo", {"from": "13800000001", "text": "库存 X100"})
    assert code == 200
    (pdu,) = esme.received()
    assert pdu.command_id == CommandId.DELIVER_SM and pdu.body.data_coding == 8
    assert pdu.body.short_message.decode("utf-16-be") == "库存 X100"
    esme.ack(pdu)

    handset = live.smsc.phonebook.get("13800000001")
    original = handset.add_listener

    def reply_once_polling(listener):  # the poll is registered: now the gateway replies
        original(listener)
        if listener.__name__ == "on_message":
            esme.submit("X100 库存 42".encode("utf-16-be"), data_coding=8, registered_delivery=0)

    handset.add_listener = reply_once_polling
    code, data = yield http("GET", base + "/phones/13800000001/messages?after=0&wait=20")
    assert [m["text"] for m in data["messages"]] == ["X100 库存 42"]
    code, status = yield http("GET", base + "/status")
    assert status["counters"]["mos_acked"] == 1 and status["counters"]["handset_messages"] == 1
